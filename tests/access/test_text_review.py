"""Free text in provisioning (MIN-05): delivered only where approved, through the scrubber, with a
residual-risk note in the manifest; a random sample of scrubbed notes read by the data steward
before publication, which waits for that review; a run without free text publishes as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import publication, text_review
from eds_portal.models import AuditEvent, Notification
from tests.access.provisioning_helpers import (
    DBS,
    NOTES_VARIABLES,
    published,
    run_everything,
)
from tests.conftest import login
from warehouse.deid.pipeline import VERSION, measured
from warehouse.export import manifest as manifest_module
from warehouse.export import verify_dataset

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]

OTHER_ROLES = [
    "researcher",
    "secretariat",
    "commission_member",
    "patient_representative",
    "chair",
    "identity_officer",
    "dpo",
    "auditor",
    "outsider",
]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.LANGUAGE_CODE = "en"
    settings.EDS_DEID_REVIEW_SAMPLE = 5


@pytest.fixture
def with_notes(researcher, secretariat, chair):
    return published(researcher, secretariat, chair, variables=NOTES_VARIABLES)


@pytest.fixture
def held(with_notes, data_steward) -> ProvisioningRun:
    """A run of the project with notes, its parts written, waiting for the review."""
    run = ProvisioningRun.objects.create(project=with_notes, started_by=data_steward)
    run_everything(run.pk)
    run.refresh_from_db()
    return run


def events(action: str, run: ProvisioningRun):
    return AuditEvent.objects.filter(action=action, target_id=str(run.pk))


def test_a_run_that_delivers_free_text_waits_for_the_review(held, data_steward):
    assert held.status == RunStatus.REVIEW
    assert held.manifest is None
    assert not Path(held.dataset_path).exists()  # nothing downloadable yet
    sample = held.text_review_sample
    assert sample["build"] == held.build
    assert sample["size"] == 5 <= sample["pool"]
    # Positions only: no text of a note in the run row nor in the audit trail.
    assert all(len(item) == 4 and isinstance(item[3], int) for item in sample["items"])
    awaited = events("provisioning.text_review_awaited", held).get()
    assert awaited.after["sample_size"] == 5
    told = Notification.objects.filter(subject__contains="scrubbed notes to review")
    assert [n.recipient_id for n in told] == [data_steward.pk]
    assert told[0].url == reverse("provisioning_text_review", args=[held.pk])
    # The publication path refuses while the review is missing: the claim needs "writing", and
    # a run put back to writing without a review is held again.
    assert publication.publish_run(run_id=held.pk, worker="w2") is False
    ProvisioningRun.objects.filter(pk=held.pk).update(status=RunStatus.WRITING)
    assert publication.publish_run(run_id=held.pk, worker="w2") is True
    held.refresh_from_db()
    assert held.status == RunStatus.REVIEW
    assert held.manifest is None


def test_the_data_steward_reads_the_sample_and_every_view_is_audited(client, held, data_steward):
    login(client, data_steward)
    url = reverse("provisioning_text_review", args=[held.pk])
    response = client.get(url)
    assert response.status_code == 200
    notes = response.context["notes"]
    assert len(notes) == 5
    assert all(note["text"] and note["column"] == "call_notes" for note in notes)
    body = response.content.decode()
    assert "Call-taker notes" in body  # the variable's label, not the file's column name
    assert "call_notes" not in body
    assert 'id="review-confirm"' in body
    assert 'for="review-confirm"' in body
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    client.get(url)
    viewed = events("provisioning.text_sample_viewed", held)
    assert viewed.count() == 2
    for event in viewed:
        assert event.actor_id == data_steward.pk
        assert event.after == {"run": held.pk, "build": held.build, "sample_size": 5}
        recorded = json.dumps([event.before, event.after])
        assert not any(note["text"][:30] in recorded for note in notes)
    # The run page links to the review for the data steward.
    page = client.get(reverse("provisioning_run", args=[held.pk]))
    assert url in page.content.decode()


@pytest.mark.parametrize("persona", OTHER_ROLES, indirect=True)
def test_every_other_role_is_refused(client, held, persona):
    login(client, persona)
    url = reverse("provisioning_text_review", args=[held.pk])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"confirm": "yes"}).status_code in (403, 404)
    with pytest.raises(PermissionDenied):
        text_review.confirm_review(run=held, by=persona)
    held.refresh_from_db()
    assert held.status == RunStatus.REVIEW
    assert not events("provisioning.text_sample_viewed", held).exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client, held):
    response = client.get(reverse("provisioning_text_review", args=[held.pk]))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_confirming_without_ticking_is_a_400_that_changes_nothing(client, held, data_steward):
    login(client, data_steward)
    response = client.post(reverse("provisioning_text_review", args=[held.pk]), {})
    assert response.status_code == 400
    held.refresh_from_db()
    assert held.status == RunStatus.REVIEW
    assert held.text_reviewed_at is None


def test_after_the_review_the_dataset_is_published_with_its_residual_risk_note(
    client, held, data_steward, django_capture_on_commit_callbacks
):
    login(client, data_steward)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("provisioning_text_review", args=[held.pk]), {"confirm": "yes"}
        )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == RunStatus.PUBLISHED, held.reasons
    confirmed = events("provisioning.text_review_confirmed", held).get()
    assert confirmed.actor_id == data_steward.pk
    assert confirmed.after["run"] == held.pk
    assert confirmed.after["sample_size"] == 5
    folder = Path(held.dataset_path)
    assert verify_dataset(folder) == []
    manifest = json.loads((folder / manifest_module.MANIFEST).read_text(encoding="utf-8"))
    assert manifest == held.manifest
    assert manifest["format"] == manifest_module.FORMAT_VERSION == 3
    note = manifest["free_text"]
    assert note["columns"] == [{"table": "note", "column": "call_notes", "variable": "call.notes"}]
    # Counts of this run, per kind; the shipped evaluation figures; the review.
    texts = [
        text
        for text in pq.read_table(folder / "note.parquet").column("call_notes").to_pylist()
        if text
    ]
    assert note["texts"] == len(texts) > 0
    assert sum(note["identifiers_found"].values()) > 0
    assert set(note["identifiers_found"]) <= set(note["replaced"])
    assert note["policy"] == {"dates": "day", "ages": "none", "times_of_day": "none"}
    evaluation = note["pipeline"]["evaluation"]
    assert note["pipeline"]["version"] == VERSION == evaluation["pipeline"]
    assert evaluation["overall_recall"] == measured()["overall_recall"] >= 0.99
    assert evaluation["overall_precision"] == measured()["overall_precision"] >= 0.90
    assert note["review"]["user_id"] == data_steward.pk
    assert note["review"]["by"] == data_steward.full_name
    assert note["review"]["at"] == held.text_reviewed_at.isoformat(timespec="seconds")
    assert note["review"]["sample_size"] == 5
    # The run page says who read the sample and when; the sample is no longer shown.
    page = client.get(reverse("provisioning_run", args=[held.pk]))
    assert data_steward.full_name in page.content.decode()
    again = client.get(reverse("provisioning_text_review", args=[held.pk]))
    assert again.status_code == 200
    assert again.context["notes"] == []


def test_a_confirmation_outside_the_review_is_refused(held, data_steward):
    ProvisioningRun.objects.filter(pk=held.pk).update(status=RunStatus.CANCELLED)
    held.refresh_from_db()
    with pytest.raises(text_review.ReviewRefused):
        text_review.confirm_review(run=held, by=data_steward)


def test_a_review_of_an_earlier_build_does_not_count(held, data_steward):
    text_review.confirm_review(run=held, by=data_steward)
    held.refresh_from_db()
    assert text_review.is_reviewed(held)
    held.build += 1  # a newer objection rebuilt the parts: other notes, read again
    assert not text_review.is_reviewed(held)
    assert text_review.review_needed(held)


def test_the_data_steward_may_cancel_a_run_waiting_for_the_review(client, held, data_steward):
    login(client, data_steward)
    client.post(reverse("provisioning_run_cancel", args=[held.pk]))
    held.refresh_from_db()
    assert held.status == RunStatus.CANCELLED


def test_a_run_without_free_text_publishes_as_before(researcher, secretariat, chair, data_steward):
    project = published(researcher, secretariat, chair)
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    run_everything(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    assert run.text_review_sample is None
    assert run.manifest["free_text"] is None
    assert not (Path(run.dataset_path) / "note.csv").exists()  # free text never unapproved
    assert not AuditEvent.objects.filter(action__startswith="provisioning.text_").exists()
