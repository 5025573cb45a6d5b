"""Downloading by script (MIN-13, SEC-03): download tokens created after the second factor.

A named recipient signed in with the second factor creates a short-lived token (run page or
API); a script presenting it as ``Authorization: Bearer`` lists the run's files with absolute
links and downloads them; every other check of ``serving.may_serve`` applies at each request.
An API token never downloads; a bad, expired, revoked or foreign token is a clear 4xx.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models_provisioning import DownloadToken, ProvisioningRun, RunStatus
from access.provisioning import download_tokens
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import ProjectStatus, TeamMembership, TeamRole
from tests.access.provisioning_helpers import DBS, published, run_everything
from tests.conftest import login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


@pytest.fixture
def researcher(make_user):
    """The named recipient, enrolled in two-factor login."""
    return make_user(
        Role.RESEARCHER, full_name="Rita Researcher", email="rita@inserm.example", device=True
    )


@pytest.fixture
def analyst(make_user):
    """On the team, not named as a recipient."""
    return make_user(Role.RESEARCHER, full_name="Ana Analyst", device=True)


@pytest.fixture
def project(researcher, secretariat, chair, analyst):
    project = published(researcher, secretariat, chair)
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    return project


def new_run(project, data_steward) -> ProvisioningRun:
    created = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    done = run_everything(created.pk)
    assert done.status == RunStatus.PUBLISHED, done.reasons
    return done


@pytest.fixture
def run(project, data_steward):
    return new_run(project, data_steward)


@pytest.fixture
def token_value(run, researcher):
    _token, value = download_tokens.create_download_token(run=run, by=verified(researcher))
    return value


def verified(user):
    """The user as django-otp's middleware gives it after the second factor."""
    user.is_verified = lambda: True
    return user


def bearer(value: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


def content_of(response) -> bytes:
    body = b"".join(response.streaming_content)
    for closer in response._resource_closers:
        closer()
    return body


def files_url(run) -> str:
    return reverse("api_run_files", args=[run.pk])


# --- Creating a token ---------------------------------------------------------------------------


def test_a_recipient_creates_a_token_on_the_run_page_shown_once_and_stored_hashed(
    client, run, researcher
):
    login(client, researcher)
    response = client.post(reverse("provisioning_download_token_create", args=[run.pk]))
    assert response.status_code == 200
    value = response.context["new_token"]
    assert value.startswith("edsdl_")
    assert value in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    token = DownloadToken.objects.get()
    assert token.user == researcher
    assert token.run == run
    assert token.key_sha256 == hashlib.sha256(value.encode()).hexdigest()
    assert value not in {token.key_sha256, token.prefix}
    lifetime = token.expires_at - token.created_at
    assert lifetime == timedelta(minutes=60)
    event = AuditEvent.objects.get(action="provisioning.download_token_created")
    assert event.actor == researcher
    assert value not in str(event.after)
    assert value not in str(event.before)
    # Shown once: the page lists it afterwards by its prefix only.
    page = client.get(reverse("provisioning_run", args=[run.pk])).content.decode()
    assert value not in page
    assert token.prefix in page


def test_the_lifetime_is_a_setting(client, run, researcher, settings):
    settings.EDS_DOWNLOAD_TOKEN_MINUTES = 5
    login(client, researcher)
    client.post(reverse("provisioning_download_token_create", args=[run.pk]))
    token = DownloadToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(minutes=5)


def test_the_api_creates_a_token_only_from_a_session_that_passed_the_second_factor(
    client, run, researcher
):
    from rest_framework.authtoken.models import Token

    url = reverse("api_run_download_tokens", args=[run.pk])
    # Without the second factor in this session: refused, with what to do.
    login(client, researcher, verified=False)
    refused = client.post(url)
    assert refused.status_code == 403
    assert refused.json()["refusal"] == "verify_second_factor"
    # An API token carries no second factor.
    client.logout()
    api_token = Token.objects.create(user=researcher)
    refused = client.post(url, HTTP_AUTHORIZATION=f"Token {api_token.key}")
    assert refused.status_code == 403
    assert refused.json()["refusal"] == "token"
    assert not DownloadToken.objects.exists()

    login(client, researcher)
    created = client.post(url)
    assert created.status_code == 201
    body = created.json()
    assert body["run"] == run.pk
    assert body["files"] == f"http://testserver{files_url(run)}"
    assert created["Cache-Control"] == "no-store"
    token = DownloadToken.objects.get()
    assert token.key_sha256 == hashlib.sha256(body["token"].encode()).hexdigest()
    # A download token does not create another one.
    client.logout()
    assert client.post(url, **bearer(body["token"])).status_code in (401, 403)
    assert DownloadToken.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "expected", "expected_api"),
    [
        # On the team, not named: the page learns nothing (as its download links); the API
        # answers 403, as for the run's files, to a caller who may see the run.
        ("analyst", 404, 403),
        ("other_researcher", 404, 404),  # a stranger
        ("data_steward", 403, 403),  # no role to download
        ("dpo", 403, 403),
        ("secretariat", 403, 403),
        ("auditor", 403, 403),
        ("outsider", 403, 403),
    ],
)
def test_nobody_but_the_named_recipients_creates_a_token(
    client, run, make_user, request, persona, expected, expected_api
):
    if persona == "other_researcher":
        user = make_user(Role.RESEARCHER, device=True)
    else:
        user = request.getfixturevalue(persona)
    login(client, user)
    page = client.post(reverse("provisioning_download_token_create", args=[run.pk]))
    assert page.status_code == expected
    api = client.post(reverse("api_run_download_tokens", args=[run.pk]))
    assert api.status_code == expected_api
    assert not DownloadToken.objects.exists()


def test_no_token_for_a_session_without_the_second_factor_on_the_page(client, run, researcher):
    login(client, researcher, verified=False)
    response = client.post(reverse("provisioning_download_token_create", args=[run.pk]))
    assert response.status_code == 403
    assert "authenticator app" in response.content.decode()
    assert not DownloadToken.objects.exists()


def test_anonymous_creates_no_token(client, run):
    response = client.post(reverse("provisioning_download_token_create", args=[run.pk]))
    assert response.status_code == 302
    assert client.post(reverse("api_run_download_tokens", args=[run.pk])).status_code == 403


# --- A script downloads with it ---------------------------------------------------------------


def test_a_script_lists_the_files_and_downloads_each_one_audited(client, run, token_value):
    listing = client.get(files_url(run), **bearer(token_value))
    assert listing.status_code == 200
    body = listing.json()
    names = [entry["name"] for entry in body["files"]]
    assert names[-2:] == ["manifest.json", "dataset.zip"]
    token = DownloadToken.objects.get()
    for entry in body["files"]:
        assert entry["url"] == (
            f"http://testserver{reverse('api_run_file', args=[run.pk, entry['name']])}"
        )
        response = client.get(entry["url"], **bearer(token_value))
        assert response.status_code == 200, entry["name"]
        assert response["Cache-Control"] == "no-store"
        data = content_of(response)
        if entry["sha256"]:
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    events = AuditEvent.objects.filter(action="provisioning.downloaded")
    assert events.count() == len(names)
    assert {event.after["download_token"] for event in events} == {token.pk}
    assert {event.actor_id for event in events} == {token.user_id}
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-token",
        "Bearer edsdl_" + "A" * 43,  # well formed, unknown
        "Bearer edsdl_\x00" + "A" * 42,  # a NUL byte
        "Bearer \x00",
        "Bearer",
        "Bearer a b",
        "Bearer " + "x" * 5000,
    ],
)
def test_a_bad_token_is_a_401_never_a_500(client, run, header):
    for url in (files_url(run), reverse("api_run_file", args=[run.pk, "person.csv"])):
        response = client.get(url, HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, (url, header)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert "detail" in response.json()
    assert not AuditEvent.objects.filter(action="provisioning.downloaded").exists()


def test_an_expired_token_is_refused(client, run, token_value):
    DownloadToken.objects.update(
        created_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    response = client.get(files_url(run), **bearer(token_value))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_a_revoked_token_is_refused_and_only_its_owner_revokes_it(
    client, run, researcher, analyst, token_value
):
    token = DownloadToken.objects.get()
    url = reverse("provisioning_download_token_revoke", args=[run.pk, token.pk])
    login(client, analyst)
    assert client.post(url).status_code == 404
    login(client, researcher)
    response = client.post(url)
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == researcher
    assert AuditEvent.objects.filter(
        action="provisioning.download_token_revoked", actor=researcher
    ).exists()
    client.logout()
    refused = client.get(files_url(run), **bearer(token_value))
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    # Not listed any more on the page.
    login(client, researcher)
    page = client.get(reverse("provisioning_run", args=[run.pk]))
    assert page.context["download_tokens"] == []


def test_a_token_opens_its_own_run_only(client, run, project, data_steward, token_value):
    other = new_run(project, data_steward)  # supersedes ``run``
    for url in (files_url(other), reverse("api_run_file", args=[other.pk, "person.csv"])):
        assert client.get(url, **bearer(token_value)).status_code == 404
    # And its own run is now replaced: refused with the run in force.
    refused = client.get(files_url(run), **bearer(token_value))
    assert refused.status_code == 410
    assert refused.json()["refusal"] == "superseded"
    assert refused.json()["replacement"].endswith(f"/api/v1/runs/{other.pk}/")
    file_refused = client.get(
        reverse("api_run_file", args=[run.pk, "person.csv"]), **bearer(token_value)
    )
    assert file_refused.status_code == 410
    assert AuditEvent.objects.filter(action="provisioning.download_refused").exists()


def test_a_token_stops_working_when_the_project_is_suspended(client, run, project, token_value):
    project.__class__.objects.filter(pk=project.pk).update(status=ProjectStatus.SUSPENDED)
    listing = client.get(files_url(run), **bearer(token_value))
    assert listing.status_code == 403
    assert listing.json()["refusal"] == "project_stopped"
    download = client.get(
        reverse("api_run_file", args=[run.pk, "person.csv"]), **bearer(token_value)
    )
    assert download.status_code == 403
    refused = AuditEvent.objects.get(action="provisioning.download_refused")
    assert refused.after["refusal"] == "project_stopped"
    assert refused.after["download_token"] == DownloadToken.objects.get().pk
    assert not AuditEvent.objects.filter(action="provisioning.downloaded").exists()
    # Resumed: the same token works again (while it lasts).
    project.__class__.objects.filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)
    assert client.get(files_url(run), **bearer(token_value)).status_code == 200


def test_a_token_stops_working_when_its_user_is_no_longer_a_recipient(
    client, run, researcher, token_value
):
    TeamMembership.objects.filter(project=run.project, user=researcher).delete()
    assert client.get(files_url(run), **bearer(token_value)).status_code == 404
    researcher.is_active = False
    researcher.save(update_fields=["is_active"])
    assert client.get(files_url(run), **bearer(token_value)).status_code == 401


def test_file_names_that_are_no_file_are_404(client, run, token_value):
    for name in ("..%2Fmanifest.json", "%00", "person.csv%00", ".hidden", "nothing.csv"):
        response = client.get(f"/api/v1/runs/{run.pk}/files/{name}", **bearer(token_value))
        # A NUL byte in the address is refused before any view (eds_portal/hostile_input.py).
        assert response.status_code == (400 if "%00" in name else 404), name
    assert not AuditEvent.objects.filter(action="provisioning.downloaded").exists()


def test_a_download_token_is_no_credential_elsewhere(client, run, token_value):
    for url in (
        reverse("api_run", args=[run.pk]),
        f"/api/v1/projects/{run.project.pk}/runs/",
        "/api/v1/me/",
    ):
        assert client.get(url, **bearer(token_value)).status_code == 403, url


def test_the_ordinary_api_token_still_never_downloads(client, run, researcher):
    from rest_framework.authtoken.models import Token

    api_token = Token.objects.create(user=researcher)
    header = {"HTTP_AUTHORIZATION": f"Token {api_token.key}"}
    listing = client.get(files_url(run), **header)
    assert listing.status_code == 403
    assert listing.json()["refusal"] == "token"
    download = client.get(reverse("api_run_file", args=[run.pk, "person.csv"]), **header)
    assert download.status_code == 403
    # Nor as a bearer token.
    assert client.get(files_url(run), **bearer(api_token.key)).status_code == 401
    assert not AuditEvent.objects.filter(action="provisioning.downloaded").exists()


def test_a_verified_session_downloads_from_the_api_file_endpoint_too(client, run, researcher):
    login(client, researcher)
    response = client.get(reverse("api_run_file", args=[run.pk, "manifest.json"]))
    assert response.status_code == 200
    assert hashlib.sha256(content_of(response)).hexdigest() == run.manifest_sha256
    client.logout()
    login(client, researcher, verified=False)
    refused = client.get(reverse("api_run_file", args=[run.pk, "manifest.json"]))
    assert refused.status_code == 403
    assert refused.json()["refusal"] == "verify_second_factor"
