"""Home pages per role, the API's own endpoints and the health check."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from eds_portal.home import EMPTY_STATES, empty_state_for, panels_for
from eds_portal.roles import Role
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "role"),
    [
        ("secretariat", Role.SECRETARIAT),
        ("commission_member", Role.COMMISSION_MEMBER),
        ("patient_representative", Role.PATIENT_REPRESENTATIVE),
        ("chair", Role.CHAIR),
        ("identity_officer", Role.IDENTITY_OFFICER),
        ("data_steward", Role.DATA_STEWARD),
        ("dpo", Role.DPO),
    ],
    indirect=["persona"],
)
def test_home_shows_each_role_its_section_and_empty_state(client, persona, role, settings):
    settings.LANGUAGE_CODE = "en"
    login(client, persona)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="role-{role.value}"' in html
    primary = [panel for panel in panels_for(role) if role in panel.primary_for]
    if primary:
        # The role's main work has its own panel (with its own empty text): no generic state.
        assert empty_state_for(role) is None
        assert escape(str(EMPTY_STATES[role])) not in html
        for panel in primary:
            assert escape(str(panel.title)) in html
    else:
        assert escape(str(EMPTY_STATES[role])) in html
    other_roles = set(Role) - persona.roles
    for other in other_roles:
        assert f'id="role-{other.value}"' not in html


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_researcher_home_lists_projects_and_what_is_awaited(client, researcher):
    from projects.actions import create_project

    login(client, researcher)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No research project yet" in html
    project = create_project(by=researcher, title="Otites en hiver")
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert project.reference in html
    assert "Complete the sections and submit." in html
    assert escape(str(EMPTY_STATES[Role.RESEARCHER])) not in html


def test_auditor_home_lists_recent_events_and_not_the_empty_state(client, auditor):
    login(client, auditor)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "role.granted" in html  # the auditor's own role grant, the latest event
    assert escape(str(EMPTY_STATES[Role.AUDITOR])) not in html
    assert 'href="/audit/"' in html


def test_navigation_shows_the_audit_trail_only_to_those_who_may_see_it(client, dpo, researcher):
    login(client, researcher)
    assert 'href="/audit/"' not in client.get("/").content.decode()
    login(client, dpo)
    assert 'href="/audit/"' in client.get("/").content.decode()


def test_account_without_role_is_told_why_the_page_is_empty(client, outsider):
    login(client, outsider)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="no-role-title"' in html


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_home_query_count_is_pinned(client, chair, django_assert_num_queries):
    from projects.actions import create_project
    from projects.models import Project

    for i in range(3):
        Project.objects.filter(pk=create_project(by=chair, title=f"P{i}").pk).update(
            status="under_review"
        )
    login(client, chair)
    client.get("/")
    # Session, user, OTP device, roles (4); the files in review, their teams and members (2
    # prefetches), declarations (4); my assignments and draft reviews (2); unread
    # notifications (1); sessions and their items for the chair, then for the member, and
    # written procedures (5); files entrusted as an external expert (1); OTP device check,
    # session save (2): the same for 3 files as for 100; the panel shared by the chair's two
    # roles is built once.
    with django_assert_num_queries(21):
        client.get("/")
    for i in range(3, 8):
        Project.objects.filter(pk=create_project(by=chair, title=f"P{i}").pk).update(
            status="under_review"
        )
    with django_assert_num_queries(21):
        client.get("/")


def test_api_me(client, chair):
    login(client, chair)
    body = client.get("/api/v1/me/").json()
    assert body["email"] == chair.email
    assert body["roles"] == ["chair", "commission_member"]
    assert body["two_factor_verified"] is True


def test_api_refuses_anonymous_and_roleless(client, outsider):
    assert client.get("/api/v1/me/").status_code == 403
    login(client, outsider)
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/api/v1/schema/").status_code == 403


def test_openapi_schema_lists_the_endpoints(client, researcher):
    login(client, researcher)
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/me/" in paths
    assert "/api/v1/audit-events/" in paths


@pytest.mark.django_db(databases=["default", "warehouse", "vault"])
def test_health_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["database.default"] == "ok"
