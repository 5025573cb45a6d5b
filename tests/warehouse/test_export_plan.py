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
        ((("diagnosis.date", "shifted_hour"),), "cannot be delivered as"),
        ((("death.date", "shifted_minute"),), "cannot be delivered as"),
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
        if variable.table in SUPPORTED_TABLES
    ]
    every = [
        (code, "scrubbed" if catalogue.BY_CODE[code].sensitivity == Sensitivity.FREE_TEXT else how)
        for code, how in every
    ]
    plan = build_plan(spec(*every))
    names = {column.name for table in plan.tables for column in table.columns if not column.link}
    assert names == {column_name(code) for code, _how in every} - {"person_pseudonym"}
    links = {column.name for table in plan.tables for column in table.columns if column.link}
    assert links == {"person_pseudonym", "visit_pseudonym", "care_site_pseudonym"}
    sql = " ".join(
        column.pg + column.raw for table in plan.tables for column in table.columns
    ) + " ".join(join for table in plan.tables for join in table.joins)
    assert "person_source_value" not in sql
    assert "vault" not in sql
    assert "note_title" not in sql


def test_shared_tables_select_rows_by_concept():
    plan = build_plan(spec(("vitals.temperature", "exact"), ("vitals.spo2", "exact")))
    person, measurement = plan.tables
    assert (person.table, measurement.table) == ("person", "measurement")
    assert " OR " in measurement.row_filter
    values = [column for column in measurement.columns if not column.link]
    assert all(column.pg.startswith("CASE WHEN") for column in values)
    _person, single = build_plan(spec(("vitals.temperature", "exact"))).tables
    assert not single.columns[-1].pg.startswith("CASE")
    assert "measurement_concept_id IN" in single.row_filter


@pytest.mark.parametrize("with_pseudonym", [True, False])
def test_pseudonyms_link_every_table_whether_requested_or_not(with_pseudonym):
    entries = [("diagnosis.icpc2", "exact"), ("association.departement", "region")]
    if with_pseudonym:
        entries.insert(0, ("person.pseudonym", "exact"))
    plan = build_plan(spec(*entries))
    columns = {table.table: [c.name for c in table.columns] for table in plan.tables}
    assert columns == {
        "person": ["person_pseudonym"],
        "condition_occurrence": ["person_pseudonym", "visit_pseudonym", "diagnosis_icpc2"],
        "care_site": ["care_site_pseudonym", "association_departement"],
    }


def test_no_warehouse_id_leaves_for_doctors_associations_or_episodes():
    plan = build_plan(
        spec(
            ("visit.doctor", "exact"),
            ("visit.association", "exact"),
            ("visit.preceding", "exact"),
        )
    )
    visits = plan.table("visit_occurrence")
    by_name = {column.name: column for column in visits.columns}
    assert by_name["visit_doctor"].pg == "p_doc.pseudonym"
    assert by_name["visit_association"].pg == "s_pse.pseudonym"
    # The episode ids are keyed in SQL with bind parameters, never with the key in the text.
    for name in ("visit_pseudonym", "visit_preceding"):
        assert "%(visit_i)s" in by_name[name].pg
        assert "eds_pseudonym('visit'" in by_name[name].raw


@pytest.mark.parametrize(
    ("how", "kind"),
    [
        ("shifted_date", "date"),
        ("shifted_hour", "timestamp"),
        ("shifted_minute", "timestamp"),
        ("week", "text"),
        ("month", "text"),
    ],
)
def test_every_date_is_computed_on_the_shifted_date(how, kind):
    plan = build_plan(spec(("visit.end", how)))
    column = plan.table("visit_occurrence").columns[-1]
    assert column.kind == kind
    assert "m.shift_days" in column.pg
    assert column.transform is not None


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
