"""The provisioning API: a project's runs, start, detail with progress, cancel, download links.

The same rules as the pages: 404 for a project or run the caller may not know, 403 for a role
that sees it but may not act, 409 with the reasons for a refused step.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ObjectDoesNotExist

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import delivery, runs
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import TeamMembership, TeamRole
from tests.access.provisioning_helpers import DBS, published
from tests.conftest import login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


@pytest.fixture
def researcher(make_user):
    """The named recipient, enrolled in two-factor login (SEC-03: no download without it)."""
    return make_user(Role.RESEARCHER, full_name="Rita Researcher", device=True)


@pytest.fixture
def project(researcher, secretariat, chair):
    return published(researcher, secretariat, chair)


@pytest.fixture
def run(project, data_steward, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    return run


def test_the_data_steward_starts_a_run_and_follows_its_progress(
    client, project, data_steward, django_capture_on_commit_callbacks
):
    login(client, data_steward)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/projects/{project.pk}/runs/")
    assert response.status_code == 201
    body = response.json()
    run = ProvisioningRun.objects.get()
    assert body["id"] == run.pk
    assert response["Location"].endswith(f"/api/v1/runs/{run.pk}/")
    assert AuditEvent.objects.filter(action="provisioning.run_started", actor=data_steward).exists()

    detail = client.get(f"/api/v1/runs/{run.pk}/").json()
    assert detail["status"] == RunStatus.PUBLISHED
    assert detail["progress"]["percent"] == 100
    assert detail["progress"]["parts_done"] == detail["progress"]["parts_total"] == 2
    assert detail["key_id"] == run.key_id
    listed = client.get(f"/api/v1/projects/{project.pk}/runs/").json()
    assert [item["id"] for item in listed] == [run.pk]


def test_a_second_run_while_one_is_queued_is_refused_with_the_reason(client, project, data_steward):
    login(client, data_steward)
    assert client.post(f"/api/v1/projects/{project.pk}/runs/").status_code == 201  # queued
    refused = client.post(f"/api/v1/projects/{project.pk}/runs/")
    assert refused.status_code == 409
    assert refused.json()["reasons"] == ["A run of this project is already in progress."]
    assert ProvisioningRun.objects.count() == 1


def test_the_data_steward_cancels_a_queued_run(client, project, data_steward):
    login(client, data_steward)
    run_id = client.post(f"/api/v1/projects/{project.pk}/runs/").json()["id"]
    response = client.post(f"/api/v1/runs/{run_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == RunStatus.CANCELLED
    again = client.post(f"/api/v1/runs/{run_id}/cancel/")
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="provisioning.cancelled").count() == 1


@pytest.mark.parametrize("persona", ["researcher", "dpo"])
def test_those_who_follow_runs_may_not_start_or_cancel_them(client, project, run, persona, request):
    login(client, request.getfixturevalue(persona))
    assert client.get(f"/api/v1/projects/{project.pk}/runs/").status_code == 200
    assert client.get(f"/api/v1/runs/{run.pk}/").status_code == 200
    assert client.post(f"/api/v1/projects/{project.pk}/runs/").status_code == 403
    assert client.post(f"/api/v1/runs/{run.pk}/cancel/").status_code == 403
    assert ProvisioningRun.objects.count() == 1


@pytest.mark.parametrize(
    "persona", ["secretariat", "commission_member", "identity_officer", "auditor", "outsider"]
)
def test_roles_without_runs_are_refused(client, project, run, persona, request):
    login(client, request.getfixturevalue(persona))
    for url in (
        f"/api/v1/projects/{project.pk}/runs/",
        f"/api/v1/runs/{run.pk}/",
        f"/api/v1/runs/{run.pk}/files/",
    ):
        assert client.get(url).status_code == 403, url


def test_a_researcher_of_another_team_learns_nothing(client, project, run, make_user):
    stranger = make_user(Role.RESEARCHER)
    login(client, stranger)
    assert client.get(f"/api/v1/projects/{project.pk}/runs/").status_code == 404
    assert client.get(f"/api/v1/runs/{run.pk}/").status_code == 404
    assert client.get(f"/api/v1/runs/{run.pk}/files/").status_code == 404
    assert client.get("/api/v1/runs/999999/").status_code == 404


def test_anonymous_callers_are_refused(client, project, run):
    for url in (f"/api/v1/projects/{project.pk}/runs/", f"/api/v1/runs/{run.pk}/"):
        assert client.get(url).status_code in (401, 403)


def test_named_recipients_get_expiring_links_that_download(client, run, researcher):
    login(client, researcher)
    response = client.get(f"/api/v1/runs/{run.pk}/files/")
    assert response.status_code == 200
    body = response.json()
    names = {entry["name"] for entry in body["files"]}
    assert {"person.parquet", "person.csv", "manifest.json"} <= names
    link = next(entry["url"] for entry in body["files"] if entry["name"] == "person.csv")
    download = client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"person_")
    for closer in download._resource_closers:  # not close(): it would end the test's connection
        closer()
    assert AuditEvent.objects.filter(action="provisioning.downloaded", actor=researcher).exists()


def test_team_members_not_named_get_no_links(client, run, make_user, data_steward):
    analyst = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=run.project, user=analyst, role=TeamRole.ANALYST)
    login(client, analyst)
    assert client.get(f"/api/v1/runs/{run.pk}/").status_code == 200
    assert client.get(f"/api/v1/runs/{run.pk}/files/").status_code == 403
    login(client, data_steward)  # watches the runs, never downloads
    assert client.get(f"/api/v1/runs/{run.pk}/files/").status_code == 403


def test_the_schema_describes_the_provisioning_endpoints(client, researcher):
    login(client, researcher)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert set(paths["/api/v1/projects/{id}/runs/"]) == {"get", "post"}
    assert set(paths["/api/v1/runs/{id}/"]) == {"get"}
    assert set(paths["/api/v1/runs/{id}/cancel/"]) == {"post"}
    assert set(paths["/api/v1/runs/{id}/files/"]) == {"get"}


def test_a_destroyed_dataset_has_no_files(client, run, researcher):
    delivery.destroy_dataset(run=run, by=None)
    login(client, researcher)
    response = client.get(f"/api/v1/runs/{run.pk}/files/")
    assert response.status_code == 410
    assert response.json()["refusal"] == "destroyed"
    assert "files" not in response.json()
    detail = client.get(f"/api/v1/runs/{run.pk}/").json()
    assert detail["destroyed_at"] is not None
    try:
        run.refresh_from_db()
        run.destruction  # noqa: B018
    except ObjectDoesNotExist:  # pragma: no cover
        pytest.fail("no destruction certificate")


def test_an_api_token_never_gets_download_links(client, run, researcher):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=researcher)
    response = client.get(f"/api/v1/runs/{run.pk}/files/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403
    assert response.json()["refusal"] == "token"
    assert "/provisioning/download/" not in response.content.decode()


def test_a_session_without_the_second_factor_gets_no_links(client, run, researcher):
    login(client, researcher, verified=False)
    response = client.get(f"/api/v1/runs/{run.pk}/files/")
    assert response.status_code == 403
    assert response.json()["refusal"] == "verify_second_factor"
    assert "/provisioning/download/" not in response.content.decode()
