"""Decision letters (GOV-11), who reads decisions, and the sessions and decisions API."""

from __future__ import annotations

import json

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import Decision, Vote
from projects.sessions import actions
from projects.sessions.letters import _no_network_fetcher, letter_pdf, render_letter_html
from tests.conftest import login
from tests.projects.sessions_helpers import approve_all, decide, declare

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def decision(voting, chair, commission_member):
    actions.cast_vote(item=voting, by=commission_member, choice="favourable")
    return decide(
        voting,
        chair,
        opinion="favourable_recommendations",
        recommendations="Préciser la durée de conservation.",
        variable_decisions={
            **approve_all(voting.version),
            "person.birth_date": {"verdict": "refuse", "reason": "Âge suffisant via la visite."},
        },
    )


def _letter(decision) -> str:
    return f"/projects/{decision.project_id}/decisions/{decision.pk}/"


# --- Letters -------------------------------------------------------------------------------


def test_the_letter_is_dated_numbered_reasoned_and_signed(client, decision, researcher, chair):
    login(client, researcher)
    response = client.get(_letter(decision), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert decision.number in html
    assert decision.version.content_sha256 in html
    assert "Préciser la durée de conservation." in html
    assert decision.reasons in html
    assert "Âge suffisant via la visite." in html
    assert "Not delivered" in html
    assert chair.full_name in html
    assert "/static/projects/decision_letter.css" in html
    assert "<script" not in html


def test_the_pdf_is_a_pdf_and_fetches_nothing(client, decision, researcher):
    login(client, researcher)
    response = client.get(_letter(decision) + "letter.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert decision.number in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="decision.letter_downloaded").count() == 1
    with pytest.raises(ValueError, match="may not fetch"):
        _no_network_fetcher().fetch("https://example.org/tracker.png")


def test_the_pdf_renders_without_any_fetch(decision, monkeypatch):
    fetched = []
    from weasyprint.urls import URLFetcher

    def spy(self, url, headers=None):
        fetched.append(url)
        raise ValueError(url)

    monkeypatch.setattr(URLFetcher, "fetch", spy)
    assert letter_pdf(decision).startswith(b"%PDF")
    html = render_letter_html(decision, for_pdf=True)
    assert "<link" not in html
    assert fetched == []


# --- Who reads decisions -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretariat", "dpo", "chair"], indirect=True)
def test_staff_who_follow_the_file_read_the_decision(client, persona, decision):
    login(client, persona)
    assert client.get(_letter(decision)).status_code == 200


@pytest.mark.parametrize(
    "persona", ["identity_officer", "data_steward", "auditor", "outsider"], indirect=True
)
def test_roles_without_the_permission_are_refused(client, persona, decision):
    login(client, persona)
    assert client.get(_letter(decision)).status_code == 403
    assert client.get(_letter(decision) + "letter.pdf").status_code == 403


def test_another_researcher_gets_404(client, decision, make_user):
    login(client, make_user(Role.RESEARCHER))
    assert client.get(_letter(decision)).status_code == 404
    assert client.get(_letter(decision) + "letter.pdf").status_code == 404
    assert client.get(f"/api/v1/projects/{decision.project_id}/decisions/").status_code == 404


def test_a_conflicted_or_undeclared_member_gets_404(client, decision, make_user, rapporteur):
    undeclared = make_user(Role.COMMISSION_MEMBER)
    login(client, undeclared)
    assert client.get(_letter(decision)).status_code == 404
    declare(decision.project, rapporteur, interest=True)
    login(client, rapporteur)
    assert client.get(_letter(decision)).status_code == 404


def test_the_team_reads_the_decision_but_not_the_voters(client, decision, researcher, chair):
    login(client, researcher)
    project_page = client.get(f"/projects/{decision.project_id}/").content.decode()
    assert decision.number in project_page
    assert "Âge suffisant via la visite." in project_page  # refused variable, with its reason
    assert chair.full_name not in project_page.replace(researcher.full_name, "")
    letter = client.get(_letter(decision)).content.decode()
    for vote in Vote.objects.select_related("member"):
        assert vote.member.full_name not in letter
    assert client.get(f"/commission/sessions/{decision.agenda_item.session_id}/").status_code == 403


def test_only_the_chair_corrects(client, decision, secretariat, chair, english):
    login(client, secretariat)
    assert client.get(_letter(decision) + "correct/").status_code == 403
    login(client, chair)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    form = client.get(_letter(decision) + "correct/")
    assert form.status_code == 200
    data = {
        "opinion": "favourable",
        "reasons": "Erreur matérielle : les recommandations étaient déjà satisfaites.",
        "verdict__person.sex": "approve",
        "verdict__person.birth_date": "refuse",
        "reason__person.birth_date": "Âge suffisant via la visite.",
        "verdict__diagnosis.icpc2": "approve",
    }
    response = client.post(_letter(decision) + "correct/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    correction = Decision.objects.get(supersedes=decision)
    old = client.get(_letter(decision)).content.decode()
    assert correction.number in old  # "superseded by"


# --- API -----------------------------------------------------------------------------------


def test_api_sessions_for_the_commission_only(voting, chair, researcher):
    api = login(APIClient(), chair)
    listing = api.get("/api/v1/commission/sessions/")
    assert listing.status_code == 200
    assert listing.json()[0]["id"] == voting.session_id
    detail = api.get(f"/api/v1/commission/sessions/{voting.session_id}/").json()
    assert detail["quorum_reached"] is True
    assert detail["agenda"][0]["project_reference"] == voting.project.reference
    assert len(detail["attendance"]) == 3
    assert login(APIClient(), researcher).get("/api/v1/commission/sessions/").status_code == 403


def test_api_vote_tally_and_decide(voting, chair, commission_member, patient_representative):
    base = f"/api/v1/commission/sessions/{voting.session_id}/items/{voting.pk}/"
    member = login(APIClient(), commission_member)
    assert member.post(base + "vote/", {"choice": "favourable"}, format="json").status_code == 201
    again = member.post(base + "vote/", {"choice": "unfavourable"}, format="json")
    assert again.status_code == 409
    assert again.json()["reasons"]
    # Independent votes: while open, a member sees their own vote, nothing of the others'.
    tally = member.get(base + "tally/").json()
    assert tally["closed"] is False
    assert tally["my_vote"] == "favourable"
    assert tally["counts"] is None
    assert tally["cast"] is None
    assert tally["not_voted"] is None
    assert member.post(base + "decide/", {}, format="json").status_code == 403
    api = login(APIClient(), chair)
    body = {
        "opinion": "favourable",
        "reasons": "Intérêt public.",
        "variable_decisions": {
            "person.sex": {"verdict": "approve"},
            "person.birth_date": {"verdict": "coarser", "generalisation": "five_year_band"},
            "diagnosis.icpc2": {"verdict": "approve"},
        },
    }
    refused = api.post(base + "decide/", body, format="json")
    assert refused.status_code == 409
    assert "person.birth_date" in refused.json()["field_errors"]
    body["variable_decisions"]["person.birth_date"]["reason"] = "Petits effectifs."
    created = api.post(base + "decide/", body, format="json")
    assert created.status_code == 201, created.content
    # The decision closed the vote: the tally is shown to the member now.
    tally = member.get(base + "tally/").json()
    assert tally["closed"] is True
    assert tally["counts"]["favourable"] == 1
    assert tally["cast"] == 1
    assert tally["eligible"] == 3
    spec = created.json()["approved_specification"]
    assert {v["code"]: v["generalisation"] for v in spec["variables"]} == {
        "person.sex": "exact",
        "person.birth_date": "five_year_band",
        "diagnosis.icpc2": "exact",
    }


def test_api_decisions_for_the_team_with_a_token(decision, researcher):
    token = Token.objects.create(user=researcher)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    listing = script.get(f"/api/v1/projects/{decision.project_id}/decisions/")
    assert listing.status_code == 200
    body = listing.json()[0]
    assert body["number"] == decision.number
    assert body["current"] is True
    assert body["approved_specification"]["refused"] == [
        {"code": "person.birth_date", "reason": "Âge suffisant via la visite."}
    ]
    assert "tally" not in json.dumps(body)
    detail = script.get(f"/api/v1/projects/{decision.project_id}/decisions/{decision.pk}/")
    assert detail.json()["specification_sha256"] == decision.specification_sha256
    assert script.get("/api/v1/commission/sessions/").status_code == 403


def test_api_staff_tokens_are_refused(decision, chair):
    token = Token.objects.create(user=chair)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert script.get("/api/v1/commission/sessions/").status_code == 403


def test_the_schema_lists_the_commission_endpoints(researcher):
    from openapi_spec_validator import validate

    api = login(APIClient(), researcher)
    spec = json.loads(api.get("/api/v1/schema/?format=json").content)
    validate(spec)
    paths = spec["paths"]
    for path in (
        "/api/v1/commission/sessions/",
        "/api/v1/commission/sessions/{session_id}/",
        "/api/v1/commission/sessions/{session_id}/open/",
        "/api/v1/commission/sessions/{session_id}/attendance/",
        "/api/v1/commission/sessions/{session_id}/items/{item_id}/vote/",
        "/api/v1/commission/sessions/{session_id}/items/{item_id}/tally/",
        "/api/v1/commission/sessions/{session_id}/items/{item_id}/decide/",
        "/api/v1/projects/{id}/decisions/",
        "/api/v1/projects/{id}/decisions/{decision_id}/",
    ):
        assert path in paths, path
