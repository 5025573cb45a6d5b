"""The audit trail is append-only and hash-chained (LOG-01, LOG-04, LOG-06)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from eds_portal.audit import GENESIS_HASH, record_event, verify_chain
from eds_portal.models import AuditEvent
from tests.eds_portal.helpers import tamper

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the refusing trigger exists on PostgreSQL only"
)


def _events(n: int, actor=None):
    return [
        record_event(
            action="test.step",
            actor=actor,
            target_type="test.thing",
            target_id=str(i),
            before={"n": i},
            after={"n": i + 1, "label": "é"},
        )
        for i in range(n)
    ]


def test_events_are_chained():
    first, second, third = _events(3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert verify_chain().ok
    assert verify_chain().checked == 3


def test_actor_is_part_of_the_hashed_content(dpo):
    before = AuditEvent.objects.count()
    event = _events(1, actor=dpo)[0]
    assert event.seq == before + 1
    assert event.actor_id == dpo.pk
    assert verify_chain().ok
    tamper("UPDATE eds_portal_auditevent SET actor_id = NULL WHERE seq = %s", [event.seq])
    assert verify_chain().broken_seq == event.seq


def test_event_records_the_request_ip_and_actor(client, dpo):
    from tests.conftest import login

    login(client, dpo)
    client.get("/audit/", REMOTE_ADDR="192.0.2.44")
    event = AuditEvent.objects.get(action="audit.viewed")
    assert event.ip == "192.0.2.44"
    assert event.actor == dpo


def _failing_action():
    with transaction.atomic():
        record_event(action="test.doomed")
        raise RuntimeError("the action failed")


def test_an_event_rolls_back_with_its_action():
    with pytest.raises(RuntimeError):
        _failing_action()
    assert not AuditEvent.objects.filter(action="test.doomed").exists()
    assert record_event(action="test.after").seq == 1


def test_model_refuses_update_and_delete():
    event = _events(1)[0]
    event.action = "test.rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE eds_portal_auditevent SET action = 'rewritten'",
        "DELETE FROM eds_portal_auditevent",
    ],
)
def test_postgresql_trigger_refuses_update_and_delete(statement):
    from django.db import DatabaseError

    _events(2)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(action="test.step").count() == 2


def _truncate_as_the_application_would():
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire the pending foreign-key checks
        cursor.execute("SET LOCAL eds.allow_audit_truncate = 'off'")
        cursor.execute("TRUNCATE eds_portal_auditevent CASCADE")


@on_postgresql
def test_postgresql_refuses_truncate_outside_the_test_harness():
    from django.db import DatabaseError

    _events(2)
    with pytest.raises(DatabaseError, match="TRUNCATE refused"):
        _truncate_as_the_application_would()
    assert AuditEvent.objects.filter(action="test.step").count() == 2


def test_sequence_numbers_are_unique():
    event = _events(1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            seq=event.seq,
            occurred_at=event.occurred_at,
            action="x",
            prev_hash=event.hash,
            hash="f" * 64,
        )


def test_verify_detects_an_edited_row():
    events = _events(5)
    tamper("UPDATE eds_portal_auditevent SET after = %s WHERE seq = 3", ['{"n": 999}'])
    report = verify_chain()
    assert report.broken_seq == 3
    assert "altered" in report.reason
    assert report.checked == 2
    assert events


def test_verify_detects_a_deleted_row():
    _events(5)
    tamper("DELETE FROM eds_portal_auditevent WHERE seq = 2")
    report = verify_chain()
    assert report.broken_seq == 3
    assert "deleted" in report.reason


def test_verify_detects_reordered_rows():
    _events(5)
    # Swap the positions of events 2 and 4 (their seq values); everything else untouched.
    tamper("UPDATE eds_portal_auditevent SET seq = 1000 WHERE seq = 2")
    tamper("UPDATE eds_portal_auditevent SET seq = 2 WHERE seq = 4")
    tamper("UPDATE eds_portal_auditevent SET seq = 4 WHERE seq = 1000")
    report = verify_chain()
    assert report.broken_seq == 4
    assert report.checked == 1


def test_verify_detects_a_recomputed_row_with_a_stale_successor():
    """Rewriting an event and its own hash still breaks the link from the next event."""
    from eds_portal.audit import compute_hash

    _events(3)
    event = AuditEvent.objects.get(seq=2)
    forged = compute_hash(
        seq=2,
        occurred_at=event.occurred_at,
        actor_id=None,
        action="test.forged",
        target_type=event.target_type,
        target_id=event.target_id,
        before=event.before,
        after=event.after,
        ip=None,
        prev_hash=event.prev_hash,
    )
    tamper(
        "UPDATE eds_portal_auditevent SET action = 'test.forged', hash = %s WHERE seq = 2", [forged]
    )
    report = verify_chain()
    assert report.broken_seq == 3
    assert "does not point" in report.reason


def test_verify_audit_command(capsys):
    _events(4)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "intact: 4 events" in out
    assert "Head: event #4" in out
    tamper("UPDATE eds_portal_auditevent SET action = 'test.tampered' WHERE seq = 2")
    with pytest.raises(CommandError, match=r"BROKEN at event #2"):
        call_command("verify_audit")


def test_verify_command_exits_non_zero_when_broken():
    _events(2)
    tamper("DELETE FROM eds_portal_auditevent WHERE seq = 1")
    with pytest.raises(CommandError):
        call_command("verify_audit")
