"""The portal's reads on a generated warehouse, and the warehouse key's discretion there."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext

from warehouse import disclosure
from warehouse.cohort import CohortCriteria, feasibility_count, feasibility_visits
from warehouse.models import Person, PersonRecordKey, VisitOccurrence
from warehouse.selectors import fill_rates

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

SECRET = "test-warehouse-key-that-must-never-leak-7f3a9c"


@pytest.fixture
def generated(settings):
    settings.EDS_WAREHOUSE_KEY = SECRET
    with (
        CaptureQueriesContext(connections["warehouse"]) as warehouse_sql,
        CaptureQueriesContext(connections["vault"]) as vault_sql,
    ):
        call_command("generate_warehouse", size="XXS", seed=3, verbosity=0)
    return warehouse_sql, vault_sql


def test_the_key_is_in_no_sql_text_and_no_column(generated):
    warehouse_sql, vault_sql = generated
    for query in [*warehouse_sql.captured_queries, *vault_sql.captured_queries]:
        assert SECRET not in query["sql"]
    for alias in ("warehouse", "vault"):
        with connections[alias].cursor() as cursor:
            for table in connections[alias].introspection.table_names(cursor):
                if table == "django_migrations":
                    continue
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own table names)
                for row in cursor.fetchall():
                    assert SECRET not in " ".join(str(value) for value in row), table


def test_if_empty_loads_once(generated, capsys):
    persons = Person.objects.count()
    call_command("generate_warehouse", size="XXS", seed=4, if_empty=True)
    assert "nothing to do" in capsys.readouterr().out
    assert Person.objects.count() == persons


def test_feasibility_and_fill_rates_on_generated_data(generated):
    total = VisitOccurrence.objects.count()
    # generate_warehouse drew every person's record key; counts are perturbed and rounded.
    assert PersonRecordKey.objects.count() == Person.objects.count()
    assert disclosure.measure(feasibility_visits(CohortCriteria())).visits == total
    everything = feasibility_count(CohortCriteria())
    assert abs(int(everything.visits) - total) <= disclosure.MAX_PERTURBATION + 2
    children = feasibility_count(CohortCriteria(age_max=5))
    elderly = feasibility_count(CohortCriteria(age_min=75))
    assert int(children.visits) > 11
    assert int(elderly.visits) > 11
    # Every association's département narrows the count, and the parts add up.
    site = (
        VisitOccurrence.objects.exclude(care_site=None)
        .values_list("care_site__location__county", flat=True)
        .first()
    )
    local = feasibility_count(CohortCriteria(departements=(site,)))
    assert 0 < int(local.visits.replace("< ", "")) <= total
    rates = fill_rates(refresh=True).rates
    assert rates["visit.start"] == 1.0
    assert rates["call.reason"] == 1.0
    assert rates["outcome.kind"] == 1.0
    assert 0 < rates["act.start"] < 1  # advice and SAMU transfers have no medical act
    assert 0 < rates["vitals.temperature"] <= 1


# Standard concepts (docs/vocabularies.md): what an OHDSI tool reads, joined to the concept table.
STANDARD_COLUMNS = (
    ("condition_occurrence", "condition_concept_id", "Condition"),
    ("drug_exposure", "drug_concept_id", "Drug"),
    ("death", "cause_concept_id", "Condition"),
)


def test_the_concept_table_holds_every_standard_concept_the_rows_reference(generated):
    with connections["warehouse"].cursor() as cursor:
        for table, column, domain in STANDARD_COLUMNS:
            cursor.execute(
                f"SELECT count(*) FROM {table} t LEFT JOIN concept c ON c.concept_id = t.{column} "  # noqa: S608
                f"WHERE t.{column} <> 0 AND (c.concept_id IS NULL OR c.standard_concept <> 'S' "
                "OR c.domain_id <> %s)",
                [domain],
            )
            assert cursor.fetchone()[0] == 0, table
        # A SNOMED concept finds the diagnoses of the ICD-10 code that maps to it.
        cursor.execute(
            "SELECT c.vocabulary_id, count(*) FROM condition_occurrence t "
            "JOIN concept c ON c.concept_id = t.condition_concept_id "
            "WHERE c.standard_concept = 'S' GROUP BY c.vocabulary_id"
        )
        found = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM drug_exposure t "
            "JOIN concept c ON c.concept_id = t.drug_concept_id "
            "WHERE c.vocabulary_id = 'RxNorm' AND c.concept_class_id = 'Ingredient'"
        )
        ingredients = cursor.fetchone()[0]
    assert set(found) == {"SNOMED"}
    assert found["SNOMED"] > 0
    assert ingredients > 0
