"""On PostgreSQL, refuse UPDATE and DELETE on ledger entries in the database itself (append-only).

TRUNCATE (used by test teardown and a deliberate reset) is not a row operation and is not blocked. SQLite
keeps the guard in the services and the model only.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'points_ledgerentry is append-only (' || TG_OP || ' refused)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_ledger_append_only BEFORE UPDATE OR DELETE ON points_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS points_ledger_append_only ON points_ledgerentry;
DROP FUNCTION IF EXISTS points_ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
