"""One group per role of docs/architecture.md; names are the Role values."""

from django.db import migrations

ROLE_NAMES = [
    "researcher",
    "secretariat",
    "commission_member",
    "patient_representative",
    "chair",
    "identity_officer",
    "data_steward",
    "dpo",
    "auditor",
]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [("eds_portal", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, delete_groups)]
