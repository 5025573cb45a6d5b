"""Data catalogue (MIN-02, MIN-04, MIN-05, GOV-14) and feasibility counts (MIN-11)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache

from eds_portal.models import AuditEvent
from tests.conftest import login
from tests.warehouse import factories as wf
from warehouse import catalogue, disclosure
from warehouse.catalogue import Generalisation, Sensitivity
from warehouse.cohort import CohortCriteria, feasibility_count, feasibility_visits
from warehouse.models import FeasibilityCountLog

DBS = ["default", "warehouse"]
pytestmark = pytest.mark.django_db(databases=DBS)


@pytest.fixture(autouse=True)
def _fresh_fill_rates():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def small_warehouse():
    """Twelve women with bronchitis in Gironde in January, a man with otitis in the Rhône."""
    bordeaux, lyon = wf.care_site(1, "33"), wf.care_site(2, "69")
    for i in range(12):
        woman = wf.person(sex="F", born=1950 + i)
        wf.visit(woman, on=date(2025, 1, 10 + i), site=bordeaux, icpc2="R78", icd10="J20.9")
    man = wf.person(sex="M", born=2021)
    wf.visit(man, on=date(2025, 7, 1), kind="VIS_CENTRE", site=lyon, icpc2="H71", icd10="H66.9")
    wf.visit(man, on=date(2025, 7, 20), kind="VIS_CENTRE", site=lyon, icpc2="H71")


# --- Catalogue rules ----------------------------------------------------------------------------


def test_the_catalogue_has_at_least_forty_exportable_variables():
    assert len(catalogue.exportable_variables()) >= 40


def test_direct_identifiers_are_never_exportable():
    identifiers = [v for v in catalogue.VARIABLES if v.sensitivity == Sensitivity.DIRECT_IDENTIFIER]
    assert {v.code for v in identifiers} >= {
        "identity.birth_name",
        "identity.nir",
        "person.internal_key",
    }
    for variable in identifiers:
        assert not variable.exportable
        assert variable.generalisations == (Generalisation.EXCLUDED,)
    with pytest.raises(ValueError, match="direct identifier"):
        catalogue.Variable(
            "x",
            "person",
            "x",
            "x",
            "x",
            "x",
            "x",
            Sensitivity.DIRECT_IDENTIFIER,
            (Generalisation.EXACT,),
            Generalisation.EXACT,
        )


def test_generalisation_rules_by_kind_of_data():
    by_code = catalogue.BY_CODE
    assert set(by_code["person.birth_date"].generalisations) == {
        Generalisation.YEAR,
        Generalisation.FIVE_YEAR_BAND,
    }
    assert set(by_code["person.residence"].generalisations) == {
        Generalisation.DEPARTEMENT,
        Generalisation.REGION,
    }
    assert set(by_code["visit.start"].generalisations) == {
        Generalisation.SHIFTED_DATE,
        Generalisation.SHIFTED_HOUR,
        Generalisation.SHIFTED_MINUTE,
        Generalisation.WEEK,
        Generalisation.MONTH,
    }
    # The day alone by default; a date column has no time of day to offer.
    assert by_code["visit.start"].default == Generalisation.SHIFTED_DATE
    assert set(by_code["diagnosis.date"].generalisations) == {
        Generalisation.SHIFTED_DATE,
        Generalisation.WEEK,
        Generalisation.MONTH,
    }
    for variable in catalogue.VARIABLES:
        if variable.sensitivity == Sensitivity.FREE_TEXT:
            assert variable.default == Generalisation.EXCLUDED
            assert Generalisation.SCRUBBED in variable.generalisations
        assert variable.source == catalogue.CARE_RECORDS
    with pytest.raises(ValueError, match="free text"):
        catalogue.Variable(
            "x",
            "note",
            "note_text",
            "x",
            "x",
            "x",
            "x",
            Sensitivity.FREE_TEXT,
            (Generalisation.SCRUBBED, Generalisation.EXCLUDED),
            Generalisation.SCRUBBED,
        )


def test_every_variable_points_to_a_real_table_and_column():
    from warehouse.selectors import _field_name, _model_for_table

    for variable in catalogue.VARIABLES:
        model = _model_for_table(variable.table)
        assert _field_name(model, variable.column)
        if variable.concept_filter:
            column, vocabulary, codes = variable.concept_filter
            assert _field_name(model, column)
            from warehouse.selectors import concept_ids

            assert concept_ids(vocabulary, codes), variable.code


def test_search_matches_both_languages_and_filters():
    assert "vitals.temperature" in {v.code for v in catalogue.search("température")}
    assert "vitals.temperature" in {v.code for v in catalogue.search("temperature body")}
    assert {v.table for v in catalogue.search(table="measurement")} == {"measurement"}
    assert all(v.sensitivity == "free_text" for v in catalogue.search(sensitivity="free_text"))


# --- Fill rates and the catalogue page --------------------------------------------------------


def test_fill_rates(small_warehouse):
    from warehouse.selectors import fill_rates

    rates = fill_rates().rates
    assert rates["visit.start"] == 1.0
    assert rates["visit.association"] == 1.0
    assert rates["diagnosis.icpc2"] == 1.0
    assert rates["diagnosis.icd10"] == pytest.approx(13 / 14)
    assert rates["vitals.temperature"] == 0.0
    assert rates["identity.nir"] is None  # the vault is not read for statistics


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "chair",
        "patient_representative",
        "secretariat",
        "data_steward",
        "dpo",
    ],
    indirect=True,
)
def test_catalogue_page_for_those_who_request_or_judge_data(client, persona, small_warehouse):
    login(client, persona)
    response = client.get("/warehouse/catalogue/", {"q": "diagnostic"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "diagnosis.icpc2" in html
    assert "vitals.temperature" not in html


@pytest.mark.parametrize("persona", ["identity_officer", "auditor", "outsider"], indirect=True)
def test_catalogue_is_refused_to_other_roles(client, persona):
    login(client, persona)
    assert client.get("/warehouse/catalogue/").status_code == 403
    assert client.get("/api/v1/warehouse/catalogue/").status_code == 403


def test_catalogue_api(client, researcher, small_warehouse):
    login(client, researcher)
    body = client.get("/api/v1/warehouse/catalogue/").json()
    assert len(body) == len(catalogue.VARIABLES)
    nir = next(item for item in body if item["code"] == "identity.nir")
    assert nir["exportable"] is False
    visit = next(item for item in body if item["code"] == "visit.start")
    assert visit["fill_rate"] == 1.0
    assert visit["generalisations"] == [
        "shifted_date",
        "shifted_hour",
        "shifted_minute",
        "week",
        "month",
    ]


def test_catalogue_page_query_count_is_pinned(
    client, researcher, small_warehouse, django_assert_max_num_queries
):
    login(client, researcher)
    client.get("/warehouse/catalogue/")  # fills the cache
    with django_assert_max_num_queries(6):
        client.get("/warehouse/catalogue/")


# --- Feasibility ------------------------------------------------------------------------------
# The true figures come from ``disclosure.measure`` (never shown); what a count shows is the
# published perturbation and rounding of them (tests/warehouse/test_feasibility_disclosure.py).


def true_counts(criteria: CohortCriteria) -> tuple[int, int]:
    measured = disclosure.measure(feasibility_visits(criteria))
    return measured.persons, measured.visits


def expected_shown(criteria: CohortCriteria) -> tuple[str, str]:
    measured = disclosure.measure(feasibility_visits(criteria))
    options = {"threshold": 11, "base": 5}
    return (
        disclosure.display(measured.persons, measured.person_cell_key, **options),
        disclosure.display(measured.visits, measured.visit_cell_key, **options),
    )


def test_display_masks_small_counts():
    show = {"threshold": 11, "base": 5}
    assert disclosure.display(0, 0, **show) == "0"
    assert disclosure.display(1, 0, **show) == "< 11"
    assert disclosure.display(10, 0, **show) == "< 11"
    assert int(disclosure.display(11, 0, **show)) >= 11


def test_counts_persons_and_visits(small_warehouse):
    assert true_counts(CohortCriteria()) == (13, 14)
    assert true_counts(CohortCriteria(icpc2_codes=("R7",), sex="F")) == (12, 12)
    everything = feasibility_count(CohortCriteria())
    assert (everything.persons, everything.visits) == expected_shown(CohortCriteria())
    assert int(everything.persons) % 5 == 0
    assert abs(int(everything.persons) - 13) <= disclosure.MAX_PERTURBATION + 2
    assert not everything.masked


def test_small_counts_come_back_masked(small_warehouse):
    otitis = feasibility_count(CohortCriteria(icd10_codes=("H66",)))
    assert (otitis.persons, otitis.visits) == ("< 11", "< 11")
    assert otitis.masked
    nobody = feasibility_count(CohortCriteria(icpc2_codes=("R78",), sex="M"))
    assert (nobody.persons, nobody.visits) == ("0", "0")


@pytest.mark.parametrize(
    ("criteria", "persons"),
    [
        (CohortCriteria(period_start=date(2025, 1, 15), period_end=date(2025, 1, 31)), 7),
        (CohortCriteria(period_end=date(2025, 1, 31)), 12),
        (CohortCriteria(age_max=5), 1),
        (CohortCriteria(age_min=60, age_max=80), 12),
        (CohortCriteria(visit_kinds=("VIS_HOME",)), 12),
        (CohortCriteria(departements=("33",)), 12),
        (CohortCriteria(departements=("69",)), 1),
        (CohortCriteria(associations=(1,)), 12),
        (CohortCriteria(associations=(2,), icpc2_codes=("H71",)), 1),
    ],
)
def test_each_criterion(small_warehouse, criteria, persons):
    assert true_counts(criteria)[0] == persons
    shown = feasibility_count(criteria).persons
    assert shown == ("< 11" if persons < 11 else expected_shown(criteria)[0])


def test_feasibility_page_counts_and_audits(client, researcher, small_warehouse):
    login(client, researcher)
    assert client.get("/warehouse/feasibility/").status_code == 200
    response = client.post("/warehouse/feasibility/", {"icpc2_codes": "r78, ", "sex": "F"})
    assert response.status_code == 200
    expected = expected_shown(CohortCriteria(icpc2_codes=("R78",), sex="F"))
    assert response.context["result"].persons == expected[0]
    event = AuditEvent.objects.get(action="feasibility.counted")
    assert event.actor == researcher
    assert event.after["criteria"]["icpc2_codes"] == ["R78"]
    assert event.after["persons"] == expected[0]
    assert event.after["refused"] == ""
    # The log on the warehouse names the user by id (another database: no foreign key).
    log = FeasibilityCountLog.objects.get()
    assert (log.user_id, log.via, log.persons, log.shown_persons) == (
        researcher.pk,
        "page",
        12,
        expected[0],
    )


def test_small_counts_are_not_written_exactly_to_the_trail(client, researcher, small_warehouse):
    login(client, researcher)
    client.post("/warehouse/feasibility/", {"icd10_codes": "H66"})
    event = AuditEvent.objects.get(action="feasibility.counted")
    assert event.after["persons"] == "< 11"


def test_htmx_request_gets_the_result_fragment(client, researcher, small_warehouse):
    login(client, researcher)
    response = client.post("/warehouse/feasibility/", {"sex": "M"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="feasibility-result"')
    assert "<html" not in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"icpc2_codes": "ZZ9"}, "icpc2_codes"),
        ({"icd10_codes": "J06, Q99.99"}, "icd10_codes"),
        ({"period_start": "2025-02-01", "period_end": "2025-01-01"}, "period_end"),
        ({"age_min": "40", "age_max": "20"}, "age_max"),
        ({"age_min": "-1"}, "age_min"),
        ({"sex": "X"}, "sex"),
        ({"departements": ["99"]}, "departements"),
        ({"visit_kinds": ["VIS_MOON"]}, "visit_kinds"),
    ],
)
def test_invalid_criteria_get_a_clear_error_and_keep_the_input(client, researcher, data, field):
    login(client, researcher)
    response = client.post("/warehouse/feasibility/", data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not AuditEvent.objects.filter(action="feasibility.counted").exists()
    html = response.content.decode()
    for value in data.values():
        if isinstance(value, str) and field != "sex":
            assert value in html


def test_api_counts_with_json_and_rejects_bad_criteria(client, researcher, small_warehouse):
    login(client, researcher)
    response = client.post(
        "/api/v1/warehouse/feasibility/",
        {"icpc2_codes": "R78", "departements": ["33"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    persons, visits = expected_shown(CohortCriteria(icpc2_codes=("R78",), departements=("33",)))
    assert response.json() == {
        "persons": persons,
        "visits": visits,
        "threshold": 11,
        "masked": False,
        "rounding": 5,
        "repeated": False,
    }
    bad = client.post(
        "/api/v1/warehouse/feasibility/",
        {"age_min": 50, "age_max": 10},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "age_max" in bad.json()["errors"]
    not_an_object = client.post(
        "/api/v1/warehouse/feasibility/", [1, 2], content_type="application/json"
    )
    assert not_an_object.status_code == 400


@pytest.mark.parametrize(
    "persona",
    [
        "secretariat",
        "commission_member",
        "identity_officer",
        "data_steward",
        "dpo",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_feasibility_is_refused_to_other_roles(client, persona):
    login(client, persona)
    assert client.get("/warehouse/feasibility/").status_code == 403
    assert client.post("/warehouse/feasibility/", {}).status_code == 403
    assert (
        client.post(
            "/api/v1/warehouse/feasibility/", {}, content_type="application/json"
        ).status_code
        == 403
    )
