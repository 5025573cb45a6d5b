"""On PostgreSQL the database itself refuses to change or delete a decision or a vote (GOV-11).

SQLite (the demo) relies on the models' guards.
"""

from django.db import migrations

TABLES = ("projects_decision", "projects_vote")

CREATE = """
CREATE OR REPLACE FUNCTION eds_refuse_change_of_record() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is immutable: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION eds_refuse_change_of_record();",
            params=None,
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS eds_refuse_change_of_record();", params=None)


class Migration(migrations.Migration):
    dependencies = [("projects", "0005_commission_review")]

    operations = [migrations.RunPython(forwards, backwards)]
