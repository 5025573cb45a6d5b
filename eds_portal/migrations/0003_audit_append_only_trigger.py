"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit trail (LOG-04).

SQLite (the demo) relies on the model and queryset guards; the chain verification catches
anything done behind their back.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION eds_audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'eds_portal_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER eds_audit_append_only
    BEFORE UPDATE OR DELETE ON eds_portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION eds_audit_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS eds_audit_append_only ON eds_portal_auditevent;
DROP FUNCTION IF EXISTS eds_audit_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("eds_portal", "0002_role_groups")]

    operations = [migrations.RunPython(forwards, backwards)]
