"""The data request's delivery format (portal tables or OMOP CDM v5.4) and the warnings on
generalisations that keep the time of day, from the researcher's form to the decision."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.html import escape
from rest_framework.test import APIClient

from eds_portal.models import Notification
from projects.actions import check_admissibility, create_project, save_section, submit_project
from projects.diff import ChangeStatus, compare_versions
from projects.models import Project, ProjectStatus
from projects.sections import (
    BY_KEY,
    DataRequestForm,
    DeliveryShape,
    bound_form,
    delivery_shape_of,
    strict_choice_errors,
)
from projects.sessions import actions
from projects.sessions.decisions import build_specification, check_variable_decisions
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft
from tests.projects.review_helpers import assign
from tests.projects.sessions_helpers import approve_all, decide, declare, open_session_with
from warehouse import catalogue
from warehouse.export import omop

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

# visit.start may be delivered to the day (the default), the hour or the minute.
TIMED = "visit.start"


def _request(generalisation: str = "shifted_date", **extra) -> dict:
    return {
        **VALID_SECTIONS["data_request"],
        f"var__{TIMED}": "on",
        f"just__{TIMED}": "Mesurer les délais de visite la nuit.",
        f"gen__{TIMED}": generalisation,
        **extra,
    }


def _in_review(researcher, secretariat, **request) -> Project:
    project = create_project(by=researcher, title="Délais des visites de nuit")
    fill_draft(project, researcher)
    save_section(
        project=project, section_key="data_request", raw=_request(**request), by=researcher
    )
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    Notification.objects.all().delete()
    return project


def _note(generalisation: str) -> str:
    """The warning as a French page shows it (escaped as the templates escape it)."""
    with translation.override("fr"):
        return escape(str(catalogue.reidentification_note(generalisation)))


def _shape_label(shape: DeliveryShape) -> str:
    with translation.override("fr"):
        return str(shape.label)


# --- The option in the form -------------------------------------------------------------------


def _form(raw: dict) -> DataRequestForm:
    return bound_form(BY_KEY["data_request"], {"data_request": raw})


def test_the_delivery_shape_defaults_to_the_portal_tables():
    form = _form(VALID_SECTIONS["data_request"])  # a request saved before the option
    assert form.is_valid(), form.errors
    assert form.specification()["delivery_shape"] == "portal"
    assert form["delivery_shape"].value() == "portal"  # shown ticked when edited again
    assert DataRequestForm()["delivery_shape"].value() == "portal"


@pytest.mark.parametrize("shape", ["portal", "omop"])
def test_the_delivery_shape_is_part_of_the_request(shape):
    form = _form({**VALID_SECTIONS["data_request"], "delivery_shape": shape})
    assert form.is_valid(), form.errors
    assert form.specification()["delivery_shape"] == shape


def test_an_unknown_delivery_shape_is_a_form_error(english):
    form = _form({**VALID_SECTIONS["data_request"], "delivery_shape": "sas"})
    assert not form.is_valid()
    assert list(form.errors) == ["delivery_shape"]
    assert strict_choice_errors(BY_KEY["data_request"], {"delivery_shape": "sas"})
    assert strict_choice_errors(BY_KEY["data_request"], {"delivery_shape": "omop"}) == {}


def test_the_shapes_are_those_the_export_knows():
    assert set(DeliveryShape.values) == set(omop.DELIVERY_SHAPES)
    assert delivery_shape_of(None) == DeliveryShape.PORTAL
    assert delivery_shape_of({"delivery_shape": ""}) == DeliveryShape.PORTAL
    assert omop.delivery_shape_of({}) == "portal"
    assert omop.delivery_shape_of({"delivery_shape": "omop"}) == "omop"


def test_the_section_page_offers_the_option_and_saves_it(client, researcher):
    project = create_project(by=researcher, title="Délais")
    login(client, researcher)
    url = f"/projects/{project.pk}/sections/data_request/"
    page = client.get(url).content.decode()
    assert re.search(r'<input[^>]*name="delivery_shape"[^>]*value="portal"[^>]*checked', page)
    assert 'value="omop"' in page
    client.post(url, {**_request(), "delivery_shape": "omop", "action": "save"})
    project.refresh_from_db()
    assert project.draft.content["data_request"]["delivery_shape"] == "omop"
    refused = client.post(url, {**_request(), "delivery_shape": "sas", "action": "save"})
    assert refused.status_code == 200
    assert "delivery_shape" in refused.context["form"].errors


# --- The API ---------------------------------------------------------------------------------


def test_the_api_accepts_a_known_shape_and_refuses_an_unknown_one(researcher):
    project = create_project(by=researcher, title="Délais")
    api = login(APIClient(), researcher)
    url = f"/api/v1/projects/{project.pk}/sections/data_request/"
    fields = {field["name"]: field for field in api.get(url).json()["fields"]}
    assert [value for value, _label in fields["delivery_shape"]["choices"]] == ["portal", "omop"]
    body = _request()
    saved = api.put(url, {**body, "delivery_shape": "omop"}, format="json")
    assert saved.status_code == 200
    assert saved.json()["valid"] is True, saved.json()
    refused = api.put(url, {**body, "delivery_shape": "csv"}, format="json")
    assert refused.status_code == 400
    assert "delivery_shape" in refused.json()
    # Nothing of the refused body was stored.
    project.refresh_from_db()
    assert project.draft.content["data_request"]["delivery_shape"] == "omop"


# --- Frozen by the decision ------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "expected"), [(None, "portal"), ("omop", "omop")])
def test_build_specification_freezes_the_delivery_shape(researcher, secretariat, shape, expected):
    extra = {"delivery_shape": shape} if shape else {}
    project = _in_review(researcher, secretariat, **extra)
    version = project.versions.get()
    decided, errors = check_variable_decisions(version, approve_all(version))
    assert errors == {}
    assert build_specification(version, "favourable", decided)["delivery_shape"] == expected
    # Kept whatever the opinion: it describes the files, not what they hold.
    assert build_specification(version, "unfavourable", decided)["delivery_shape"] == expected


def test_a_specification_without_the_key_means_the_portal_tables():
    assert omop.delivery_shape_of({"variables": []}) == "portal"


# --- Pages that show the request ---------------------------------------------------------------


def test_the_version_page_shows_the_shape(client, researcher, secretariat):
    project = _in_review(researcher, secretariat, delivery_shape="omop")
    login(client, researcher)
    page = client.get(f"/projects/{project.pk}/versions/1/").content.decode()
    assert "OMOP CDM v5.4" in page


def test_a_version_without_the_option_shows_the_portal_tables(client, researcher, secretariat):
    project = _in_review(researcher, secretariat)
    assert "delivery_shape" not in project.versions.get().content["data_request"]
    login(client, researcher)
    page = client.get(f"/projects/{project.pk}/versions/1/").content.decode()
    assert escape(_shape_label(DeliveryShape.PORTAL)) in page


def test_the_comparison_shows_a_changed_shape(researcher, secretariat):
    project = _in_review(researcher, secretariat, delivery_shape="portal")
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.CHANGES_REQUESTED)
    project.refresh_from_db()
    save_section(
        project=project,
        section_key="data_request",
        raw=_request(delivery_shape="omop"),
        by=researcher,
    )
    submit_project(project=project, by=researcher)
    first, second = project.versions.order_by("number")
    with translation.override("en"):
        change = compare_versions(first, second).section("data_request").field("delivery_shape")
    assert change.status == ChangeStatus.CHANGED
    assert (change.old, change.new) == ("Portal tables", "OMOP CDM v5.4")


# --- Re-identification notes -------------------------------------------------------------------


def test_the_researcher_reads_the_notes_with_the_choice(client, researcher):
    project = create_project(by=researcher, title="Délais")
    login(client, researcher)
    page = client.get(f"/projects/{project.pk}/sections/data_request/").content.decode()
    select = re.search(rf'<select[^>]*name="gen__{re.escape(TIMED)}"[^>]*>', page).group(0)
    described = re.search(r'aria-describedby="([^"]+)"', select).group(1)
    help_block = re.search(rf'<div[^>]*id="{re.escape(described)}"[^>]*>(.*?)</div>', page, re.S)
    assert help_block, "the select's description is on the page"
    assert _note("shifted_hour") in help_block.group(1)
    assert _note("shifted_minute") in help_block.group(1)
    # A variable without a time of day has no such note.
    sex = re.search(r'<select[^>]*name="gen__person.sex"[^>]*>', page).group(0)
    assert "aria-describedby" not in sex


@pytest.fixture
def hour_and_day(researcher, secretariat):
    """Two files in review: one asks the visit's hour, the other only its day."""
    return {
        "shifted_hour": _in_review(researcher, secretariat, generalisation="shifted_hour"),
        "shifted_date": _in_review(researcher, secretariat, generalisation="shifted_date"),
    }


@pytest.mark.parametrize("generalisation", ["shifted_hour", "shifted_date"])
def test_the_rapporteur_reads_the_note_of_an_hour_level_request_only(
    client, rapporteur, secretariat, hour_and_day, generalisation
):
    project = hour_and_day[generalisation]
    assign(project, rapporteur, secretariat)
    login(client, rapporteur)
    response = client.get(f"/projects/{project.pk}/review/")
    page = response.content.decode()
    assert response.status_code == 200
    verdict = response.context["form"][f"verdict__{TIMED}"]
    if generalisation == "shifted_hour":
        assert _note("shifted_hour") in page
        assert _note("shifted_hour") in escape(str(verdict.help_text))
        # The group of radios is described by it (the fieldset names its help text).
        assert f'aria-describedby="{verdict.auto_id}_helptext"' in page
    else:
        assert _note("shifted_hour") not in page
        assert _note("shifted_minute") not in page
        assert not verdict.help_text
    assert escape(_shape_label(DeliveryShape.PORTAL)) in page


@pytest.fixture
def open_session(secretariat):
    """A planned session; each test puts its files on the agenda, then opens it."""
    return actions.create_session(
        by=secretariat, date=timezone.now() + timedelta(days=7), place="Salle du conseil"
    )


def _item(session, project, secretariat, chair, commission_member, patient_representative):
    item = actions.add_to_agenda(session=session, project=project, by=secretariat)
    declare(project, chair, commission_member, patient_representative)
    return item


@pytest.mark.parametrize("generalisation", ["shifted_hour", "shifted_date"])
def test_the_decision_page_shows_the_note_of_an_hour_level_request_only(
    client,
    secretariat,
    chair,
    commission_member,
    patient_representative,
    open_session,
    hour_and_day,
    generalisation,
):
    items = {
        key: _item(
            open_session, project, secretariat, chair, commission_member, patient_representative
        )
        for key, project in hour_and_day.items()
    }
    open_session_with(
        open_session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    item = items[generalisation]
    login(client, chair)
    response = client.get(f"/commission/sessions/{open_session.pk}/items/{item.pk}/decide/")
    assert response.status_code == 200
    page = response.content.decode()
    if generalisation == "shifted_hour":
        assert _note("shifted_hour") in page
        assert "reidentification-note" in page
    else:
        assert _note("shifted_hour") not in page
        assert "reidentification-note" not in page
    assert escape(_shape_label(DeliveryShape.PORTAL)) in page


def test_the_letter_states_the_delivery_shape(
    client,
    secretariat,
    chair,
    commission_member,
    patient_representative,
    researcher,
    open_session,
):
    project = _in_review(researcher, secretariat, delivery_shape="omop")
    item = _item(
        open_session, project, secretariat, chair, commission_member, patient_representative
    )
    open_session_with(
        open_session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    item.refresh_from_db()
    actions.cast_vote(item=item, by=commission_member, choice="favourable")
    decision = decide(item, chair)
    assert decision.approved_specification["delivery_shape"] == "omop"
    login(client, researcher)
    letter = client.get(f"/projects/{project.pk}/decisions/{decision.pk}/").content.decode()
    assert "OMOP CDM v5.4" in letter


def test_a_version_saved_before_the_option_compares_as_portal_tables(researcher, secretariat):
    """A version without the key asked for the portal's tables: choosing them now is no change;
    choosing OMOP is one."""
    project = _in_review(researcher, secretariat)  # no delivery_shape in the saved request
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.CHANGES_REQUESTED)
    project.refresh_from_db()
    save_section(
        project=project,
        section_key="data_request",
        raw=_request(delivery_shape="portal"),
        by=researcher,
    )
    submit_project(project=project, by=researcher)
    first, second = project.versions.order_by("number")
    assert "delivery_shape" not in first.content["data_request"]
    change = compare_versions(first, second).section("data_request").field("delivery_shape")
    assert change.status == ChangeStatus.UNCHANGED
