"""Delivery (MIN-13), destruction (MIN-14) and the provisioning pages for every role."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from access.models_provisioning import DestructionCertificate, ProvisioningRun, RunStatus
from access.provisioning import delivery, links, runs
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import TeamMembership, TeamRole
from tests.access.provisioning_helpers import DBS, approved, published, run_everything
from tests.conftest import login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


@pytest.fixture(autouse=True)
def _english_messages(settings):
    # Subjects and bodies of notifications are rendered in LANGUAGE_CODE; the assertions read
    # the English msgids.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def researcher(make_user):
    """The named recipient, enrolled in two-factor login (SEC-03: no download without it)."""
    return make_user(
        Role.RESEARCHER, full_name="Rita Researcher", email="rita@inserm.example", device=True
    )


@pytest.fixture
def analyst(make_user):
    """On the team, but not named as a recipient in the approved specification."""
    return make_user(Role.RESEARCHER, full_name="Ana Analyst")


@pytest.fixture
def other_researcher(make_user):
    return make_user(Role.RESEARCHER, full_name="Oscar Other")


@pytest.fixture
def run(researcher, secretariat, chair, data_steward, analyst):
    project = published(researcher, secretariat, chair)
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    created = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    done = run_everything(created.pk)
    assert done.status == RunStatus.PUBLISHED
    return done


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_of(response) -> bytes:
    body = b"".join(response.streaming_content)
    # Not response.close(): its request_finished signal would close the test's connection.
    for closer in response._resource_closers:
        closer()
    return body


def download(client, run, name, user):
    return client.get(links.download_url(run, name, user))


# --- Downloads ------------------------------------------------------------------------------


def test_a_named_recipient_downloads_every_file_and_each_download_is_audited(
    client, run, researcher
):
    login(client, researcher)
    page = client.get(reverse("provisioning_run", args=[run.pk]))
    assert page.status_code == 200
    names = [entry["name"] for entry in run.manifest["files"]]
    for name in names:
        assert name in page.content.decode()
    for entry in run.manifest["files"]:
        response = download(client, run, entry["name"], researcher)
        assert response.status_code == 200
        body = content_of(response)
        assert sha256(body) == entry["sha256"]
        assert response["Cache-Control"] == "no-store"
    manifest = download(client, run, "manifest.json", researcher)
    assert manifest.status_code == 200
    assert b'"key_id"' in content_of(manifest)
    downloads = AuditEvent.objects.filter(action="provisioning.downloaded", actor=researcher)
    assert downloads.count() == len(names) + 1
    recorded = {event.after["file"]: event.after["sha256"] for event in downloads}
    for entry in run.manifest["files"]:
        assert recorded[entry["name"]] == entry["sha256"]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("analyst", 404),  # on the team, not named
        ("other_researcher", 404),  # a stranger to the project
        ("data_steward", 403),  # no role to download
        ("dpo", 403),
        ("secretariat", 403),
        ("commission_member", 403),
        ("auditor", 403),
        ("outsider", 403),
    ],
)
def test_nobody_but_the_named_recipients_downloads(client, run, request, persona, expected):
    user = request.getfixturevalue(persona)
    login(client, user)
    response = download(client, run, "person.csv", user)
    assert response.status_code == expected
    assert not AuditEvent.objects.filter(action="provisioning.downloaded").exists()


def test_a_link_is_bound_to_its_user(client, run, researcher, analyst):
    # The analyst is on the team; the researcher's link does not work for them.
    link = links.download_url(run, "person.csv", researcher)
    login(client, analyst)
    assert client.get(link).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, run, researcher):
    response = download(client, run, "person.csv", researcher)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_an_expired_link_is_refused(client, run, researcher, monkeypatch, settings):
    link = links.download_url(run, "person.csv", researcher)
    login(client, researcher)
    later = time.time() + settings.EDS_DOWNLOAD_LINK_MINUTES * 60 + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.get(link)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not AuditEvent.objects.filter(action="provisioning.downloaded").exists()


def test_an_altered_link_or_file_name_is_refused(client, run, researcher):
    login(client, researcher)
    link = links.download_url(run, "person.csv", researcher)
    assert client.get(link[:-3] + "xx/").status_code == 404
    assert download(client, run, "../../etc/passwd", researcher).status_code == 404
    assert download(client, run, ".run-1.parts", researcher).status_code == 404


def test_a_recipient_who_left_the_team_no_longer_downloads(client, run, researcher):
    link = links.download_url(run, "person.csv", researcher)
    TeamMembership.objects.filter(project=run.project, user=researcher).delete()
    login(client, researcher)
    assert client.get(link).status_code == 404


def test_a_recipient_with_a_second_factor_must_pass_it(client, run, researcher):
    login(client, researcher, verified=False)
    response = download(client, run, "person.csv", researcher)
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    login(client, researcher, verified=True)
    response = download(client, run, "person.csv", researcher)
    assert response.status_code == 200
    content_of(response)


# --- Destruction at expiry ----------------------------------------------------------------


def test_datasets_are_destroyed_at_access_expiry_with_a_certificate(
    client, run, researcher, dpo, django_capture_on_commit_callbacks
):
    folder = Path(run.dataset_path)
    assert delivery.destroy_expired_datasets() == 0  # not yet
    assert folder.exists()
    later = timezone.now() + timedelta(days=31 * 25)
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.destroy_expired_datasets(now=later) == 1
    assert not folder.exists()
    certificate = DestructionCertificate.objects.get(run=run)
    assert certificate.destroyed_by is None
    listed = {entry["name"]: entry["sha256"] for entry in run.manifest["files"]}
    recorded = {entry["name"]: entry["sha256"] for entry in certificate.files}
    assert {name: recorded[name] for name in listed} == listed
    assert "manifest.json" in recorded
    assert all(entry["found"] for entry in certificate.files)
    event = AuditEvent.objects.get(action="provisioning.destroyed", target_id=str(run.pk))
    assert event.actor_id is None
    told = {m.to[0] for m in mail.outbox if "destroyed" in m.subject}
    assert {researcher.email, dpo.email} <= told
    # Shown to the DPO and the team; nothing left to download.
    for user in (dpo, researcher):
        login(client, user)
        page = client.get(reverse("provisioning_run", args=[run.pk])).content.decode()
        assert "Destruction certificate" in page
        assert listed["person.csv"] in page
        assert "new decision" in page
    refused = download(client, run, "person.csv", researcher)
    assert refused.status_code == 410
    assert "destroyed" in refused.content.decode()
    assert delivery.destroy_expired_datasets(now=later) == 0
    with pytest.raises(PermissionError):
        certificate.delete()


# --- Pages for every role ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("researcher", 200),
        ("analyst", 200),
        ("data_steward", 200),
        ("dpo", 200),
        ("other_researcher", 404),
        ("secretariat", 403),
        ("commission_member", 403),
        ("chair", 403),
        ("identity_officer", 403),
        ("auditor", 403),
        ("outsider", 403),
    ],
)
def test_run_pages_by_role(client, run, request, persona, expected):
    login(client, request.getfixturevalue(persona))
    for name in ("provisioning_run", "provisioning_run_progress"):
        assert client.get(reverse(name, args=[run.pk])).status_code == expected
    assert client.get(reverse("provisioning_project", args=[run.project.pk])).status_code == (
        expected
    )


def test_only_the_recipient_sees_download_links(client, run, researcher, analyst, data_steward):
    for user, links_shown in ((researcher, True), (analyst, False), (data_steward, False)):
        login(client, user)
        page = client.get(reverse("provisioning_run", args=[run.pk])).content.decode()
        assert ("/provisioning/download/" in page) is links_shown


def test_the_progress_bar_polls_while_the_run_is_active(
    client, researcher, secretariat, chair, data_steward
):
    project = published(researcher, secretariat, chair)
    run = runs.start_run(project=project, by=data_steward)
    login(client, researcher)
    fragment = client.get(reverse("provisioning_run_progress", args=[run.pk]))
    html = fragment.content.decode()
    assert '<progress id="run-progress-bar"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "Parts done: 0 of 0." in html
    runs.cancel_run(run=run, by=data_steward)
    fragment = client.get(reverse("provisioning_run_progress", args=[run.pk]))
    assert 'hx-trigger="every 2s"' not in fragment.content.decode()
    assert fragment["HX-Refresh"] == "true"


def test_steward_starts_and_cancels_from_the_pages(
    client, researcher, secretariat, chair, data_steward
):
    project = published(researcher, secretariat, chair)
    login(client, researcher)
    assert client.post(reverse("provisioning_start", args=[project.pk])).status_code == 403
    login(client, data_steward)
    page = client.get(reverse("provisioning_project", args=[project.pk]))
    assert "Every gate is passed" in page.content.decode()
    response = client.post(reverse("provisioning_start", args=[project.pk]))
    run = ProvisioningRun.objects.get(project=project)
    assert response.url == reverse("provisioning_run", args=[run.pk])
    again = client.post(reverse("provisioning_start", args=[project.pk]), follow=True)
    assert "already in progress" in again.content.decode()
    login(client, researcher)
    assert client.post(reverse("provisioning_run_cancel", args=[run.pk])).status_code == 403
    login(client, data_steward)
    client.post(reverse("provisioning_run_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert AuditEvent.objects.filter(action="provisioning.cancelled").count() == 1


def test_the_steward_list_and_home_panel_show_ready_and_blocked_projects(
    client, researcher, secretariat, chair, data_steward, django_assert_max_num_queries
):
    ready = published(researcher, secretariat, chair, title="Prête")
    blocked = approved(researcher, secretariat, chair, title="Bloquée")
    for _number in range(3):
        run = ProvisioningRun.objects.create(project=ready, started_by=data_steward)
        run_everything(run.pk)
    login(client, data_steward)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("provisioning_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert ready.reference in html
    assert blocked.reference in html
    assert "CNIL formality is not recorded" in html
    home = client.get("/").content.decode()
    assert "Provisioning" in home
    assert blocked.reference in home


def test_project_runs_page_query_count_is_pinned(
    client, run, data_steward, django_assert_max_num_queries
):
    for _number in range(3):
        extra = ProvisioningRun.objects.create(project=run.project, started_by=data_steward)
        run_everything(extra.pk)
    login(client, data_steward)
    with django_assert_max_num_queries(35):
        assert client.get(reverse("provisioning_project", args=[run.project.pk])).status_code == 200


def test_the_project_page_lists_runs_for_the_team_only(client, run, researcher, other_researcher):
    login(client, researcher)
    page = client.get(reverse("project_detail", args=[run.project.pk])).content.decode()
    assert "Datasets and provisioning runs" in page
    assert reverse("provisioning_run", args=[run.pk]) in page
    login(client, other_researcher)
    assert client.get(reverse("project_detail", args=[run.project.pk])).status_code == 404
