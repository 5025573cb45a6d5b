"""The catalogue's clinical groups; typed codes: not a code at all, or not in the warehouse."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from django.utils import translation

from tests.conftest import login
from tests.warehouse import factories as wf
from warehouse import catalogue, code_formats
from warehouse.catalogue_groups import GROUP_OF, GROUPS, ClinicalGroup, grouped

# --- Clinical groups -------------------------------------------------------------------------


def test_every_variable_of_the_catalogue_is_in_exactly_one_group():
    codes = [code for members in GROUPS.values() for code in members]
    assert sorted(codes) == sorted(catalogue.BY_CODE)
    assert len(codes) == len(set(codes))


def test_the_groups_follow_an_episode_and_keep_free_text_apart():
    assert list(ClinicalGroup) == [
        ClinicalGroup.CALL,
        ClinicalGroup.PATIENT,
        ClinicalGroup.DIAGNOSIS,
        ClinicalGroup.PRESCRIPTIONS,
        ClinicalGroup.VITAL_SIGNS,
        ClinicalGroup.OUTCOME,
        ClinicalGroup.FREE_TEXT,
    ]
    free_text = {v.code for v in catalogue.VARIABLES if v.sensitivity == "free_text"}
    assert set(GROUPS[ClinicalGroup.FREE_TEXT]) == free_text
    assert all(code.startswith("vitals.") for code in GROUPS[ClinicalGroup.VITAL_SIGNS])
    assert GROUP_OF["prescription.atc"] == ClinicalGroup.PRESCRIPTIONS
    assert GROUP_OF["call.reason"] == ClinicalGroup.CALL


def test_group_labels_are_translated_and_say_what_the_group_means():
    with translation.override("en"):
        english = [str(group.label) for group in ClinicalGroup]
    assert english[0] == "The call and the visit"
    # No label is an OMOP table name.
    assert not set(english) & set(catalogue.tables())


def test_a_variable_not_placed_yet_still_shows_up_in_the_picker():
    stray = replace(catalogue.BY_CODE["vitals.weight"], code="vitals.height")
    unknown = replace(catalogue.BY_CODE["person.sex"], code="zzz.new")
    groups = dict(grouped([*catalogue.exportable_variables(), stray, unknown]))
    assert stray in groups[ClinicalGroup.VITAL_SIGNS]
    assert unknown in groups[ClinicalGroup.CALL]
    assert [v.code for v in groups[ClinicalGroup.VITAL_SIGNS]][-1] == "vitals.height"


# --- Code formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vocabulary", "entry", "valid"),
    [
        ("ICPC2", "R78", True),
        ("ICPC2", "R7", True),
        ("ICPC2", "R", True),
        ("ICPC2", "ZZ9", False),
        ("ICPC2", "E78", False),  # no chapter E in ICPC-2
        ("ICPC2", "R789", False),
        ("ICPC2", "J06.9", False),  # an ICD-10 code
        ("ICD10", "J06.9", True),
        ("ICD10", "J06", True),
        ("ICD10", "S52.50", True),
        ("ICD10", "J0", True),
        ("ICD10", "JJ6", False),
        ("ICD10", "R78.", True),
        ("ICD10", "N02BE01", False),  # an ATC code
        ("ATC", "N02BE01", True),
        ("ATC", "N02BE", True),
        ("ATC", "N02", True),
        ("ATC", "N", True),
        ("ATC", "N02B1", False),
        ("ATC", "E02BE01", False),  # no group E in ATC
        ("ATC", "R78", True),  # R (respiratory system), subgroup 78: well formed
    ],
)
def test_each_code_system_has_its_format(vocabulary, entry, valid):
    normalised = code_formats.normalise(vocabulary, entry)
    assert code_formats.is_well_formed(vocabulary, normalised) is valid


def test_an_icd10_code_typed_without_its_dot_gets_it():
    assert code_formats.normalise("ICD10", " j069* ") == "J06.9"
    assert code_formats.normalise("ICPC2", "r78*") == "R78"


def test_codes_are_sorted_into_kept_malformed_and_absent():
    known = ["R78", "R74", "A03"]
    check = code_formats.check_codes("ICPC2", ["r78", "R7", "ZZ9", "Z05", "R78"], known)
    assert check.codes == ("R78", "R7")
    assert check.malformed == ("ZZ9",)
    assert check.absent == ("Z05",)


# --- On the feasibility page -------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def r78_in_warehouse():
    person = wf.person(sex="F", born=2024)
    wf.visit(person, on=date(2025, 1, 3), kind="VIS_HOME", icpc2="R78")


def _errors_of(page: str, name: str) -> str:
    found = re.search(
        rf'<ul class="field__errors" id="id_{name}_error"[^>]*>(.*?)</ul>', page, re.S
    )
    return found.group(1) if found else ""


@pytestmark_db
def test_a_malformed_code_and_an_absent_one_get_different_messages(
    client, researcher, r78_in_warehouse
):
    login(client, researcher)
    response = client.post(
        "/warehouse/feasibility/", {"icpc2_codes": "R78, ZZ9, Z05"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()["icpc2_codes"]
    assert [error.code for error in errors] == ["invalid_code", "unknown_code"]
    page = response.content.decode()
    field_errors = _errors_of(page, "icpc2_codes")
    assert "Not a valid ICPC-2 code: ZZ9 (a code is written like R78)." in field_errors
    assert "Not present in the warehouse: no ICPC-2 code of the warehouse starts with Z05." in (
        field_errors
    )
    # The field itself is flagged and linked to its errors.
    field = re.search(r'<input type="text" name="icpc2_codes"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field
    assert "id_icpc2_codes_error" in field
    # The result links to the field too.
    assert 'href="#id_icpc2_codes"' in page


@pytestmark_db
def test_a_partial_answer_flags_the_field_beside_the_result(client, researcher, r78_in_warehouse):
    login(client, researcher)
    response = client.post(
        "/warehouse/feasibility/",
        {"icd10_codes": "Q99.9"},
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="feasibility-result"')
    # Out of band: the error list beside the field is replaced (and emptied elsewhere).
    oob = re.search(r'<ul class="field__errors" id="id_icd10_codes_error"[^>]*>', page).group(0)
    assert 'hx-swap-oob="true"' in oob
    assert 'data-live-errors-for="id_icd10_codes"' in oob
    assert "Not present in the warehouse" in _errors_of(page, "icd10_codes")
    assert _errors_of(page, "icpc2_codes") == ""
    # A valid answer empties the lists.
    response = client.post(
        "/warehouse/feasibility/", {"icpc2_codes": "R78"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert 'id="id_icpc2_codes_error"' in page
    assert _errors_of(page, "icpc2_codes") == ""


@pytestmark_db
def test_the_pages_keep_an_error_list_ready_beside_each_criterion(client, researcher):
    login(client, researcher)
    page = client.get("/warehouse/feasibility/").content.decode()
    for name in ("icpc2_codes", "icd10_codes", "age_min", "period_end"):
        assert f'id="id_{name}_error" data-live-errors-for="id_{name}"' in page


@pytestmark_db
def test_the_data_request_does_not_mention_a_count_button(client, researcher):
    from projects.actions import create_project

    project = create_project(by=researcher, title="Bronchiolites")
    login(client, researcher)
    page = client.get(
        f"/projects/{project.pk}/sections/data_request/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    result = page[page.index('id="feasibility-result"') :]
    result = result[: result.index("</section>")]
    assert "“Count”" not in result
    assert "as soon as you change a criterion" in result
    assert 'id="id_icpc2_codes_error" data-live-errors-for="id_icpc2_codes"' in page
    # The feasibility page has the button, and says so.
    page = client.get("/warehouse/feasibility/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "press “Count”" in page
    assert re.search(r'<button type="submit" class="button">Count</button>', page)
