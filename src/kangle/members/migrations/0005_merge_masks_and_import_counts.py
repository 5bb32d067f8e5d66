from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0004_import_error_counts"),
        ("members", "0004_member_phone_mask"),
    ]

    operations = []
