from django.db import migrations


def forwards(apps, schema_editor):
    from kangle.cases.defaults import seed

    seed(apps.get_model("cases", "SlaPolicy"), apps.get_model("cases", "Milestone"), apps.get_model("cases", "CaseCategory"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
