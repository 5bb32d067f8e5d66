from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_sessions"),
        ("accounts", "0004_merge_large_type_and_one_time_codes"),
    ]

    operations = []
