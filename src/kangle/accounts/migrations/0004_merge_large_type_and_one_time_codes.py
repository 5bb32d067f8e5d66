
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_one_time_code_and_forced_change'),
        ('accounts', '0003_user_large_type'),
    ]

    operations = [
    ]
