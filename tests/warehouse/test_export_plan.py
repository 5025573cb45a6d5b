"""The plan of a dataset: only approved variables, never a direct identifier (MIN-01, MIN-02)."""

from __future__ import annotations

import pytest

from warehouse import catalogue
from warehouse.catalogue import Sensitivity
from warehouse.export import SpecificationError, build_plan
from warehouse.export.plan import SUPPORTED_TABLES, column_name

# The assertions read the English messages (the msgids).
pytestmark = pytest.mark.usefixtures("english")


def spec(*entries):
    return {"variables": [{"code": code, "generalisation": how} for code, how in entries]}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ((), "lists no variable"),
        ((("person.shoe_size", "exact"),), "not a variable of the catalogue"),
        ((("identity.nir", "excluded"),), "direct identifier"),
        ((("person.internal_key", "excluded"),), "direct identifier"),
        ((("person.birth_date", "exact"),), "cannot be delivered as"),
        ((("visit.start", "year"),), "cannot be delivered as"),
        ((("call.notes", "exact"),), "cannot be delivered as"),
        ((("visit.kind", "exact"), ("visit.kind", "exact")), "listed twice"),
        ((("call.notes", "excluded"),), "nothing to deliver"),
        ((("visit.preceding", "exact"),), "cannot be delivered by the export engine yet"),
    ],
)
def test_refused_specifications(entries, message):
    with pytest.raises(SpecificationError, match=message):
        build_plan(spec(*entries))


def test_a_variable_must_come_from_where_the_catalogue_says():
    specification = spec(("visit.kind", "exact"))
    specification["variables"][0]["column"] = "person_source_value"
    with pytest.raises(SpecificationError, match="does not come from"):
        build_plan(specification)


def test_columns_are_the_approved_variables_and_nothing_else():
    every = [
        (variable.code, variable.default)
        for variable in catalogue.exportable_variables()
        if variable.table in SUPPORTED_TABLES and variable.code != "visit.preceding"
    ]
    every = [
        (code, "scrubbed" if catalogue.BY_CODE[code].sensitivity == Sensitivity.FREE_TEXT else how)
        for code, how in every
    ]
    plan = build_plan(spec(*every))
    names = {column.name for table in plan.tables for column in table.columns}
    assert names == {column_name(code) for code, _how in every}
    sql = " ".join(
        column.pg + column.raw for table in plan.tables for column in table.columns
    ) + " ".join(join for table in plan.tables for join in table.joins)
    assert "person_source_value" not in sql
    assert "vault" not in sql
    assert "note_title" not in sql


def test_shared_tables_select_rows_by_concept():
    plan = build_plan(spec(("vitals.temperature", "exact"), ("vitals.spo2", "exact")))
    (measurement,) = plan.tables
    assert measurement.table == "measurement"
    assert " OR " in measurement.row_filter
    assert all(column.pg.startswith("CASE WHEN") for column in measurement.columns)
    (single,) = build_plan(spec(("vitals.temperature", "exact"))).tables
    assert not single.columns[0].pg.startswith("CASE")
    assert "measurement_concept_id IN" in single.row_filter


def test_pseudonym_links_every_person_table():
    plan = build_plan(
        spec(
            ("person.pseudonym", "exact"),
            ("diagnosis.icpc2", "exact"),
            ("association.departement", "region"),
        )
    )
    columns = {table.table: [c.name for c in table.columns] for table in plan.tables}
    assert columns == {
        "person": ["person_pseudonym"],
        "condition_occurrence": ["person_pseudonym", "diagnosis_icpc2"],
        "care_site": ["association_departement"],
    }


def test_quasi_identifiers_default_to_the_catalogue():
    plan = build_plan(
        spec(("person.sex", "exact"), ("person.birth_date", "year"), ("visit.start", "week"))
    )
    assert [c.code for c in plan.person_quasi_identifiers] == ["person.sex", "person.birth_date"]
    assert plan.event_quasi_identifiers == ("visit.start",)
    assert (
        build_plan(spec(("person.sex", "exact")), quasi_identifiers=()).person_quasi_identifiers
        == ()
    )
