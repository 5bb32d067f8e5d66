
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_case_masks_and_open_list_index'),
        ('cases', '0006_merge_rework_and_policy_versions'),
    ]

    operations = [
    ]
