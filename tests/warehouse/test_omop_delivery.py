"""An OMOP-shaped delivery (issue 19, item 4): OMOP CDM v5.4 tables and fields, integer keys
that join, concept ids and source values, a cdm_source row; checked against the official
field list (``warehouse/data/omop_cdm54_fields.csv``, compared with OHDSI's file elsewhere)."""

from __future__ import annotations

import csv

import pyarrow.parquet as pq
import pytest

from warehouse.export import ExportRequest, export_dataset, omop, pseudonym
from warehouse.models import Person, VisitOccurrence

from .export_helpers import KEY, OTHER_KEY, spec

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

OMOP_SPEC = {
    **spec(
        ("person.sex", "exact"),
        ("person.birth_date", "five_year_band"),
        ("person.residence", "departement"),
        ("observation_period.start", "month"),
        ("visit.kind", "exact"),
        ("visit.start", "shifted_hour"),
        ("visit.end", "week"),
        ("visit.doctor", "exact"),
        ("visit.association", "exact"),
        ("visit.preceding", "exact"),
        ("call.received", "shifted_date"),
        ("act.start", "shifted_minute"),
        ("call.reason", "exact"),
        ("call.priority", "exact"),
        ("diagnosis.icd10", "exact"),
        ("diagnosis.date", "shifted_date"),
        ("prescription.atc", "exact"),
        ("prescription.quantity", "exact"),
        ("procedure.code", "exact"),
        ("vitals.temperature", "exact"),
        ("vitals.heart_rate", "exact"),
        ("call.notes", "scrubbed"),
        ("death.date", "shifted_date"),
        ("association.departement", "region"),
    ),
    "delivery_shape": "omop",
}


def _deliver(tmp_path, key=KEY, name="omop", parts=2):
    request = ExportRequest(
        specification=OMOP_SPEC, key=key, quasi_identifiers=(), decision_number="CSE-2026-014"
    )
    manifest = export_dataset(request, target=tmp_path / name, parts=parts)
    return tmp_path / name, manifest


def _required_not_approved() -> set[tuple[str, str]]:
    """Required OMOP fields that no approved variable of OMOP_SPEC fills: left null on purpose
    (the commission approved variables, not OMOP's required fields). Every other required field
    must be filled: the check reports a required field that is empty on every line."""
    return {
        ("drug_exposure", "drug_exposure_start_date"),  # prescription.date not approved
        ("drug_exposure", "drug_exposure_end_date"),
        ("measurement", "measurement_date"),  # no date variable for measurements
        ("observation", "observation_date"),
        ("procedure_occurrence", "procedure_date"),  # procedure.date not approved
        ("observation_period", "observation_period_end_date"),  # only the start approved
        ("visit_detail", "visit_detail_end_date"),  # call.ended / act.end not approved
        ("note", "note_date"),
        ("note", "note_class_concept_id"),  # no shipped concept for these three
        ("note", "encoding_concept_id"),
        ("note", "language_concept_id"),
    }


def test_an_omop_delivery_passes_the_field_list_check(warehouse_rows, tmp_path):
    folder, _manifest = _deliver(tmp_path)
    tables = {path.stem for path in folder.glob("*.csv")} - {"data_dictionary", "value_labels"}
    assert tables == {
        "person",
        "observation_period",
        "visit_occurrence",
        "visit_detail",
        "condition_occurrence",
        "drug_exposure",
        "procedure_occurrence",
        "measurement",
        "observation",
        "note",
        "death",
        "care_site",
        "provider",
        "location",
        "concept",
        "cdm_source",
    }
    for table in tables:
        header = (folder / f"{table}.csv").read_text().splitlines()[0].split(",")
        assert header == [field.name for field in omop.fields(table)], table
        assert pq.read_schema(folder / f"{table}.parquet").names == header
    # Only the data files: the dictionary is not an OMOP table.
    check = folder / "check"
    check.mkdir()
    for table in tables:
        (check / f"{table}.csv").write_bytes((folder / f"{table}.csv").read_bytes())
    problems = omop.check_folder(check, allowed_null=_required_not_approved())
    assert problems == []
    (cdm_source,) = pq.read_table(folder / "cdm_source.parquet").to_pylist()
    assert cdm_source["cdm_version"] == "v5.4"
    assert "CSE-2026-014" in cdm_source["source_description"]


def test_omop_keys_join_and_carry_the_pseudonyms(warehouse_rows, tmp_path):
    folder, _manifest = _deliver(tmp_path)
    read = {path.stem: pq.read_table(path).to_pylist() for path in folder.glob("*.parquet")}
    persons = {row["person_id"]: row for row in read["person"]}
    assert len(persons) == len(read["person"]) == Person.objects.count()
    expected = {
        pseudonym(KEY, key) for key in Person.objects.values_list("person_source_value", flat=True)
    }
    assert {row["person_source_value"] for row in read["person"]} == expected
    visits = {row["visit_occurrence_id"]: row for row in read["visit_occurrence"]}
    assert len(visits) == VisitOccurrence.objects.count()
    for table in (
        "visit_detail",
        "condition_occurrence",
        "drug_exposure",
        "measurement",
        "observation",
        "note",
        "procedure_occurrence",
    ):
        rows = read[table]
        assert rows, table
        own = f"{table}_id"
        assert len({row[own] for row in rows}) == len(rows), table  # unique across parts
        for row in rows:
            assert visits[row["visit_occurrence_id"]]["person_id"] == row["person_id"], table
    preceding = {row["preceding_visit_occurrence_id"] for row in visits.values()} - {None}
    assert preceding
    assert preceding <= set(visits)
    providers = {row["provider_id"] for row in read["provider"]}
    sites = {row["care_site_id"] for row in read["care_site"]}
    assert {row["provider_id"] for row in visits.values()} - {None} <= providers
    assert {row["care_site_id"] for row in visits.values()} - {None} <= sites
    # Concept ids and source values side by side; the type concept OMOP requires.
    conditions = read["condition_occurrence"]
    assert all(row["condition_source_value"] for row in conditions)
    assert all(row["condition_source_concept_id"] >= 2_000_000_000 for row in conditions)
    assert {row["condition_type_concept_id"] for row in conditions} == {32817}
    concepts = {row["concept_id"] for row in read["concept"]}
    assert {row["visit_concept_id"] for row in visits.values()} <= concepts
    # Times: the hour of the visit start (approved), the minute of the act start.
    assert all(row["visit_start_datetime"].minute == 0 for row in visits.values())
    assert all(row["visit_end_datetime"] is None for row in visits.values())
    # A 5-year band is the band's first year.
    assert all(row["year_of_birth"] % 5 == 0 for row in persons.values())
    with (folder / "location.csv").open() as handle:
        locations = {int(row["location_id"]) for row in csv.DictReader(handle)}
    assert {row["location_id"] for row in persons.values()} <= locations


def test_omop_ids_do_not_link_two_projects(warehouse_rows, tmp_path):
    one, _ = _deliver(tmp_path, KEY, "one", parts=1)
    two, _ = _deliver(tmp_path, OTHER_KEY, "two", parts=1)
    for table, column in (("person", "person_source_value"), ("provider", "provider_source_value")):
        first = set(pq.read_table(one / f"{table}.parquet").column(column).to_pylist())
        second = set(pq.read_table(two / f"{table}.parquet").column(column).to_pylist())
        assert not first & second, table
