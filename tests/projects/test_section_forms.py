"""How the sections of a protocol behave as forms: errors only once the user acted, checkboxes on
the row of their label, error summaries linked to each field, a warning before leaving unsaved
changes, and the variable picker grouped by what the variables mean."""

from __future__ import annotations

import re

import pytest
from django.utils.html import escape

from access.models import OppositionRequest
from projects.actions import create_project, save_section
from projects.completeness import missing_items
from projects.models import Project
from projects.sections import SECTIONS
from tests.access.helpers import form_data
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS
from warehouse import catalogue
from warehouse.catalogue_groups import ClinicalGroup

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

ROUTE_ANSWERS = {
    key: value
    for key, value in VALID_SECTIONS["route"].items()
    if key not in {"confirmed_route", "route_confirmed"}
}


def _section(client, project, key, **extra):
    return client.get(f"/projects/{project.pk}/sections/{key}/", **extra).content.decode()


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites")


# --- Errors only after the user acted --------------------------------------------------------


def test_a_new_project_opens_its_sections_without_any_error(client, researcher):
    login(client, researcher)
    client.post("/projects/new/", {"title": "Bronchiolites du nourrisson"})
    project = Project.objects.get()
    for section in SECTIONS:
        page = _section(client, project, section.key)
        assert "error-summary" not in page, section.key
        assert "field--error" not in page, section.key
        assert 'aria-invalid="true"' not in page, section.key
    # The working title is offered as the public title, without being a saved section.
    identification = _section(client, project, "identification")
    assert 'value="Bronchiolites du nourrisson"' in identification
    assert "identification" not in project.draft.content
    # The project page still says what is missing.
    assert {item.section for item in missing_items(project)} >= {"identification"}


def test_a_section_saved_incomplete_shows_its_errors_when_one_comes_back(
    client, researcher, project
):
    login(client, researcher)
    client.post(f"/projects/{project.pk}/sections/identification/", {"lay_title": "Titre"})
    page = _section(client, project, "identification")
    assert "error-summary" in page
    assert 'href="#id_acronym"' in page


def test_saving_the_route_answers_does_not_ask_for_a_box_not_shown_yet(client, researcher, project):
    login(client, researcher)
    url = f"/projects/{project.pk}/sections/route/"
    response = client.post(url, ROUTE_ANSWERS, HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 200
    # The proposal and its confirmation box appear, without an error about the box.
    assert 'name="confirmed_route" value="mr004"' in page
    assert 'name="route_confirmed"' in page
    assert "error-summary" not in page
    assert "field--error" not in page
    assert "This field is required" not in page
    assert "Read the proposed route below, tick the box to confirm it" in page
    # Coming back before confirming: still no error, and the section is not complete yet.
    assert "field--error" not in _section(client, project, "route")
    assert "route" in {item.section for item in missing_items(project)}
    # Once the box has been shown, saving without ticking it is an error.
    response = client.post(url, {**ROUTE_ANSWERS, "confirmed_route": "mr004"})
    page = response.content.decode()
    assert "error-summary" in page
    assert 'href="#id_route_confirmed"' in page
    assert 'aria-invalid="true"' in page
    # Ticked: complete.
    response = client.post(url, VALID_SECTIONS["route"])
    assert response.status_code == 302


# --- Attestation checkboxes ------------------------------------------------------------------


def test_an_attestation_checkbox_sits_on_the_row_of_its_label(client, researcher, project):
    login(client, researcher)
    page = _section(client, project, "purpose")
    row = re.search(r'<div class="choice">(.*?)</div>', page, re.S)
    assert row is not None
    assert re.match(r'\s*<input type="checkbox" name="prohibited_purposes"', row.group(1))
    assert '<label for="id_prohibited_purposes">' in row.group(1)
    # The box is in its own field block, not after a free-standing label.
    block = page[page.index('class="field field--checkbox') :]
    assert block.index('type="checkbox"') < block.index("</label>")


# --- Error summaries ---------------------------------------------------------------------------


def test_the_error_summary_links_to_each_field_in_error(client, researcher, project):
    login(client, researcher)
    response = client.post(
        f"/projects/{project.pk}/sections/methodology/",
        {"methodology": "x", "population": "", "planned_start": "2026-05-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    summary = page[page.index("error-summary") : page.index("</div>", page.index("error-summary"))]
    assert 'tabindex="-1"' in page[page.index('<div class="error-summary"') :][:120]
    assert "data-error-summary" in page
    for name, label in (("population", "Population studied"), ("planned_end", "Planned end")):
        assert f'href="#id_{name}"' in summary
        assert escape(label) in summary
    # A group of radios is reached through its first radio (Django gives the group no id).
    response = client.post(f"/projects/{project.pk}/sections/route/", {"involves_human_person": ""})
    assert 'href="#id_involves_human_person_0"' in response.content.decode()


def test_the_data_request_summary_links_to_the_cohort_criteria_too(client, researcher, project):
    login(client, researcher)
    data = {**VALID_SECTIONS["data_request"], "age_min": "-3"}
    page = client.post(f"/projects/{project.pk}/sections/data_request/", data).content.decode()
    summary = page[page.index("data-error-summary") :]
    summary = summary[: summary.index("</div>")]
    assert 'href="#id_age_min"' in summary


def test_public_forms_have_a_linked_error_summary(client):
    response = client.post("/opposition/", form_data(birth_date="2999-01-01", contact_email=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "data-error-summary" in page
    assert 'href="#id_birth_date"' in page
    assert 'href="#id_contact_email"' in page
    assert OppositionRequest.objects.count() == 0


def test_the_forms_script_is_on_every_page(client):
    page = client.get("/accounts/login/").content.decode()
    assert re.search(r'<script src="/static/eds_portal/js/forms\.js[^"]*" defer>', page)


# --- Unsaved changes ---------------------------------------------------------------------------


def test_section_forms_ask_before_leaving_unsaved_changes(client, researcher, project):
    login(client, researcher)
    for section in SECTIONS:
        assert re.search(
            r"<form [^>]*data-unsaved-warning[ >]", _section(client, project, section.key)
        )
    # Text given back after an expired session is not saved yet: the form starts "dirty".
    client.logout()
    client.post(f"/projects/{project.pk}/sections/purpose/", {"objectives": "Mon texte"})
    login(client, researcher)
    assert 'data-unsaved-warning="dirty"' in _section(client, project, "purpose")


# --- The variable picker -----------------------------------------------------------------------


def test_the_picker_groups_variables_by_clinical_meaning(client, researcher, project):
    login(client, researcher)
    page = _section(client, project, "data_request", HTTP_ACCEPT_LANGUAGE="en")
    groups = re.findall(r'data-variable-group="(\w+)"', page)
    assert groups == [group.value for group in ClinicalGroup]
    summaries = re.findall(r"<summary>(.*?) <span", page)
    assert summaries == [escape(str(group.label)) for group in ClinicalGroup]
    # No OMOP table name as a heading any more.
    for table in ("visit_detail", "condition_occurrence", "observation", "measurement"):
        assert f"<summary><code>{table}" not in page
    # Every exportable variable is offered once.
    for variable in catalogue.exportable_variables():
        assert page.count(f'id="variable-{variable.code}"') == 1


def test_the_picker_has_an_accessible_search_and_opens_the_catalogue_beside_it(
    client, researcher, project
):
    login(client, researcher)
    page = _section(client, project, "data_request", HTTP_ACCEPT_LANGUAGE="en")
    assert '<label for="variable-search">Search the variables</label>' in page
    search = re.search(r'<input type="search" id="variable-search"[^>]*>', page).group(0)
    assert 'aria-controls="variable-groups"' in search
    assert 'aria-describedby="variable-search-help"' in search
    status = re.search(r'<p [^>]*id="variable-search-status"[^>]*>', page).group(0)
    assert 'role="status"' in status
    assert 'aria-live="polite"' in status
    assert 'data-many="{count} variables match this search."' in status
    # The catalogue opens in a new tab: the draft stays where it is.
    link = re.search(
        r'<a href="/warehouse/catalogue/"[^>]*>(Open the data catalogue[^<]*)</a>', page
    )
    assert 'target="_blank"' in link.group(0)
    assert 'rel="noopener"' in link.group(0)
    assert "(opens in a new tab)" in link.group(1)


def test_groups_open_where_a_variable_was_chosen(client, researcher, project):
    save_section(
        project=project,
        section_key="data_request",
        raw=VALID_SECTIONS["data_request"],
        by=researcher,
    )
    login(client, researcher)
    page = _section(client, project, "data_request")
    opened = re.findall(r'data-variable-group="(\w+)" open>', page)
    assert opened == ["patient", "diagnosis"]


def test_missing_items_link_to_the_field_that_takes_the_focus(researcher, project):
    save_section(
        project=project,
        section_key="route",
        raw={"involves_human_person": "no"},
        by=researcher,
    )
    urls = {item.label: item.url for item in missing_items(project) if item.section == "route"}
    route = f"/projects/{project.pk}/sections/route/"
    # A group of radios is reached through its first radio.
    assert f"{route}#id_internal_use_0" in urls.values()
    assert f"{route}#id_route_confirmed" in urls.values()
