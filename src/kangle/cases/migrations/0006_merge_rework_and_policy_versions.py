
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_sla_policy_versions'),
        ('cases', '0005_open311_questions_answers_media'),
    ]

    operations = [
    ]
