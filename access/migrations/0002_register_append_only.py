"""On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE of the opposition
register (OPP-14); SQLite (the demo) relies on the model and queryset guards. The counter row
is created here so that every register write can lock it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION access_register_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access_registerentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_register_append_only
    BEFORE UPDATE OR DELETE ON access_registerentry
    FOR EACH ROW EXECUTE FUNCTION access_register_refuse_change();

-- The test suite empties tables with TRUNCATE under eds.allow_audit_truncate (settings, test
-- environment only), as for the audit trail (eds_portal migration 0004).
CREATE OR REPLACE FUNCTION access_register_refuse_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('eds.allow_audit_truncate', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'access_registerentry is append-only: TRUNCATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER access_register_no_truncate
    BEFORE TRUNCATE ON access_registerentry
    FOR EACH STATEMENT EXECUTE FUNCTION access_register_refuse_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS access_register_append_only ON access_registerentry;
DROP TRIGGER IF EXISTS access_register_no_truncate ON access_registerentry;
DROP FUNCTION IF EXISTS access_register_refuse_change();
DROP FUNCTION IF EXISTS access_register_refuse_truncate();
"""


def forwards(apps, schema_editor):
    apps.get_model("access", "RegisterCounter").objects.using(
        schema_editor.connection.alias
    ).get_or_create(pk=1, defaults={"last_number": 0})
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("access", "0001_opposition_register")]

    operations = [migrations.RunPython(forwards, backwards)]
