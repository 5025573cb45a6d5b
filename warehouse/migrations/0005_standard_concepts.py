"""Standard concepts for the shipped code lists (docs/vocabularies.md).

Adds to ``concept`` the OMOP standard concepts (SNOMED conditions, RxNorm ingredients) that
warehouse/data/concept_maps.csv maps ICD-10 and ATC codes to, when they are not there yet (a
database created after this change already has them from 0002, which loads concepts.csv as it
is), then gives the rows already in the warehouse their standard concept: a row coded with a
mapped code and still at 0 ("no matching concept") gets the code's standard concept id. Codes
without a mapping keep 0 and their source value.

Reads the shipped files as they are when it runs, as 0002 does. Reversing it puts the rows back
to 0 and removes the SNOMED and RxNorm concepts.
"""

import csv
import datetime
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"
STANDARD_VOCABULARIES = ("SNOMED", "RxNorm")
# (table, standard concept column, source concept column, source vocabulary)
CODED_COLUMNS = (
    ("condition_occurrence", "condition_concept_id", "condition_source_concept_id", "ICD10"),
    ("drug_exposure", "drug_concept_id", "drug_source_concept_id", "ATC"),
    ("death", "cause_concept_id", "cause_source_concept_id", "ICD10"),
)


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _pairs(vocabulary: str) -> list[tuple[int, int]]:
    """(source concept id, standard concept id) for the mapped codes of one vocabulary."""
    local = {
        row["concept_code"]: int(row["concept_id"])
        for row in _rows("concepts.csv")
        if row["vocabulary_id"] == vocabulary
    }
    return [
        (local[row["source_code"]], int(row["target_concept_id"]))
        for row in _rows("concept_maps.csv")
        if row["source_vocabulary_id"] == vocabulary and row["source_code"] in local
    ]


def _update(schema_editor, forward: bool) -> None:
    quote = schema_editor.connection.ops.quote_name
    with schema_editor.connection.cursor() as cursor:
        for table, column, source_column, vocabulary in CODED_COLUMNS:
            sql = (
                f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608 (names above)
                f"WHERE {quote(source_column)} = %s AND {quote(column)} = %s"
            )
            for source_id, standard_id in _pairs(vocabulary):
                if forward:
                    cursor.execute(sql, [standard_id, source_id, 0])
                else:
                    cursor.execute(sql, [0, source_id, standard_id])


def load(apps, schema_editor):
    Concept = apps.get_model("warehouse", "Concept")
    alias = schema_editor.connection.alias
    present = set(Concept.objects.using(alias).values_list("concept_id", flat=True))
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
        for row in _rows("concepts.csv")
        if row["vocabulary_id"] in STANDARD_VOCABULARIES and int(row["concept_id"]) not in present
    ]
    Concept.objects.using(alias).bulk_create(rows, batch_size=1000)
    _update(schema_editor, forward=True)


def unload(apps, schema_editor):
    _update(schema_editor, forward=False)
    Concept = apps.get_model("warehouse", "Concept")
    Concept.objects.using(schema_editor.connection.alias).filter(
        vocabulary_id__in=STANDARD_VOCABULARIES
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("warehouse", "0004_feasibility_disclosure")]

    operations = [migrations.RunPython(load, unload, hints={"database": "warehouse"})]
