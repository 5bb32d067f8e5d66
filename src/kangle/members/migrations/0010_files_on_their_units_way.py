"""Files placed as a unit's move now places them (``members.placement``): a unit moved before moves took
its files along left them naming a community, estate or micro-grid no longer on their unit's way up. The
member's role at the community follows the file. Files with no community above their unit at all are left
as they are, for a person to place."""

from django.db import migrations

from kangle.members.placement import PLACE_COLUMNS, follow_role, places_of, places_on_the_way


def place_again(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    OrgUnit = apps.get_model("orgs", "OrgUnit")
    RoleAssignment = apps.get_model("accounts", "RoleAssignment")
    units = {code: (pk, kind) for code, pk, kind in OrgUnit.objects.values_list("code", "pk", "kind")}
    path_of = dict(OrgUnit.objects.values_list("pk", "path"))
    moved = []
    for row in Member.objects.values("pk", "user_id", "org_id", *PLACE_COLUMNS).iterator(chunk_size=5000):
        placed = places_on_the_way(path_of[row["org_id"]], units)
        if placed["community"] is not None and placed != places_of(row):
            moved.append((row, placed))
    for row, placed in moved:
        Member.objects.filter(pk=row["pk"]).update(**{f"{field}_id": pk for field, pk in placed.items()})
        if row["user_id"] and placed["community"] != row["community_id"]:
            follow_role(RoleAssignment.objects, row["user_id"], row["community_id"], placed["community"])


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0009_list_indexes"),
        ("orgs", "0002_care_home_venue_kind"),
        ("accounts", "0006_user_language"),
    ]

    operations = [migrations.RunPython(place_again, migrations.RunPython.noop)]
