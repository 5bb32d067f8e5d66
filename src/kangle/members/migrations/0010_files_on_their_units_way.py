"""Files whose community no longer holds their unit (the unit moved before a move took its files along)
are placed again as a move now places them (``members.placement``). Files with no community above their
unit at all are left as they are, for a person to place."""

from django.db import migrations

from kangle.members.placement import PLACES, places_on_the_way


def place_again(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    OrgUnit = apps.get_model("orgs", "OrgUnit")
    units = {path: (pk, kind) for pk, path, kind in OrgUnit.objects.values_list("pk", "path", "kind")}
    path_of = {pk: path for path, (pk, _kind) in units.items()}
    fields = [f"{field}_id" for field, _kind in PLACES]
    for row in Member.objects.values("pk", "org_id", *fields).iterator(chunk_size=5000):
        org_path = path_of[row["org_id"]]
        if org_path.startswith(path_of[row["community_id"]]):
            continue  # in place
        codes = [code for code in org_path.split("/") if code]
        prefixes = ["/" + "/".join(codes[: depth + 1]) + "/" for depth in range(len(codes))]
        way_up = {units[prefix][0]: units[prefix][1] for prefix in prefixes if prefix in units}
        current = {field: row[f"{field}_id"] for field, _kind in PLACES}
        placed = places_on_the_way(way_up, current)
        if placed["community"] is not None and placed != current:
            Member.objects.filter(pk=row["pk"]).update(**{f"{field}_id": pk for field, pk in placed.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0009_list_indexes"),
        ("orgs", "0002_care_home_venue_kind"),
    ]

    operations = [migrations.RunPython(place_again, migrations.RunPython.noop)]
