
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('notify', '0003_inbox_notices_through_outbox'),
        ('notify', '0003_login_code'),
    ]

    operations = [
    ]
