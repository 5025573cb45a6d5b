"""Loads the curated code lists shipped in warehouse/data/concepts.csv (no download)."""

import csv
import datetime
from pathlib import Path

from django.db import migrations

CONCEPTS = Path(__file__).resolve().parent.parent / "data" / "concepts.csv"


def load(apps, schema_editor):
    Concept = apps.get_model("warehouse", "Concept")
    alias = schema_editor.connection.alias
    with CONCEPTS.open(encoding="utf-8", newline="") as handle:
        rows = [
            Concept(
                concept_id=int(row["concept_id"]),
                concept_name=row["name_en"][:255],
                domain_id=row["domain_id"],
                vocabulary_id=row["vocabulary_id"],
                concept_class_id=row["concept_class_id"],
                standard_concept=row["standard_concept"],
                concept_code=row["concept_code"],
                valid_start_date=datetime.date(1970, 1, 1),
                valid_end_date=datetime.date(2099, 12, 31),
                name_fr=row["name_fr"][:255],
                name_en=row["name_en"][:255],
            )
            for row in csv.DictReader(handle)
        ]
    Concept.objects.using(alias).bulk_create(rows, batch_size=1000)


def unload(apps, schema_editor):
    apps.get_model("warehouse", "Concept").objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0001_omop_schema_and_vault")]

    operations = [migrations.RunPython(load, unload, hints={"database": "warehouse"})]
