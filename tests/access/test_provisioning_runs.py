"""Provisioning runs: gates, claims, parts, publication, cancel, reaper, register re-check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from access.models_provisioning import PartStatus, ProvisioningRun, RunPart, RunStatus
from access.provisioning import publication, runs
from access.provisioning.keys import project_key
from eds_portal.models import AuditEvent
from tests.access.provisioning_helpers import (
    DBS,
    approved,
    mark_applied,
    object_to_everything,
    person_keys,
    pseudonyms_in,
    published,
    run_everything,
)
from warehouse.export import pseudonym, verify_dataset

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


def events(action: str, run: ProvisioningRun | None = None):
    qs = AuditEvent.objects.filter(action=action)
    if run is not None:
        qs = qs.filter(target_id=str(run.pk))
    return qs


@pytest.fixture(autouse=True)
def _english_messages(settings):
    # Subjects and bodies of notifications are rendered in LANGUAGE_CODE; the assertions read
    # the English msgids.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def project(researcher, secretariat, chair):
    return published(researcher, secretariat, chair)


def test_gates_refuse_in_the_task_with_every_reason(
    researcher, secretariat, chair, data_steward, django_capture_on_commit_callbacks
):
    project = approved(researcher, secretariat, chair)  # no formality, no public page
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert any("CNIL formality is not recorded" in reason for reason in run.reasons)
    assert any("not published on the transparency portal" in reason for reason in run.reasons)
    assert run.plan is None
    assert run.register_snapshot is None
    assert events("provisioning.run_started", run).count() == 1
    refused = events("provisioning.run_refused", run).get()
    assert refused.after["reasons"] == run.reasons
    assert [m.to for m in mail.outbox if "refused" in m.subject] == [[data_steward.email]]


def test_only_the_data_steward_starts_a_run(project, researcher, dpo, secretariat):
    for user in (researcher, dpo, secretariat):
        with pytest.raises(PermissionDenied):
            runs.start_run(project=project, by=user)
    assert not ProvisioningRun.objects.exists()


def test_a_run_goes_through_parts_to_a_published_verified_dataset(
    project, researcher, data_steward, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    assert run.parts_total == 2
    assert list(run.parts.values_list("status", flat=True)) == [PartStatus.DONE] * 2
    folder = Path(run.dataset_path)
    assert verify_dataset(folder) == []
    assert run.manifest["key_id"] == run.key_id
    assert run.manifest["register_snapshot"] == run.register_snapshot == 0
    assert run.rows_done == run.rows_expected == sum(run.manifest["rows"].values()) > 0
    # No staging or temporary folder is left next to the dataset.
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]
    for action in ("run_started", "run_planned", "published"):
        assert events(f"provisioning.{action}", run).count() == 1
    published_event = events("provisioning.published", run).get()
    assert {f["name"] for f in published_event.after["files"]} >= {"person.parquet", "person.csv"}
    ready = [m for m in mail.outbox if "dataset ready" in m.subject]
    assert sorted(m.to[0] for m in ready) == sorted([researcher.email, data_steward.email])


def test_the_project_key_is_derived_per_project_and_generation(project, data_steward):
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    run_everything(run.pk)
    run.refresh_from_db()
    key = project_key(project.reference, 1)
    assert run.key_id == key.key_id
    assert run.key_generation == 1
    expected = {pseudonym(key, person) for person in person_keys()}
    found = pseudonyms_in(Path(run.dataset_path))
    assert found
    assert found <= expected
    assert project_key(project.reference, 2).key_id != key.key_id
    assert project_key("EDS-OTHER", 1).key_id != key.key_id


def test_rotating_the_key_gives_the_next_run_new_pseudonyms(project, data_steward, researcher):
    first = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    run_everything(first.pk)
    with pytest.raises(PermissionDenied):
        runs.rotate_project_key(project=project, by=researcher)
    generation = runs.rotate_project_key(project=project, by=data_steward, reason="leak")
    assert generation.number == 2
    second = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    run_everything(second.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.key_generation == 2
    assert second.key_id == generation.key_id
    assert not pseudonyms_in(Path(first.dataset_path)) & pseudonyms_in(Path(second.dataset_path))
    assert events("provisioning.key_rotated").count() == 1


def test_a_second_delivery_of_each_message_does_nothing(project, data_steward):
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    assert runs.prepare_run(run_id=run.pk, worker="w1") is True
    assert runs.prepare_run(run_id=run.pk, worker="w2") is False
    parts = list(RunPart.objects.filter(run=run))
    assert len(parts) == 2
    for part in parts:
        assert runs.write_part(part_id=part.pk, worker="w1") is True
        assert runs.write_part(part_id=part.pk, worker="w2") is False
    assert publication.publish_run(run_id=run.pk, worker="w1") is True
    assert publication.publish_run(run_id=run.pk, worker="w2") is False
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    assert RunPart.objects.filter(run=run).values("attempt").distinct().count() == 1
    assert events("provisioning.published", run).count() == 1
    assert events("provisioning.run_planned", run).count() == 1


def test_the_last_part_to_finish_hands_over_to_publication_once(
    project, data_steward, django_capture_on_commit_callbacks
):
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    first, second = RunPart.objects.filter(run=run).order_by("index")
    with django_capture_on_commit_callbacks() as callbacks:
        runs.write_part(part_id=first.pk, worker="a")
    assert callbacks == []  # not the last one
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.rows_expected >= run.rows_done > 0
    with django_capture_on_commit_callbacks() as callbacks:
        runs.write_part(part_id=second.pk, worker="b")
    assert len(callbacks) == 1  # publish_run_task, once
    run.refresh_from_db()
    assert run.status == RunStatus.WRITING


def test_only_one_run_at_a_time_per_project(project, data_steward):
    runs.start_run(project=project, by=data_steward)
    with pytest.raises(runs.RunRefused):
        runs.start_run(project=project, by=data_steward)


def test_cancel_is_honoured_by_the_workers(
    project, data_steward, researcher, monkeypatch, django_capture_on_commit_callbacks
):
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    first, second = RunPart.objects.filter(run=run).order_by("index")
    staging = Path(ProvisioningRun.objects.get(pk=run.pk).plan["staging"])
    with pytest.raises(PermissionDenied):
        runs.cancel_run(run=run, by=researcher)

    from warehouse.export import engine

    real = engine.run_part

    def cancelled_meanwhile(request, plan, index):
        summary = real(request, plan, index)
        runs.cancel_run(run=run, by=data_steward)  # the steward cancels while it writes
        return summary

    monkeypatch.setattr("warehouse.export.run_part", cancelled_meanwhile)
    with django_capture_on_commit_callbacks(execute=True):
        # Its result is dropped, and what it wrote removed.
        assert runs.write_part(part_id=first.pk, worker="w1") is False
    monkeypatch.setattr("warehouse.export.run_part", real)
    assert runs.write_part(part_id=second.pk, worker="w1") is False  # not even claimed
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.cancelled_by == data_steward
    assert set(run.parts.values_list("status", flat=True)) == {PartStatus.CANCELLED}
    assert not staging.exists()
    assert not Path(run.dataset_path).exists()
    assert events("provisioning.cancelled", run).get().actor_id == data_steward.pk
    with pytest.raises(runs.RunRefused):
        runs.cancel_run(run=run, by=data_steward)


def test_the_reaper_requeues_a_silent_part_then_fails_after_the_attempts(
    project, data_steward, settings, django_capture_on_commit_callbacks
):
    settings.EDS_PROVISIONING_MAX_ATTEMPTS = 2
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    part = RunPart.objects.filter(run=run).order_by("index").first()
    long_ago = timezone.now() - timedelta(minutes=10)
    RunPart.objects.filter(pk=part.pk).update(
        status=PartStatus.RUNNING, claimed_by="dead:1", attempt=1, heartbeat_at=long_ago
    )
    ProvisioningRun.objects.filter(pk=run.pk).update(heartbeat_at=long_ago)
    with django_capture_on_commit_callbacks() as callbacks:
        counts = runs.reap_runs()
    assert counts["parts_requeued"] == 1
    assert counts["runs_failed"] == 0
    part.refresh_from_db()
    assert part.status == PartStatus.PENDING
    assert part.claimed_by == ""
    assert len(callbacks) >= 1
    assert events("provisioning.part_requeued", run).get().after["lost_worker"] == "dead:1"
    # A fresh heartbeat is left alone.
    RunPart.objects.filter(pk=part.pk).update(
        status=PartStatus.RUNNING, claimed_by="alive:2", attempt=2, heartbeat_at=timezone.now()
    )
    assert runs.reap_runs()["parts_requeued"] == 0
    # Silent again, and out of attempts: the run fails with the reason.
    RunPart.objects.filter(pk=part.pk).update(heartbeat_at=long_ago)
    assert runs.reap_runs()["runs_failed"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "lost 2 times" in run.reasons[0]
    assert events("provisioning.failed", run).count() == 1


def test_the_reaper_requeues_a_silent_publication(project, data_steward):
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    for part in RunPart.objects.filter(run=run):
        runs.write_part(part_id=part.pk, worker="w1")
    long_ago = timezone.now() - timedelta(minutes=10)
    ProvisioningRun.objects.filter(pk=run.pk).update(claimed_by="dead:1", heartbeat_at=long_ago)
    assert runs.reap_runs()["runs_requeued"] == 1
    assert publication.publish_run(run_id=run.pk, worker="w2") is True
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    assert verify_dataset(run.dataset_path) == []


def test_an_objection_during_the_run_rebuilds_the_parts_and_the_person_is_not_delivered(
    project, data_steward, identity_officer
):
    key = project_key(project.reference, 1)
    keys = person_keys()
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    for part in RunPart.objects.filter(run=run):
        runs.write_part(part_id=part.pk, worker="w1")
    # Persons of the first written parts object before publication.
    staging = Path(ProvisioningRun.objects.get(pk=run.pk).plan["staging"])
    written = pseudonyms_in_staging(staging)
    opposed = [person for person in keys if pseudonym(key, person) in written][:3]
    assert len(opposed) == 3
    for person in opposed:
        object_to_everything(person, identity_officer)
    assert publication.publish_run(run_id=run.pk, worker="w1") is True  # rebuilds, does not publish
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run.build == 2
    assert run.register_snapshot == 3
    assert run.rebuilds[0]["from"] == 0
    assert run.rebuilds[0]["to"] == 3
    assert run.rebuilds[0]["rebuilt"]
    assert events("provisioning.run_rebuilt", run).count() == 1
    run = run_everything(run.pk)
    assert run.status == RunStatus.PUBLISHED
    assert run.manifest["register_snapshot"] == 3
    delivered = pseudonyms_in(Path(run.dataset_path))
    assert delivered
    assert not delivered & {pseudonym(key, person) for person in opposed}
    assert verify_dataset(run.dataset_path) == []
    # Older parts stay as history; the current build's are all done.
    assert set(run.parts.filter(build=2).values_list("status", flat=True)) == {PartStatus.DONE}


def test_a_register_change_that_does_not_concern_the_project_is_recorded_without_rebuild(
    project, data_steward, identity_officer
):
    from access.models import EntryEffect, Scope
    from access.opposition import register
    from tests.access.helpers import online_request

    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    for part in RunPart.objects.filter(run=run):
        runs.write_part(part_id=part.pk, worker="w1")
    request = online_request()
    register.append_entry(
        by=identity_officer,
        request=request,
        effect=EntryEffect.OBJECT,
        person_key=person_keys()[0],
        scope=Scope.PROJECTS,
        project_references=["EDS-2099-9999"],
    )
    mark_applied(request)
    publication.publish_run(run_id=run.pk, worker="w1")
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    assert run.build == 1
    assert run.rebuilds[0]["rebuilt"] is False
    assert run.manifest["register_snapshot"] == run.register_snapshot == 1


def test_a_failing_part_fails_the_run_with_its_reason(
    project, data_steward, monkeypatch, django_capture_on_commit_callbacks
):
    run = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    runs.prepare_run(run_id=run.pk, worker="w1")
    part = RunPart.objects.filter(run=run).first()

    def broken(request, plan, index):
        raise OSError("disk full")

    monkeypatch.setattr("warehouse.export.run_part", broken)
    with (
        pytest.raises(OSError, match="disk full"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        runs.write_part(part_id=part.pk, worker="w1")
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "disk full" in run.reasons[0]
    assert not Path(run.plan["staging"]).exists()
    assert events("provisioning.failed", run).count() == 1


def pseudonyms_in_staging(staging: Path) -> set[str]:
    found: set[str] = set()
    for folder in staging.iterdir():
        found |= pseudonyms_in(folder)
    return found
