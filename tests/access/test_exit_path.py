"""The exit path (SEC-03, MIN-13, MIN-14, OPP-11): "may this file be served to this user now?"

One function (``access.provisioning.serving.may_serve``) answers for every download path; it is
asked at each request, so a link issued earlier stops working the moment the state changes:
no second factor, a replaced dataset, a suspended, closed or withdrawn project, the end of
access, a recipient removed by a new decision. The periodic sweep destroys what must go and
catches objections whose propagation message was lost.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from access.models_provisioning import (
    DestructionCertificate,
    Propagation,
    ProvisioningRun,
    RunStatus,
)
from access.opposition import actions as opposition_actions
from access.provisioning import delivery, links, propagation, publication, runs, serving
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects import workflow
from projects.models import Decision, ProjectStatus, Recommendation
from tests.access.helpers import online_request
from tests.access.provisioning_helpers import (
    DBS,
    object_to_everything,
    person_keys,
    pseudonyms_in,
    published,
    specification,
)
from tests.conftest import current_code, login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


@pytest.fixture(autouse=True)
def _english_messages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def researcher(make_user):
    """The named recipient, enrolled in two-factor login."""
    return make_user(
        Role.RESEARCHER, full_name="Rita Researcher", email="rita@inserm.example", device=True
    )


@pytest.fixture
def project(researcher, secretariat, chair):
    return published(researcher, secretariat, chair)


def deliver(project, data_steward, capture) -> ProvisioningRun:
    with capture(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    return run


@pytest.fixture
def run(project, data_steward, django_capture_on_commit_callbacks):
    return deliver(project, data_steward, django_capture_on_commit_callbacks)


def fetch(client, url):
    response = client.get(url)
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
        for closer in response._resource_closers:  # not close(): it ends the test's connection
            closer()
        response.body = body
    return response


def downloads() -> int:
    return AuditEvent.objects.filter(action="provisioning.downloaded").count()


# --- 1. The second factor before any download (SEC-03) ---------------------------------------


def test_a_recipient_without_a_device_enrols_and_comes_back_to_the_file(
    client,
    researcher,
    secretariat,
    chair,
    data_steward,
    make_user,
    django_capture_on_commit_callbacks,
):
    # A researcher with no second factor at all: the home page promised it would be required.
    bare = make_user(Role.RESEARCHER, full_name="Bea Bare")
    project = published(
        bare, secretariat, chair, recipients=[(bare, "lead"), (researcher, "co_investigator")]
    )
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)

    login(client, bare)
    home = client.get("/").content.decode()
    assert "It will be required before you download any data." in home
    page = client.get(reverse("provisioning_run", args=[run.pk])).content.decode()
    assert "/provisioning/download/" not in page  # no link without the second factor
    assert "Set up two-factor login" in page

    link = links.download_url(run, "person.csv", bare)
    response = client.get(link)
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_setup"))
    assert downloads() == 0

    # Enrolment, then back to the very file.
    setup = client.get(response.url)
    assert setup.status_code == 200
    device = bare.totpdevice_set.get()
    done = client.post(response.url, {"token": current_code(device)})
    assert done.status_code == 302
    assert done.url == link
    file = fetch(client, done.url)
    assert file.status_code == 200
    assert file.body.startswith(b"person_")
    assert downloads() == 1


def test_a_recipient_with_a_device_passes_it_in_this_session_first(client, run, researcher):
    login(client, researcher, verified=False)
    link = links.download_url(run, "manifest.json", researcher)
    response = client.get(link)
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    device = researcher.totpdevice_set.get()
    done = client.post(response.url, {"token": current_code(device)})
    assert done.url == link
    assert fetch(client, link).status_code == 200


@pytest.mark.parametrize("name", ["person.csv", "person.parquet", "manifest.json"])
def test_no_file_of_any_kind_leaves_without_the_second_factor(client, run, researcher, name):
    login(client, researcher, verified=False)
    assert client.get(links.download_url(run, name, researcher)).status_code == 302
    assert downloads() == 0
    assert serving.may_serve(researcher, run, name).refusal in (
        serving.Refusal.VERIFY_SECOND_FACTOR,
    )


def test_a_stranger_learns_nothing_even_before_the_second_factor(client, run, make_user):
    stranger = make_user(Role.RESEARCHER)
    login(client, stranger, verified=False)
    # A link made for the stranger on someone else's run: 404, never the 2FA page.
    assert client.get(links.download_url(run, "person.csv", stranger)).status_code == 404


# --- 2. A dataset dies with its right to exist -----------------------------------------------


def test_a_replacement_after_an_objection_revokes_and_destroys_the_superseded_dataset(
    client, run, researcher, identity_officer, django_capture_on_commit_callbacks
):
    key = person_keys()[0]
    pseudonym = propagation.run_pseudonym(run, key)
    old_link = links.download_url(run, "person.csv", researcher)
    login(client, researcher)
    assert fetch(client, old_link).status_code == 200
    mail.outbox.clear()

    request = online_request()
    with django_capture_on_commit_callbacks(execute=True):
        opposition_actions.confirm_match(
            by=identity_officer, request=request, person_key=key, method="test"
        )

    replacement = Propagation.objects.get().replacement
    replacement.refresh_from_db()
    assert replacement.status == RunStatus.PUBLISHED
    run.refresh_from_db()
    assert run.superseded_by == replacement
    assert run.superseded_at is not None
    # The old link is refused, naming the replacement; nothing is downloaded.
    before = downloads()
    refused = client.get(old_link)
    assert refused.status_code == 410
    html = refused.content.decode()
    assert f"run {replacement.pk}" in html
    assert reverse("provisioning_run", args=[replacement.pk]) in html
    assert downloads() == before
    assert AuditEvent.objects.filter(
        action="provisioning.download_refused", after__refusal="superseded"
    ).exists()
    # Grace period 0: destroyed at once, with a certificate; the person is not in the new one.
    certificate = DestructionCertificate.objects.get(run=run)
    assert certificate.reason == delivery.REASON_SUPERSEDED
    assert not Path(run.dataset_path).exists()
    assert pseudonym not in pseudonyms_in(Path(replacement.dataset_path))
    page = client.get(reverse("provisioning_run", args=[run.pk])).content.decode()
    assert "a newer version of the dataset replaced it" in page
    assert fetch(client, links.download_url(replacement, "person.csv", researcher)).status_code == (
        200
    )
    assert any("earlier dataset replaced" in m.subject for m in mail.outbox)


def test_a_grace_period_keeps_the_files_unserved_until_the_sweep(
    client, project, run, researcher, data_steward, settings, django_capture_on_commit_callbacks
):
    settings.EDS_SUPERSEDED_GRACE_HOURS = 48
    newer = deliver(project, data_steward, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.superseded_by == newer
    login(client, researcher)
    assert client.get(links.download_url(run, "person.csv", researcher)).status_code == 410
    assert Path(run.dataset_path).exists()
    assert delivery.sweep_datasets()["superseded"] == 0
    later = timezone.now() + timedelta(hours=49)
    assert delivery.sweep_datasets(now=later)["superseded"] == 1
    assert not Path(run.dataset_path).exists()
    assert DestructionCertificate.objects.get(run=run).reason == delivery.REASON_SUPERSEDED
    # The newer one is untouched.
    assert not DestructionCertificate.objects.filter(run=newer).exists()


def test_a_suspension_stops_downloads_at_once_and_resuming_restores_them(
    client, run, researcher, dpo
):
    link = links.download_url(run, "person.csv", researcher)
    run.project.refresh_from_db()
    assert run.project.status == ProjectStatus.ACTIVE
    login(client, dpo)
    page = client.get(reverse("project_detail", args=[run.project.pk])).content.decode()
    assert reverse("project_lifecycle", args=[run.project.pk]) in page
    response = client.post(
        reverse("project_lifecycle", args=[run.project.pk]),
        {"transition": "suspend", "reason": "Audit de sécurité du laboratoire"},
    )
    assert response.status_code == 302
    run.project.refresh_from_db()
    assert run.project.status == ProjectStatus.SUSPENDED

    login(client, researcher)
    refused = client.get(link)  # issued before the suspension
    assert refused.status_code == 403
    assert "Suspended" in refused.content.decode()
    api = client.get(f"/api/v1/runs/{run.pk}/files/")
    assert api.status_code == 403
    assert api.json()["refusal"] == "project_stopped"
    assert downloads() == 0
    assert Path(run.dataset_path).exists()  # kept, unserved, for a resumption
    assert delivery.sweep_datasets()["stopped"] == 0

    login(client, dpo)
    client.post(
        reverse("project_lifecycle", args=[run.project.pk]),
        {"transition": "resume", "reason": "Audit clos"},
    )
    login(client, researcher)
    assert fetch(client, link).status_code == 200
    assert downloads() == 1


def test_closing_a_project_destroys_its_datasets(
    client, run, researcher, secretariat, django_capture_on_commit_callbacks, settings
):
    # The lead's final report, required to close, is tested in tests/access/test_outputs.py.
    settings.EDS_CLOSEOUT_REPORT_REQUIRED = False
    link = links.download_url(run, "person.csv", researcher)
    login(client, secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("project_lifecycle", args=[run.project.pk]), {"transition": "close"}
        )
    assert response.status_code == 302
    certificate = DestructionCertificate.objects.get(run=run)
    assert certificate.reason == delivery.REASON_PROJECT_CLOSED
    assert not Path(run.dataset_path).exists()
    # The team of a closed project holds no right on it any more (projects.permissions): the
    # link is unknown to them, no longer merely gone.
    login(client, researcher)
    assert client.get(link).status_code == 404


def test_the_end_of_access_refuses_links_already_issued(client, run, researcher, monkeypatch):
    link = links.download_url(run, "person.csv", researcher)
    login(client, researcher)
    ended = timezone.now() - timedelta(minutes=1)
    monkeypatch.setattr(serving.selectors, "access_ends_at", lambda run: ended)
    refused = client.get(link)
    assert refused.status_code == 410
    assert "access period ended" in refused.content.decode()
    assert downloads() == 0


def test_a_recipient_removed_by_a_new_decision_no_longer_downloads(
    client, run, researcher, make_user, chair
):
    other = make_user(Role.RESEARCHER)
    link = links.download_url(run, "person.csv", researcher)
    old = Decision.objects.get(project=run.project)
    Decision.objects.create(
        number="CSE-P-9999",
        project=run.project,
        version=old.version,
        opinion=Recommendation.FAVOURABLE,
        reasons="Correction : destinataire retiré.",
        approved_specification=specification([(other, "lead")]),
        signed_by=chair,
        supersedes=old,
    )
    login(client, researcher)
    assert client.get(link).status_code == 404
    assert downloads() == 0


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("dpo", 200),
        ("secretariat", 200),
        ("researcher", 403),  # the lead may not suspend their own project
        ("data_steward", 404),  # may not read the project file
        ("commission_member", 404),
        ("auditor", 404),
        ("outsider", 404),
    ],
)
def test_the_lifecycle_page_by_role(client, run, request, persona, expected):
    login(client, request.getfixturevalue(persona))
    url = reverse("project_lifecycle", args=[run.project.pk])
    assert client.get(url).status_code == expected
    response = client.post(url, {"transition": "suspend", "reason": "x"})
    assert response.status_code in ({200: 302}.get(expected, expected), 400)
    run.project.refresh_from_db()
    assert (run.project.status == ProjectStatus.SUSPENDED) is (expected == 200)


def test_a_suspension_needs_its_grounds(client, run, dpo):
    login(client, dpo)
    response = client.post(
        reverse("project_lifecycle", args=[run.project.pk]), {"transition": "suspend"}
    )
    assert response.status_code == 400
    assert "Give the grounds" in response.content.decode()
    run.project.refresh_from_db()
    assert run.project.status == ProjectStatus.ACTIVE


@pytest.mark.parametrize("grounds", ["Audit\x00 en cours", "\x00"])
def test_hostile_grounds_are_refused_with_a_400_and_change_nothing(client, run, dpo, grounds):
    login(client, dpo)
    events = AuditEvent.objects.count()
    response = client.post(
        reverse("project_lifecycle", args=[run.project.pk]),
        {"transition": "suspend", "reason": grounds},
    )
    assert response.status_code == 400
    run.project.refresh_from_db()
    assert run.project.status == ProjectStatus.ACTIVE
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("change", ["suspend\x00", "close", "\u0661", "s\u0075spend "])
def test_a_change_not_offered_is_refused_with_a_400(client, run, dpo, change):
    login(client, dpo)  # the DPO may suspend and resume, not close
    response = client.post(
        reverse("project_lifecycle", args=[run.project.pk]),
        {"transition": change, "reason": "Motif"},
    )
    assert response.status_code == 400
    run.project.refresh_from_db()
    assert run.project.status == ProjectStatus.ACTIVE


def test_a_lone_surrogate_sent_as_raw_bytes_is_no_500(client, run, dpo):
    # A browser sends a lone surrogate as the bytes ED A0 80, which Django decodes as U+FFFD.
    login(client, dpo)
    response = client.post(
        reverse("project_lifecycle", args=[run.project.pk]),
        "transition=suspend&reason=Audit%20%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="project.suspend").latest("seq")
    assert "\ufffd" in event.after["reason"]


def test_a_hostile_download_token_is_refused_never_a_500(client, run, researcher):
    login(client, researcher)
    # A NUL byte in the path: the portal's 400 (eds_portal.hostile_input).
    assert client.get("/provisioning/download/%00/").status_code == 400
    # Invalid UTF-8 (Django keeps it percent-encoded) or Unicode digits: no such token.
    for token in ("x%ED%A0%80", "١٢٣"):
        assert client.get(f"/provisioning/download/{token}/").status_code == 404


# --- The sweep: lost propagation messages ---------------------------------------------------


def test_the_sweep_catches_an_objection_whose_propagation_message_was_lost(
    run, data_steward, django_capture_on_commit_callbacks
):
    key = person_keys()[1]
    # The register entry is appended, but no propagation message is ever sent.
    object_to_everything(key, by=data_steward)
    assert not Propagation.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        counts = delivery.sweep_datasets()
    assert counts["propagations"] == 1
    item = Propagation.objects.get()
    assert item.run == run
    assert item.pseudonyms == [propagation.run_pseudonym(run, key)]
    # Twice: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.sweep_datasets()["propagations"] == 0


def test_the_beat_schedule_runs_the_sweep():
    from eds_portal.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "access.provisioning.tasks.sweep_datasets_task" in tasks


def test_a_run_of_a_suspended_project_is_refused(
    run, dpo, data_steward, django_capture_on_commit_callbacks
):
    workflow.fire(run.project, "suspend", by=dpo, reason="Enquête")
    with django_capture_on_commit_callbacks(execute=True):
        again = runs.start_run(project=run.project, by=data_steward)
    again.refresh_from_db()
    assert again.status == RunStatus.FAILED
    assert any("Suspended" in reason for reason in again.reasons)


def test_an_objection_received_during_a_run_stops_its_publication(project, data_steward, settings):
    from access.models_provisioning import RunPart
    from tests.access.helpers import online_request as received

    run = runs.start_run(project=project, by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    for part in RunPart.objects.filter(run=run):
        runs.write_part(part_id=part.pk, worker="w1")
    request = received()  # online, awaiting the identity officer, scope: every reuse
    publication.publish_run(run_id=run.pk, worker="w1")
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert any(request.receipt_number in reason for reason in run.reasons)
    assert not Path(run.dataset_path).exists()
    assert AuditEvent.objects.filter(
        action="provisioning.run_refused", target_id=str(run.pk)
    ).exists()
