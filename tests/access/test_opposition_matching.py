"""Identity matching and the register as data: OPP-05, OPP-08, OPP-09, OPP-10, OPP-13, OPP-14,
RET-05."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from access.models import RegisterEntry, RequestStatus
from access.opposition import actions
from access.opposition.register import current_snapshot, objecting_persons, snapshot_at
from eds_portal.models import AuditEvent
from eds_portal.routers import vault_access
from tests.access.helpers import DBS, online_request, project, warehouse_person
from tests.conftest import login
from warehouse.models import OppositionIdentity

pytestmark = pytest.mark.django_db(databases=DBS)


def test_opp08_identity_officer_sees_identity_and_candidates_with_agreeing_fields(
    client, identity_officer
):
    person = warehouse_person()
    warehouse_person(first_names="Anne")  # same birth name, date and sex: a partial candidate
    request = online_request()
    login(client, identity_officer)
    page = client.get(f"/registers/oppositions/{request.receipt_number}/match/")
    assert page.status_code == 200
    candidates = page.context["candidates"]
    assert len(candidates) == 2
    exact = next(c for c in candidates if c.person_key == person.person_key)
    assert set(exact.agreeing) == {"birth_date", "name", "first_name", "sex"}
    assert "Lefèvre" in page.content.decode()
    assert AuditEvent.objects.filter(action="vault.opposition_identity_read").count() == 1


def test_opp08_opp10_confirming_a_match_puts_the_person_in_a_new_snapshot(
    client, identity_officer, dpo, django_capture_on_commit_callbacks
):
    person = warehouse_person()
    request = online_request()
    before = current_snapshot(purpose="test")
    login(client, identity_officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/registers/oppositions/{request.receipt_number}/match/",
            {"decision": "match", "person_key": person.person_key, "method": "all fields"},
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.APPLIED
    assert request.matched_by == identity_officer
    after = current_snapshot(purpose="provisioning run 1")
    assert after.number == before.number + 1
    assert person.person_key in after.excluded_for("EDS-2026-0001")
    assert person.person_key not in before.all_reuse
    with vault_access("test"):
        assert (
            OppositionIdentity.objects.get(receipt_number=request.receipt_number).matched_person_key
            == person.person_key
        )
    # Every read of the register is audited, with its purpose, never the keys.
    reads = AuditEvent.objects.filter(action="opposition.register_read")
    assert reads.count() == 2
    assert person.person_key not in str([e.after for e in AuditEvent.objects.all()])
    assert any(dpo.email in m.to for m in mail.outbox)


def test_opp03_project_scope_excludes_from_that_project_only(researcher):
    person = warehouse_person()
    chosen = project(researcher)
    request = online_request(scope="projects", projects=[chosen])
    officer = _officer()
    actions.confirm_match(by=officer, request=request, person_key=person.person_key, method="x")
    snapshot = current_snapshot(purpose="test")
    assert person.person_key in snapshot.excluded_for(chosen.reference)
    assert person.person_key not in snapshot.excluded_for("EDS-2026-0999")
    number = snapshot.number
    assert objecting_persons(number, chosen.reference, purpose="test") == {person.person_key}


def _officer():
    from eds_portal.roles import Role
    from tests.factories import UserFactory

    return UserFactory(roles=(Role.IDENTITY_OFFICER,))


def test_opp13_withdrawal_is_a_new_entry_and_a_new_snapshot(secretariat):
    from django.utils import timezone

    person = warehouse_person()
    request = online_request()
    actions.confirm_match(by=_officer(), request=request, person_key=person.person_key, method="x")
    matched_number = current_snapshot(purpose="test").number
    withdrawal = actions.record_withdrawal(
        by=secretariat, objection=request, channel="post", received_at=timezone.now()
    )
    assert withdrawal.withdraws == request
    assert withdrawal.receipt_number != request.receipt_number
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    now = current_snapshot(purpose="test")
    assert now.number == matched_number + 1
    assert person.person_key not in now.person_keys
    # The past snapshot still says what it said (a run's manifest can be checked).
    assert person.person_key in snapshot_at(matched_number, purpose="test").all_reuse
    assert RegisterEntry.objects.count() == 2
    assert AuditEvent.objects.filter(action="opposition.withdrawn").exists()


def test_opp14_register_is_append_only(secretariat):
    person = warehouse_person()
    request = online_request()
    actions.confirm_match(by=_officer(), request=request, person_key=person.person_key, method="x")
    entry = RegisterEntry.objects.get()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        RegisterEntry.objects.update(person_key="x")
    if connection.vendor == "postgresql":
        from django.db import DatabaseError, transaction

        for sql in (
            "UPDATE access_registerentry SET person_key = 'x'",
            "DELETE FROM access_registerentry",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql)


def test_opp09_unmatched_objection_is_matched_again_when_data_arrives(
    identity_officer, dpo, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django.core.management import call_command

    request = online_request()
    actions.mark_not_matched(by=identity_officer, request=request, method="no candidate")
    request.refresh_from_db()
    assert request.status == RequestStatus.NOT_MATCHED
    number = current_snapshot(purpose="test").number
    call_command("rematch_oppositions")
    request.refresh_from_db()
    assert request.status == RequestStatus.NOT_MATCHED  # still nobody
    person = warehouse_person()  # the night's load brings the person
    with django_capture_on_commit_callbacks(execute=True):
        summary = actions.rematch_oppositions()
    assert summary.matched == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.APPLIED
    assert request.matched_by is None
    snapshot = current_snapshot(purpose="test")
    assert snapshot.number == number + 1
    assert person.person_key in snapshot.all_reuse
    assert mail.outbox
    assert AuditEvent.objects.filter(action="vault.opposition_rematched").exists()


def test_opp09_partial_candidates_are_flagged_for_the_identity_officer(identity_officer):
    request = online_request()
    actions.mark_not_matched(by=identity_officer, request=request, method="none")
    warehouse_person(first_names="Anne")  # agrees on name, birth date and sex only
    summary = actions.rematch_oppositions()
    request.refresh_from_db()
    assert summary.with_candidates == 1
    assert request.candidates_waiting
    assert request.status == RequestStatus.NOT_MATCHED


def test_rematch_task_and_command_run(identity_officer):
    from access.tasks import rematch_oppositions_task

    request = online_request()
    actions.mark_not_matched(by=identity_officer, request=request, method="none")
    warehouse_person()
    rematch_oppositions_task.delay()
    request.refresh_from_db()
    assert request.status == RequestStatus.APPLIED


def test_opp05_ret05_id_copy_suspends_the_deadline_and_is_deleted_once_confirmed(
    client, identity_officer, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    person = warehouse_person()
    request = online_request()
    login(client, identity_officer)
    url = f"/registers/oppositions/{request.receipt_number}/id-copy/"
    client.post(url, {"reason": "Two persons share the name"})
    request.refresh_from_db()
    assert request.status == RequestStatus.ID_REQUESTED
    assert request.is_suspended
    assert request.answers.get().outcome == "id_copy"
    # Ten days pass while waiting for the copy.
    type(request).objects.filter(pk=request.pk).update(
        suspended_since=timezone.now() - timedelta(days=10)
    )
    bad = SimpleUploadedFile("id.exe", b"MZ\x90\x00not an image", content_type="image/png")
    client.post(url, {"copy": bad})
    request.refresh_from_db()
    assert request.status == RequestStatus.ID_REQUESTED  # refused by content
    copy = SimpleUploadedFile("id.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    client.post(url, {"copy": copy})
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED
    assert request.suspended_days == 10
    assert request.due_on == request.base_due_on + timedelta(days=10)
    with vault_access("test"):
        stored = OppositionIdentity.objects.get(receipt_number=request.receipt_number).id_copy_name
    assert stored
    assert default_storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        actions.confirm_match(
            by=identity_officer, request=request, person_key=person.person_key, method="ID copy"
        )
    request.refresh_from_db()
    assert request.id_copy_deleted_at is not None
    assert not default_storage.exists(stored)
    with vault_access("test"):
        assert (
            OppositionIdentity.objects.get(receipt_number=request.receipt_number).id_copy_name == ""
        )
    assert AuditEvent.objects.filter(action="opposition.id_copy_deleted").exists()


def test_match_form_requires_a_candidate(client, identity_officer):
    warehouse_person()
    request = online_request()
    login(client, identity_officer)
    response = client.post(
        f"/registers/oppositions/{request.receipt_number}/match/",
        {"decision": "match", "method": "x"},
    )
    assert response.status_code == 400
    assert "person_key" in response.context["form"].errors
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED


def test_opp02_staff_entry_records_channel_association_and_receiver(client, secretariat):
    login(client, secretariat)
    from tests.access.helpers import form_data

    data = form_data(
        channel="in_person",
        receiving_association="",
        received_on="2026-01-05",
        reply_by="post",
        contact_address="1 rue X",
        contact_email="",
    )
    response = client.post("/registers/oppositions/new/", data)
    assert response.status_code == 400
    assert "receiving_association" in response.context["form"].errors
    data["receiving_association"] = "1"
    response = client.post("/registers/oppositions/new/", data)
    assert response.status_code == 302
    from access.models import OppositionRequest

    request = OppositionRequest.objects.get()
    assert request.channel == "in_person"
    assert request.receiving_association == 1
    assert request.received_by == secretariat
    assert str(request.received_at.date()) == "2026-01-05"
    assert str(request.base_due_on) == "2026-02-05"
    # The secretariat typed the identity in but never reads it back.
    assert client.get(f"/registers/oppositions/{request.receipt_number}/match/").status_code == 403
    page = client.get(f"/registers/oppositions/{request.receipt_number}/")
    assert page.status_code == 200
    assert "Lef" not in page.content.decode()
