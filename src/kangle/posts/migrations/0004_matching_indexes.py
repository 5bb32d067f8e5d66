"""Indexes on the members app's tables that matching reads (members-for-post runs over every approved member in
a street). They belong to the matching, so the posts app creates them: a partial covering index on approved
members by community (an index-only scan gives community, availability, estate and micro-grid without touching
the wide, encrypted rows), and willingness by aspect."""

from django.db import migrations

MEMBER_INDEX = "posts_match_member_idx"
WILLING_INDEX = "posts_match_willing_idx"


def create(apps, schema_editor):
    member = apps.get_model("members", "Member")._meta.db_table
    willing = apps.get_model("members", "MemberWillingness")._meta.db_table
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {MEMBER_INDEX} ON {member} (community_id) "
            "INCLUDE (id, availability, estate_id, microgrid_id) WHERE status = 'approved'"
        )
    else:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {MEMBER_INDEX} ON {member} (community_id, status, availability, estate_id, "
            "microgrid_id)"
        )
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {WILLING_INDEX} ON {willing} (aspect, member_id)")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {MEMBER_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {WILLING_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("posts", "0003_post_last_day"), ("members", "0002_seed_skills")]
    operations = [migrations.RunPython(create, drop)]
