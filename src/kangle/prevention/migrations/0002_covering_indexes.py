"""Grouping columns written with each warning, and (PostgreSQL) covering indexes for the period analysis.

``occurred_on`` (the local date) and ``cell_lat`` / ``cell_lng`` (the ~100 m grid cell) let the analysis
group by plain columns. On PostgreSQL the covering indexes include every column the analysis reads, so each
aggregate is an index-only scan instead of visiting the table's pages in random order. SQLite has no
INCLUDE; it keeps the plain indexes declared on the model.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models
from django.utils import timezone

INCLUDE = "INCLUDE (place_type, community_id, occurred_on, cell_lat, cell_lng)"
INDEXES = [
    ("prev_warning_time_cover_idx", f"(occurred_at) {INCLUDE}"),
    ("prev_warning_path_time_cover_idx", f"(org_path varchar_pattern_ops, occurred_at) {INCLUDE}"),
]


def _cell(value):
    if value is None:
        return None
    return int(Decimal(value).scaleb(3).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "UPDATE prevention_warning SET occurred_on = (occurred_at AT TIME ZONE %s)::date, "
            "cell_lat = ROUND(latitude * 1000)::integer, cell_lng = ROUND(longitude * 1000)::integer",
            [str(timezone.get_default_timezone())],
        )
        return
    Warning = apps.get_model("prevention", "Warning")
    for warning in Warning.objects.all().iterator():
        Warning.objects.filter(pk=warning.pk).update(
            occurred_on=timezone.localtime(warning.occurred_at).date(),
            cell_lat=_cell(warning.latitude),
            cell_lng=_cell(warning.longitude),
        )


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON prevention_warning {columns}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("prevention", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="warning", name="occurred_on", field=models.DateField(editable=False, null=True)
        ),
        migrations.AddField(
            model_name="warning", name="cell_lat", field=models.IntegerField(editable=False, null=True)
        ),
        migrations.AddField(
            model_name="warning", name="cell_lng", field=models.IntegerField(editable=False, null=True)
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(model_name="warning", name="occurred_on", field=models.DateField(editable=False)),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
