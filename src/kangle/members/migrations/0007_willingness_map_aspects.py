"""Member willingness points at the catalogue's aspect table (step 2 of 3): map each stored aspect code to the
catalogue row with that code. One UPDATE per aspect through the ORM, so it runs the same on SQLite and
PostgreSQL. A code the catalogue does not hold stops the migration with the codes named, rather than
dropping a member's wish silently."""

from django.db import migrations


def forwards(apps, schema_editor):
    Willingness = apps.get_model("members", "MemberWillingness")
    Aspect = apps.get_model("posts", "ServiceAspect")
    for pk, code in Aspect.objects.values_list("pk", "code"):
        Willingness.objects.filter(aspect=code).update(aspect_ref_id=pk)
    unknown = sorted(set(Willingness.objects.filter(aspect_ref__isnull=True).values_list("aspect", flat=True)))
    if unknown:
        raise RuntimeError(f"Willingness rows name aspects missing from the catalogue: {', '.join(unknown)}")


def backwards(apps, schema_editor):
    Willingness = apps.get_model("members", "MemberWillingness")
    Aspect = apps.get_model("posts", "ServiceAspect")
    for pk, code in Aspect.objects.values_list("pk", "code"):
        Willingness.objects.filter(aspect_ref_id=pk).update(aspect=code)


class Migration(migrations.Migration):
    dependencies = [("members", "0006_willingness_aspect_ref")]

    operations = [migrations.RunPython(forwards, backwards)]
