"""(PostgreSQL) The units of a subtree read from one index: their path's prefix index holds their id and kind.

A capped count of cases on PostgreSQL starts from the units under a path (``path LIKE '/XH/XH-HN/%'``) and
tests each case's unit against that list of ids; the to-do home counts the units of each kind under it. At
street scale (a street's 347 units of 1,566) the planner read the whole unit table for them (0.09 ms a
statement, vacuumed and warm), against 0.03–0.04 for an index-only scan of this index;
at city scale it read the prefix index and then the table. This index answers every prefix query the
prefix index Django makes for a unique ``CharField`` (``…_like``) answered, so that one is dropped.
SQLite has no INCLUDE, and needs none: its index on ``path`` holds the row id already.
"""

from django.db import migrations

TABLE = "orgs_orgunit"
INDEX = "orgs_unit_path_cover_idx"


def _like_index(schema_editor) -> str:
    # The name Django gives the prefix index of a unique CharField (``…_like``), as its schema editor makes it.
    return schema_editor._create_index_name(TABLE, ["path"], suffix="_like")


def _replace(schema_editor, create: str, dropped: str) -> None:
    """Create one index, then drop the other (PostgreSQL only)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(create)
    schema_editor.execute(f"DROP INDEX IF EXISTS {dropped}")


def create_index(apps, schema_editor):
    _replace(
        schema_editor,
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {TABLE} (path varchar_pattern_ops) INCLUDE (id, kind)",
        _like_index(schema_editor),
    )


def drop_index(apps, schema_editor):
    like = _like_index(schema_editor)
    _replace(schema_editor, f"CREATE INDEX IF NOT EXISTS {like} ON {TABLE} (path varchar_pattern_ops)", INDEX)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0002_care_home_venue_kind")]

    operations = [migrations.RunPython(create_index, drop_index)]
