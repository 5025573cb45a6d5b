"""The projects API: drafts, data request, submission, withdrawal, versions, tokens, docs."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.actions import create_project, submit_project
from projects.models import Project, ProjectStatus, TeamMembership, TeamRole
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

API = "/api/v1/projects/"


@pytest.fixture
def api(researcher):
    return login(APIClient(), researcher)


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites")


def _object_urls(pk: int) -> list[tuple[str, str]]:
    base = f"{API}{pk}/"
    return [
        ("get", base),
        ("get", f"{base}sections/methodology/"),
        ("put", f"{base}sections/methodology/"),
        ("post", f"{base}submit/"),
        ("post", f"{base}withdraw/"),
        ("get", f"{base}versions/"),
        ("get", f"{base}versions/1/"),
    ]


def _call(client, method: str, url: str):
    return getattr(client, method)(url, {"reason": "x"} if method == "post" else {}, format="json")


# --- The journey ------------------------------------------------------------------------------


def test_create_fill_check_submit_and_read_the_versions(api, researcher):
    created = api.post(API, {"title": "  Bronchiolites à domicile "}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["reference"].startswith("EDS-")
    assert body["status"] == "draft"
    assert body["my_role"] == "lead"
    assert body["editable"] is True
    assert created["Location"].endswith(f"{API}{pk}/")
    assert AuditEvent.objects.filter(action="project.created", actor=researcher).exists()

    # An invalid section is stored as typed, with its messages.
    section_url = f"{API}{pk}/sections/methodology/"
    typed = {
        "methodology": "Rétrospective.",
        "population": "",
        "planned_start": "2026-05-01",
        "planned_end": "2026-01-01",
    }
    saved = api.put(section_url, typed, format="json")
    assert saved.status_code == 200
    assert saved.json()["saved"] is True
    assert saved.json()["valid"] is False
    errors = saved.json()["errors"]
    assert set(errors) == {"population", "planned_end"}
    assert errors["planned_end"][0]["message"]
    assert Project.objects.get(pk=pk).draft.content["methodology"] == typed

    read = api.get(section_url).json()
    assert read["raw"] == typed
    assert read["started"] is True
    assert set(read["errors"]) == {"population", "planned_end"}
    assert {field["name"] for field in read["fields"]} == set(typed)

    saved = api.put(section_url, VALID_SECTIONS["methodology"], format="json").json()
    assert saved == {"saved": True, "valid": True, "errors": {}}

    # Completeness says what is missing: the other sections and the attachments.
    detail = api.get(f"{API}{pk}/").json()
    missing = detail["completeness"]["missing"]
    assert detail["completeness"]["complete"] is False
    sections = {item["section"] for item in missing}
    assert "methodology" not in sections
    assert {"purpose", "data_request", "attachments"} <= sections
    assert all(item["label"] and item["message"] for item in missing)
    submit = next(t for t in detail["transitions"] if t["name"] == "submit")
    assert submit["possible"] is False
    assert submit["reasons"]

    refused = api.post(f"{API}{pk}/submit/")
    assert refused.status_code == 409
    assert refused.json()["reasons"]
    assert refused.json()["missing"]
    assert not Project.objects.get(pk=pk).versions.exists()

    project = Project.objects.get(pk=pk)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    assert api.get(f"{API}{pk}/").json()["completeness"] == {"complete": True, "missing": []}

    submitted = api.post(f"{API}{pk}/submit/")
    assert submitted.status_code == 201, submitted.content
    version = submitted.json()
    assert version["number"] == 1
    assert version["project"] == project.reference
    assert version["content"]["methodology"] == VALID_SECTIONS["methodology"]
    assert submitted["Location"].endswith(f"{API}{pk}/versions/1/")

    detail = api.get(f"{API}{pk}/").json()
    assert detail["status"] == ProjectStatus.SUBMITTED
    assert detail["editable"] is False
    assert detail["completeness"] is None
    assert [v["number"] for v in detail["versions"]] == [1]

    versions = api.get(f"{API}{pk}/versions/").json()
    assert [v["number"] for v in versions] == [1]
    frozen = api.get(f"{API}{pk}/versions/1/").json()
    assert frozen["content"]["data_request"] == VALID_SECTIONS["data_request"]
    assert frozen["content_sha256"] == project.versions.get().content_sha256
    assert api.get(f"{API}{pk}/versions/2/").status_code == 404

    # A submitted project is no longer editable.
    assert api.put(section_url, {"methodology": "Autre."}, format="json").status_code == 409
    assert api.get(section_url).status_code == 409

    listed = api.get(API).json()
    assert listed["count"] == 1
    assert listed["results"][0]["versions_count"] == 1
    assert listed["results"][0]["my_role"] == "lead"
    assert listed["results"][0]["status"] == "submitted"


def test_the_data_request_is_a_section_with_json_values(api, project):
    url = f"{API}{project.pk}/sections/data_request/"
    fields = {field["name"] for field in api.get(url).json()["fields"]}
    assert {"expected_persons", "access_months", "var__person.sex", "icpc2_codes"} <= fields
    body = {
        "var__person.sex": True,
        "just__person.sex": "Décrire la population.",
        "gen__person.sex": "exact",
        "var__diagnosis.icpc2": True,
        "just__diagnosis.icpc2": "Identifier les bronchiolites.",
        "icpc2_codes": "R78",
        "age_max": 2,
        "expected_persons": 5000,
        "access_months": 24,
        "var__person.birth_date": False,
    }
    saved = api.put(url, body, format="json")
    assert saved.status_code == 200
    assert saved.json()["valid"] is True, saved.json()
    stored = Project.objects.get(pk=project.pk).draft.content["data_request"]
    assert stored["var__person.sex"] == "on"
    assert stored["expected_persons"] == "5000"
    assert "var__person.birth_date" not in stored

    too_long = api.put(url, {**body, "access_months": 99}, format="json").json()
    assert too_long["saved"] is True
    assert "access_months" in too_long["errors"]


def test_a_body_that_cannot_be_a_section_is_refused_and_nothing_is_stored(api, project):
    url = f"{API}{project.pk}/sections/purpose/"
    unknown = api.put(url, {"objectives": "x", "objectivs": "typo"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["unknown_fields"] == ["objectivs"]
    nested = api.put(url, {"objectives": {"a": 1}}, format="json")
    assert nested.status_code == 400
    assert api.put(url, ["objectives"], format="json").status_code == 400
    assert "purpose" not in Project.objects.get(pk=project.pk).draft.content
    assert api.get(f"{API}{project.pk}/sections/nonsense/").status_code == 404
    assert api.put(f"{API}{project.pk}/sections/nonsense/", {}, format="json").status_code == 404


def test_withdraw_needs_a_reason_and_happens_once(api, project):
    url = f"{API}{project.pk}/withdraw/"
    assert api.post(url, {}, format="json").status_code == 400
    assert api.post(url, {"reason": "   "}, format="json").status_code == 400
    withdrawn = api.post(url, {"reason": "Financement arrêté."}, format="json")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawal_reason"] == "Financement arrêté."
    assert AuditEvent.objects.filter(action="project.withdraw").count() == 1
    again = api.post(url, {"reason": "Encore."}, format="json")
    assert again.status_code == 409
    assert again.json()["reasons"]


def test_team_roles_decide_what_members_may_do(project, make_user):
    analyst = make_user(Role.RESEARCHER)
    co_investigator = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    TeamMembership.objects.create(
        project=project, user=co_investigator, role=TeamRole.CO_INVESTIGATOR
    )
    section = f"{API}{project.pk}/sections/purpose/"

    client = login(APIClient(), analyst)
    assert client.get(f"{API}{project.pk}/").json()["my_role"] == "analyst"
    assert client.put(section, {"objectives": "x"}, format="json").status_code == 403
    assert client.post(f"{API}{project.pk}/submit/").status_code == 403

    client = login(APIClient(), co_investigator)
    assert client.put(section, {"objectives": "x"}, format="json").status_code == 200
    assert client.post(f"{API}{project.pk}/submit/").status_code == 403
    withdraw = client.post(f"{API}{project.pk}/withdraw/", {"reason": "x"}, format="json")
    assert withdraw.status_code == 403


# --- Who may know a project exists ------------------------------------------------------------


def test_strangers_get_404_on_every_object_endpoint(project, make_user):
    stranger = login(APIClient(), make_user(Role.RESEARCHER))
    hidden, missing = _object_urls(project.pk), _object_urls(999_999)
    for (method, url), (_same, unknown_url) in zip(hidden, missing, strict=True):
        response = _call(stranger, method, url)
        assert response.status_code == 404, (method, url, response.status_code)
        # The same answer as for a project that does not exist.
        assert response.json() == _call(stranger, method, unknown_url).json()
    assert stranger.get(API).json()["count"] == 0
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT
    assert "methodology" not in project.draft.content


def test_anonymous_is_refused_everywhere(project):
    anonymous = APIClient()
    for method, url in [("get", API), ("post", API), *_object_urls(project.pk)]:
        assert _call(anonymous, method, url).status_code in (401, 403), (method, url)


def test_the_secretariat_reads_but_does_not_write(project, secretariat):
    client = login(APIClient(), secretariat)
    assert client.get(f"{API}{project.pk}/").status_code == 200
    assert client.get(API).json()["results"][0]["my_role"] is None
    assert client.post(API, {"title": "x"}, format="json").status_code == 403
    section = f"{API}{project.pk}/sections/purpose/"
    assert client.put(section, {"objectives": "x"}, format="json").status_code == 403
    assert client.post(f"{API}{project.pk}/submit/").status_code == 403


def test_list_query_count_does_not_grow_with_projects(api, researcher):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(API).status_code == 200
        return len(queries)

    create_project(by=researcher, title="A")
    few = count()
    for index in range(5):
        project = create_project(by=researcher, title=f"P{index}")
        fill_draft(project, researcher)
        attach_required(project, researcher)
        submit_project(project=project, by=researcher)
    assert count() == few


# --- Tokens -----------------------------------------------------------------------------------


def test_the_token_page_shows_the_token_once_and_audits_without_it(client, researcher):
    login(client, researcher)
    assert client.get("/account/api-token/").status_code == 200

    created = client.post("/account/api-token/", {"action": "create"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    key = Token.objects.get(user=researcher).key
    assert key in created.content.decode()
    assert key not in client.get("/account/api-token/").content.decode()

    replaced = client.post("/account/api-token/", {"action": "create"})
    new_key = Token.objects.get(user=researcher).key
    assert new_key != key
    assert new_key in replaced.content.decode()

    events = AuditEvent.objects.filter(action="api.token_created", actor=researcher)
    assert [e.after for e in events.order_by("seq")] == [{"replaced": False}, {"replaced": True}]
    revoked = client.post("/account/api-token/", {"action": "revoke"})
    assert revoked.status_code == 302
    assert not Token.objects.filter(user=researcher).exists()
    assert AuditEvent.objects.filter(action="api.token_revoked", actor=researcher).count() == 1
    for event in AuditEvent.objects.filter(action__startswith="api.token"):
        recorded = json.dumps([event.before, event.after, event.target_id])
        assert key not in recorded
        assert new_key not in recorded
    assert client.post("/account/api-token/", {"action": "other"}).status_code == 400


def test_the_token_page_is_for_researchers(client, secretariat, outsider):
    login(client, secretariat)
    assert client.get("/account/api-token/").status_code == 403
    login(client, outsider)
    assert client.post("/account/api-token/", {"action": "create"}).status_code == 403
    assert not Token.objects.exists()


def test_a_researchers_token_works_for_scripts(client, researcher):
    login(client, researcher)
    client.post("/account/api-token/", {"action": "create"})
    key = Token.objects.get(user=researcher).key
    script = APIClient(enforce_csrf_checks=True)
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    created = script.post(API, {"title": "Par script"}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    saved = script.put(f"{API}{pk}/sections/purpose/", {"objectives": "x"}, format="json")
    assert saved.status_code == 200
    assert script.get(API).json()["count"] == 1
    me = script.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["two_factor_verified"] is False

    client.post("/account/api-token/", {"action": "revoke"})
    assert script.get(API).status_code in (401, 403)


def test_a_staff_token_is_refused(secretariat, project):
    token = Token.objects.create(user=secretariat)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for url in (API, f"{API}{project.pk}/", "/api/v1/me/", "/api/v1/schema/"):
        assert script.get(url).status_code == 403, url
    # The same account with a session that passed the second factor is let in.
    assert login(APIClient(), secretariat).get(f"{API}{project.pk}/").status_code == 200


# --- Schema and documentation -----------------------------------------------------------------


def test_the_schema_is_valid_and_lists_every_endpoint(api):
    from openapi_spec_validator import validate

    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    paths = spec["paths"]
    expected = {
        "/api/v1/projects/": {"get", "post"},
        "/api/v1/projects/{id}/": {"get"},
        "/api/v1/projects/{id}/sections/{key}/": {"get", "put"},
        "/api/v1/projects/{id}/submit/": {"post"},
        "/api/v1/projects/{id}/withdraw/": {"post"},
        "/api/v1/projects/{id}/versions/": {"get"},
        "/api/v1/projects/{id}/versions/{number}/": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert "tokenAuth" in spec["components"]["securitySchemes"]
    detail = paths["/api/v1/projects/{id}/"]["get"]["responses"]["200"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/ProjectDetail")


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_ASSETS = re.compile(r'(?:src|href)="(/static/[^"]+)"')


def _check_page(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert not _INLINE_SCRIPT.search(html), _INLINE_SCRIPT.search(html)
    assert "<style" not in html
    assert "cdn" not in html.lower()
    assets = _ASSETS.findall(html)
    assert assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)
    return html, policy


def _policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def test_swagger_ui_is_served_from_vendored_files_without_inline_script(api):
    html, policy = _check_page(api.get("/api/v1/docs/"))
    assert policy["style-src"] == ["'self'"]
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    script_url = re.search(r'<script src="(/api/v1/docs/\?[^"]*script[^"]*)"', html).group(1)
    script = api.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert '"/api/v1/schema/' in script.content.decode()


def test_redoc_is_served_from_vendored_files_with_a_style_nonce(api):
    html, policy = _check_page(api.get("/api/v1/redoc/"))
    assert "/static/vendor/redoc/bundles/redoc.standalone.js" in html
    assert 'data-spec-url="/api/v1/schema/"' in html
    assert html.index("redoc-init.js") < html.index("redoc.standalone.js")
    # Redoc's <style> elements get the init script's nonce; only styles accept it.
    nonce = re.search(r'<script src="[^"]*redoc-init\.js" nonce="([^"]+)"', html).group(1)
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]


def test_the_docs_need_an_account_with_a_role(client, outsider):
    for url in ("/api/v1/docs/", "/api/v1/redoc/", "/api/v1/docs/?script="):
        assert client.get(url).status_code == 403
    login(client, outsider)
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        assert client.get(url).status_code == 403


def test_the_project_list_links_to_the_token_page_and_the_docs(client, researcher):
    login(client, researcher)
    html = client.get("/projects/").content.decode()
    assert 'href="/account/api-token/"' in html
    assert 'href="/api/v1/docs/"' in html
