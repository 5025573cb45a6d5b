"""Hostile input (issue 15, item 3): NUL bytes, control characters, lone surrogates and Unicode
digits are refused with a clear 400, never a 500; a draft keeps what was saved and shows back
what was typed."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from access.formalities.actions import publish_project
from eds_portal.hostile_input import has_hostile_text, is_hostile, strict_int
from projects.actions import create_project, save_section
from tests.access.transparency_helpers import approved_project, record_mr004
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

METHODOLOGY = VALID_SECTIONS["methodology"]


@pytest.fixture
def project(researcher):
    project = create_project(by=researcher, title="Bronchiolites")
    save_section(project=project, section_key="methodology", raw=METHODOLOGY, by=researcher)
    return project


def _json_400(response):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_the_suite_runs_this_module_on_postgresql_when_it_can():
    # The reproductions are PostgreSQL's refusals; on SQLite they still must not be 500s.
    assert connection.vendor in {"postgresql", "sqlite"}


@pytest.mark.parametrize(
    "url",
    [
        "/transparency/projects/?q=%00",
        "/transparency/projects/?q=a%01b",
        "/transparency/projects/?q=%ED%A0%80",  # a lone surrogate, encoded as UTF-8 would
        "/transparency/projects/?q=%FF",
        "/transparency/projects/?%00=x",
        "/opposition/?project=%00",
        "/transparency/projects/%00/",
        "/transparency/projects/EDS%1F/",
    ],
)
def test_nul_and_control_characters_in_public_addresses_are_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "caractère de contrôle" in response.content.decode()


def test_ordinary_accents_and_newlines_in_text_pass():
    assert not is_hostile("Fièvre 39,5 °C\r\n\tœdème ²")
    assert is_hostile("a\x00b")
    assert is_hostile("\ud800")
    assert is_hostile("\x85")
    assert has_hostile_text({"a": ["ok", {"b": "x\x07"}]})


def test_api_addresses_with_nul_answer_json(client, researcher):
    login(client, researcher)
    body = _json_400(client.get("/api/v1/projects/?search=%00"))
    assert "caractère de contrôle" in body["detail"]


def test_a_project_number_beyond_64_bits_is_refused(client, researcher, project):
    login(client, researcher)
    huge = "9" * 30
    assert client.get(f"/projects/{huge}/").status_code == 400
    assert client.get(f"/projects/{2**63}/sections/methodology/").status_code == 400
    _json_400(client.get(f"/api/v1/projects/{huge}/"))
    # The largest 64-bit number is merely unknown.
    assert client.get(f"/projects/{2**63 - 1}/").status_code == 404


def test_strict_int_takes_ascii_digits_within_64_bits_only():
    assert strict_int("42") == 42
    assert strict_int("-3") == -3
    fullwidth = "\uff11\uff12"
    for raw in ("²", "٣", fullwidth, "1.0", " 1", "", "9" * 30, str(2**63), None, True):
        assert strict_int(raw) is None, raw
    assert strict_int("1999", minimum=2000) is None


# --- Drafts: the form -------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", ["Étude\x00 rétrospective", "Étude \x1b[31m"])
def test_a_nul_byte_in_a_section_form_is_refused_and_nothing_saved_is_lost(
    client, researcher, project, hostile
):
    login(client, researcher)
    response = client.post(
        f"/projects/{project.pk}/sections/methodology/",
        {**METHODOLOGY, "methodology": hostile, "population": "Tapé à l'instant"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "caractère de contrôle" in page
    # What was typed is shown back...
    assert "Tapé à l&#x27;instant" in page
    # ...and the stored draft is what was saved before.
    project.draft.refresh_from_db()
    assert project.draft.content["methodology"] == METHODOLOGY


# --- Drafts and criteria: the API ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {**METHODOLOGY, "methodology": "Étude\x00"},
        {**METHODOLOGY, "methodology": "\ud800"},
        {**METHODOLOGY, "\udfff": "x"},
        {**METHODOLOGY, "population": ["ok", "\x08"]},
    ],
)
def test_nul_or_lone_surrogate_in_a_section_over_the_api_is_a_400(researcher, project, body):
    api = login(APIClient(), researcher)
    response = api.put(
        f"/api/v1/projects/{project.pk}/sections/methodology/",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert "caractère de contrôle" in _json_400(response)["detail"]
    project.draft.refresh_from_db()
    assert project.draft.content["methodology"] == METHODOLOGY


@pytest.mark.parametrize("criterion", ["\ud800", "R74\x00", "R74\x1f"])
def test_a_hostile_feasibility_criterion_is_a_400(researcher, criterion):
    api = login(APIClient(), researcher)
    response = api.post(
        "/api/v1/warehouse/feasibility/",
        data=json.dumps({"icpc2_codes": criterion}),
        content_type="application/json",
    )
    _json_400(response)


def test_a_hostile_data_request_criterion_in_a_section_is_a_400(researcher, project):
    api = login(APIClient(), researcher)
    body = {**VALID_SECTIONS["data_request"], "icpc2_codes": "R78 \ud800"}
    response = api.put(
        f"/api/v1/projects/{project.pk}/sections/data_request/",
        data=json.dumps(body),
        content_type="application/json",
    )
    _json_400(response)
    project.draft.refresh_from_db()
    assert "data_request" not in project.draft.content


def test_a_form_body_with_a_control_character_is_a_400_on_other_pages(client, researcher):
    login(client, researcher)
    response = client.post("/projects/new/", {"title": "Bronchio\x00lites"})
    assert response.status_code == 400
    assert "caractère de contrôle" in response.content.decode()


# --- Numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["%C2%B2", "%D9%A3", "%EF%BC%91", "9" * 30, "0"])
def test_unicode_digits_in_a_version_number_are_a_400(
    client, researcher, secretariat, chair, version
):
    project = approved_project(researcher, secretariat, chair)
    record_mr004(project, secretariat)
    publish_project(project=project, by=secretariat)
    response = client.get(
        f"/transparency/projects/{project.reference}/information-note?version={version}"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("year", ["%C2%B2%C2%B2", "%D9%A2%D9%A0%D9%A2%D9%A5", "9" * 30])
def test_unicode_digits_in_a_year_are_a_400(client, dpo, year):
    login(client, dpo)
    response = client.get(f"/registers/oppositions/statistics/?year={year}")
    assert response.status_code == 400


def test_a_year_out_of_range_falls_back_to_this_year(client, dpo):
    login(client, dpo)
    assert client.get("/registers/oppositions/statistics/?year=1999").status_code == 200


# --- Token and session together -----------------------------------------------------------------


def test_a_client_holding_a_session_and_a_token_is_not_refused_for_csrf(client, researcher):
    login(client, researcher)
    key = Token.objects.create(user=researcher).key
    script = APIClient(enforce_csrf_checks=True)
    script.cookies = client.cookies
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    created = script.post("/api/v1/projects/", {"title": "Par script"}, format="json")
    assert created.status_code == 201, created.content
    # Without the token the session still needs its CSRF token.
    script.credentials()
    assert script.post("/api/v1/projects/", {"title": "x"}, format="json").status_code == 403
