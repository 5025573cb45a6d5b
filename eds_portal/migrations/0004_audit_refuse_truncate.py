"""PostgreSQL also refuses TRUNCATE on the audit trail, which the row trigger does not see.

The test suite empties tables between transactional tests with TRUNCATE: its connections set
``eds.allow_audit_truncate = on`` (eds_portal/settings.py, DJANGO_ENV=test only). In production
the portal's database role should not own the table either (README).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION eds_audit_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('eds.allow_audit_truncate', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'eds_portal_auditevent is append-only: TRUNCATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER eds_audit_no_truncate
    BEFORE TRUNCATE ON eds_portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION eds_audit_refuse_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS eds_audit_no_truncate ON eds_portal_auditevent;
DROP FUNCTION IF EXISTS eds_audit_refuse_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("eds_portal", "0003_audit_append_only_trigger")]

    operations = [migrations.RunPython(forwards, backwards)]
