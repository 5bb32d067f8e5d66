"""Case numbers from a database sequence, and the version of the intake reference data.

PostgreSQL: the sequence ``cases_case_number_seq`` (``nextval`` never hands out a value twice, whatever
the concurrency). SQLite has no sequences: a one-row counter table, incremented with ``UPDATE …
RETURNING`` inside the case's transaction (SQLite lets one writer in at a time, so no two transactions can
read the same value). Both continue from the highest case id, so new numbers follow the existing ones.

``cases_reference_version`` is bumped by every change to categories, policies, milestones and questions;
processes compare it to drop their cached copy (``kangle.cases.reference_cache``).
"""

from django.db import migrations


def forward(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM cases_case")
        (highest,) = cursor.fetchone()
        if connection.vendor == "postgresql":
            cursor.execute("CREATE SEQUENCE IF NOT EXISTS cases_case_number_seq")
            cursor.execute("SELECT setval('cases_case_number_seq', %s, %s)", [max(highest, 1), highest > 0])
        else:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS cases_case_number_counter "
                "(id INTEGER PRIMARY KEY, value BIGINT NOT NULL)"
            )
            cursor.execute("DELETE FROM cases_case_number_counter")
            cursor.execute("INSERT INTO cases_case_number_counter (id, value) VALUES (1, %s)", [highest])
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS cases_reference_version (id INTEGER PRIMARY KEY, value BIGINT NOT NULL)"
        )
        cursor.execute("DELETE FROM cases_reference_version")
        cursor.execute("INSERT INTO cases_reference_version (id, value) VALUES (1, 0)")


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute("DROP SEQUENCE IF EXISTS cases_case_number_seq")
        else:
            cursor.execute("DROP TABLE IF EXISTS cases_case_number_counter")
        cursor.execute("DROP TABLE IF EXISTS cases_reference_version")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_merge_masks")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
