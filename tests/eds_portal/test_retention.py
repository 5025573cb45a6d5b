"""Retention and the audit trail in epochs (RET-01, RET-02, RET-04, RET-06, RET-07, LOG-03, LOG-04).

Data are aged past each retention period; the nightly purge deletes them and records counts;
the trail, cut into signed monthly checkpoints, still verifies after its oldest period is
archived and purged; the hourly log review raises an alert for a burst of downloads.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from access.models import Answer, OppositionRequest, PublicAttempt, RequestStatus
from eds_portal import audit_epochs, log_review, retention
from eds_portal.audit import record_event, verify_chain
from eds_portal.models import AlertRule, AuditCheckpoint, AuditEvent, LogAlert, User
from eds_portal.routers import vault_access
from tests.access.helpers import DBS, online_request
from tests.conftest import login
from tests.warehouse import factories
from warehouse.models import (
    ConditionOccurrence,
    CountOutcome,
    FeasibilityCountLog,
    OppositionIdentity,
    VisitOccurrence,
)

pytestmark = pytest.mark.django_db(databases=DBS)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the refusing trigger exists on PostgreSQL only"
)

# The fixtures write their events at the real time; the tests' events come after them, so that
# the chain's order and the clock agree as they do in production.
NOW = datetime(2028, 3, 6, 9, 0, tzinfo=UTC)
JANUARY = datetime(2028, 1, 10, tzinfo=UTC)
FEBRUARY = datetime(2028, 2, 3, tzinfo=UTC)
# More than a year before NOW: past the logs' retention.
OLD_JANUARY = datetime(2027, 1, 10, tzinfo=UTC)


@contextmanager
def at(moment: datetime):
    """Events and rows written as if at ``moment`` (the trail takes its time from the clock)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@pytest.fixture
def signing(tmp_path, settings):
    key_file = tmp_path / "keys" / "audit-signing.pem"
    audit_epochs.create_signing_key(key_file)
    settings.EDS_AUDIT_SIGNING_KEY_FILE = str(key_file)
    settings.EDS_AUDIT_VERIFY_KEY_FILE = ""
    settings.EDS_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.EDS_AUDIT_ARCHIVE_DIR = tmp_path / "archives"
    return key_file


def _close(now: datetime):
    """The nightly sealing, run at ``now`` (its own events are then dated in the open month)."""
    with at(now):
        return audit_epochs.close_periods(now=now)


def _steps(n: int, moment: datetime, action: str = "test.step", actor=None) -> list[AuditEvent]:
    with at(moment):
        return [
            record_event(action=action, actor=actor, target_type="test.thing", target_id=str(i))
            for i in range(n)
        ]


def test_ret07_defaults_are_the_referentiels():
    assert django_settings.EDS_RETENTION_WAREHOUSE_YEARS == 20
    assert django_settings.EDS_RETENTION_AUDIT_DAYS == 365
    assert django_settings.EDS_RETENTION_DORMANT_ACCOUNT_YEARS == 5
    assert django_settings.EDS_RETENTION_FEASIBILITY_LOG_DAYS >= (
        django_settings.EDS_FEASIBILITY_WINDOW_DAYS
    )
    names = {rule.name for rule in retention.rules()}
    assert {
        "audit_trail",
        "dormant_accounts",
        "public_attempts",
        "closed_request_identities",
        "closed_request_letters",
        "warehouse_care_data",
        "feasibility_counts",
    } <= names


def test_log04_closed_months_get_signed_checkpoints_written_and_mailed(signing, dpo):
    before = AuditEvent.objects.count()  # the fixtures', this month (real time)
    _steps(3, JANUARY)
    _steps(2, FEBRUARY)
    _steps(1, NOW)
    with transaction.atomic():
        written = _close(NOW)
    expected = [(1, before + 1, before + 3), (2, before + 4, before + 5)]
    if before:
        expected = [(1, 1, before)] + [(n + 1, a, b) for n, a, b in expected]
    assert [(c.epoch, c.first_seq, c.last_seq) for c in written] == expected
    # Nothing more to close: the current month stays open.
    assert _close(NOW) == []
    files = sorted(Path(django_settings.EDS_AUDIT_CHECKPOINT_DIR).iterdir())
    assert [path.name for path in files] == [f"checkpoint-{c.epoch:06d}.json" for c in written]
    public = audit_epochs.verify_key()
    document = json.loads(files[-1].read_text())
    assert audit_epochs.verify_signature(document, public)
    assert document["statement"]["previous"] == audit_epochs.checkpoint_hash(written[-2])
    from eds_portal.models import OutgoingMail

    mailed = OutgoingMail.objects.filter(kind="audit.checkpoint")
    assert mailed.count() == len(written)
    assert all(dpo.email in item.to for item in mailed)
    assert '"last_hash"' in mailed.first().body
    report = audit_epochs.verify_checkpoints(now=NOW)
    assert report.ok, report.problems


def test_log04_verification_finds_forged_missing_and_unsealed_checkpoints(
    signing, tmp_path, settings
):
    _steps(2, JANUARY)
    _steps(2, FEBRUARY)
    _close(NOW)
    first, second = AuditCheckpoint.objects.order_by("epoch")

    # A statement changed after signing: its signature no longer matches.
    statement = json.loads(first.statement)
    statement["last_seq"] = 99
    AuditCheckpoint.objects.filter(pk=first.pk).update(
        statement=json.dumps(statement, sort_keys=True, separators=(",", ":"))
    )
    problems = audit_epochs.verify_checkpoints(now=NOW).problems
    assert any("signature does not match" in problem for problem in problems)

    # A checkpoint deleted: missing, and the events it sealed are unsealed.
    AuditCheckpoint.objects.filter(pk=second.pk).delete()
    problems = audit_epochs.verify_checkpoints(now=NOW).problems
    assert any("no checkpoint" in problem for problem in problems)

    # A verifier holding another key refuses every checkpoint.
    other = tmp_path / "other.pem"
    audit_epochs.create_signing_key(other)
    settings.EDS_AUDIT_SIGNING_KEY_FILE = str(other)
    problems = audit_epochs.verify_checkpoints(now=NOW).problems
    assert any("another key" in problem for problem in problems)


def test_log04_without_key_nothing_is_sealed_and_verification_says_so(settings):
    settings.EDS_AUDIT_SIGNING_KEY_FILE = ""
    settings.EDS_AUDIT_VERIFY_KEY_FILE = ""
    _steps(1, JANUARY)
    assert _close(NOW) == []
    assert not audit_epochs.verify_checkpoints(now=NOW).ok


@on_postgresql
def test_log04_the_database_refuses_to_delete_events_not_archived(signing):
    _steps(2, JANUARY)
    _close(NOW)
    with transaction.atomic(), connection.cursor() as cursor:
        # The purge's own switch is not enough: the period is not archived.
        cursor.execute("SET LOCAL eds.audit_purge = 'on'")
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("DELETE FROM eds_portal_auditevent WHERE seq = 1")
    checkpoint = AuditCheckpoint.objects.get(epoch=1)
    with pytest.raises(PermissionError):
        audit_epochs.purge_period(checkpoint)
    assert AuditEvent.objects.filter(seq=1).exists()


def _aged_data(dpo):
    """One item past each retention period and one within it."""
    long_ago = NOW - timedelta(days=400)
    # Warehouse care data: 21 years ago (purged) and last year (kept).
    who = factories.person()
    old_visit = factories.visit(who, on=(NOW - timedelta(days=21 * 366)).date())
    recent_visit = factories.visit(who, on=(NOW - timedelta(days=300)).date())
    for row in (old_visit, recent_visit):
        ConditionOccurrence.objects.create(
            condition_occurrence_id=row.pk + 1_000_000,
            person=who,
            visit_occurrence=row,
            condition_concept_id=0,
            condition_start_date=row.visit_start_date,
            condition_type_concept_id=32817,
        )
    # Feasibility counts: 400 days ago (purged) and today (kept).
    for moment in (long_ago, NOW - timedelta(hours=1)):
        FeasibilityCountLog.objects.create(
            user_id=dpo.pk,
            counted_at=moment,
            criteria={"sex": "F"},
            criteria_hash="h",
            outcome=CountOutcome.REFUSED_BUDGET,
        )
    # Public flood counters: a month ago (purged), an hour ago (kept).
    for moment in (NOW - timedelta(days=30), NOW - timedelta(hours=1)):
        PublicAttempt.objects.create(purpose="submission", source_hash="x" * 64, at=moment)
    # A refused request closed six years ago: its identity and its letters go.
    refused = online_request()
    OppositionRequest.objects.filter(pk=refused.pk).update(
        status=RequestStatus.REFUSED, closed_at=NOW - timedelta(days=6 * 366)
    )
    Answer.objects.create(
        request=refused,
        outcome="refused",
        reasons="Not found",
        channel="email",
        sent_by=dpo,
        template_version="1",
        sent_at=NOW - timedelta(days=6 * 366),
    )
    kept = online_request(birth_name="Durand")
    # A dormant account (no login for six years) and an active one.
    dormant = User.objects.create_user(
        "dormant@example.org", "x" * 20, full_name="Dormant Person", organisation="Lab"
    )
    User.objects.filter(pk=dormant.pk).update(last_login=NOW - timedelta(days=6 * 366))
    User.objects.filter(pk=dpo.pk).update(last_login=NOW - timedelta(days=1))
    return {
        "old_visit": old_visit,
        "recent_visit": recent_visit,
        "refused": refused,
        "kept": kept,
        "dormant": dormant,
    }


def test_ret_done_when_data_past_each_period_are_purged_and_the_trail_still_verifies(
    signing, dpo, settings
):
    # The trail: periods past retention (this month's fixtures, a month later), one within
    # retention, the current month.
    now = NOW
    _steps(4, OLD_JANUARY)
    with at(OLD_JANUARY + timedelta(days=1)):
        data = _aged_data(dpo)
    _steps(3, OLD_JANUARY + timedelta(days=200))
    _steps(2, now - timedelta(hours=2))
    _close(now)
    expired = list(audit_epochs.due_for_purge(now))
    assert expired
    first = expired[-1]
    purged_events = AuditEvent.objects.filter(seq__lte=first.last_seq).count()

    # The DPO's schedule shows what the next purge deletes.
    due = {row["name"]: row["due"] for row in retention.schedule(NOW)}
    assert due["audit_trail"] == purged_events
    assert due["warehouse_care_data"] == 2  # the old visit and its condition
    assert due["feasibility_counts"] == 1
    # The online requests' own counters were written a year ago too.
    old_attempts = PublicAttempt.objects.filter(at__lt=NOW - timedelta(days=14)).count()
    assert old_attempts >= 1
    assert due["public_attempts"] == old_attempts
    assert due["closed_request_identities"] == 1
    assert due["closed_request_letters"] == 1
    assert due["dormant_accounts"] == 1

    with at(NOW):
        counts = retention.purge_due(now=NOW)

    assert counts == {
        "audit_trail": purged_events,
        "dormant_accounts": 1,
        "public_attempts": old_attempts,
        "closed_request_identities": 1,
        "closed_request_letters": 1,
        "warehouse_care_data": 2,
        "feasibility_counts": 1,
    }
    # Warehouse: each item by its own date.
    assert not VisitOccurrence.objects.filter(pk=data["old_visit"].pk).exists()
    assert VisitOccurrence.objects.filter(pk=data["recent_visit"].pk).exists()
    assert ConditionOccurrence.objects.count() == 1
    assert FeasibilityCountLog.objects.count() == 1
    assert PublicAttempt.objects.count() == 1
    with vault_access("test"):
        left = set(OppositionIdentity.objects.values_list("receipt_number", flat=True))
    assert data["refused"].receipt_number not in left
    assert data["kept"].receipt_number in left
    assert not Answer.objects.filter(request=data["refused"]).exists()
    dormant = User.objects.get(pk=data["dormant"].pk)
    assert (dormant.full_name, dormant.is_active) == ("", False)
    assert dormant.email.endswith(retention.ERASED_DOMAIN)
    assert User.objects.get(pk=dpo.pk).is_active

    # The trail: the old period is archived with its checkpoint, then gone; what is left still
    # verifies from that checkpoint's hash, and every checkpoint still verifies.
    first.refresh_from_db()
    assert first.archived_at
    assert first.purged_at
    assert not AuditEvent.objects.filter(seq__lte=first.last_seq).exists()
    archive = Path(settings.EDS_AUDIT_ARCHIVE_DIR) / first.archive_name
    lines = archive.read_text().splitlines()
    header = json.loads(lines[0])
    assert audit_epochs.verify_signature(header["checkpoint"], audit_epochs.verify_key())
    assert [json.loads(line)["seq"] for line in lines[1:]] == list(
        range(first.first_seq, first.last_seq + 1)
    )
    assert json.loads(lines[-1])["hash"] == first.last_hash
    report = verify_chain()
    assert report.ok, report.reason
    checkpoints = audit_epochs.verify_checkpoints(now=NOW)
    assert checkpoints.ok, checkpoints.problems

    # Counts, never content.
    event = AuditEvent.objects.filter(action="retention.purged").get()
    assert event.after == {"counts": counts, "failed": []}
    text = json.dumps([e.after for e in AuditEvent.objects.all()], default=str)
    assert "Dormant Person" not in text
    assert "dormant@example.org" not in text


def test_log03_a_burst_of_downloads_raises_one_alert_to_the_dpo(dpo, researcher, settings):
    settings.EDS_REVIEW_DOWNLOAD_BURST = 5
    _steps(6, NOW - timedelta(minutes=20), action="provisioning.downloaded", actor=researcher)
    _steps(2, NOW - timedelta(minutes=20), action="provisioning.downloaded", actor=dpo)
    from eds_portal.models import OutgoingMail

    with at(NOW):
        alerts = log_review.review(now=NOW)
    assert [(a.rule, a.subject_id, a.count) for a in alerts] == [
        (AlertRule.DOWNLOAD_BURST, researcher.pk, 6)
    ]
    assert OutgoingMail.objects.filter(kind="audit.log_alert", to__contains=[dpo.email]).exists()
    # Running again over the same hour raises nothing new.
    with at(NOW):
        assert log_review.review(now=NOW) == []
    assert LogAlert.objects.count() == 1


def test_log03_failed_logins_role_changes_and_reads_of_the_trail(dpo, researcher):
    moment = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # a Wednesday night
    with at(moment):
        for _ in range(5):
            record_event(
                action="auth.login_failed", target_type="eds_portal.user", target_id=researcher.pk
            )
        record_event(action="role.granted", actor=dpo, target=researcher, after={"role": "dpo"})
        record_event(action="audit.viewed", actor=dpo)
        record_event(
            action="vault.opposition_contact_read", actor=dpo, target_type="x", target_id="1"
        )
    rules = {alert.rule for alert in log_review.review(now=moment + timedelta(minutes=30))}
    assert rules == {
        AlertRule.FAILED_LOGINS,
        AlertRule.ROLE_CHANGE,
        AlertRule.TRAIL_READ,
        AlertRule.IDENTITY_READS,
    }


def test_dpo_page_shows_next_purges_and_alerts_and_is_not_cached(client, dpo, researcher):
    alert = LogAlert.objects.create(
        rule=AlertRule.DOWNLOAD_BURST, key="k", subject=researcher, count=30, details={}
    )
    login(client, dpo)
    response = client.get("/retention/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "EDS_RETENTION_WAREHOUSE_YEARS" in response.content.decode()
    response = client.post(f"/retention/alerts/{alert.pk}/reviewed/")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.reviewed_by == dpo
    assert AuditEvent.objects.filter(action="log_review.alert_reviewed", actor=dpo).exists()
    login(client, researcher)
    assert client.get("/retention/").status_code == 403


def test_ret07_public_page_reads_the_settings(client, settings):
    settings.EDS_RETENTION_WAREHOUSE_YEARS = 17
    settings.LANGUAGE_CODE = "en"
    response = client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="en")
    text = response.content.decode()
    assert response.status_code == 200
    assert "17 years" in text or "17 ans" in text
    assert "twenty" not in text


def test_beat_schedules_the_purge_the_checkpoints_and_the_review():
    from eds_portal.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "eds_portal.tasks.purge_retention_task",
        "eds_portal.tasks.close_audit_periods_task",
        "eds_portal.tasks.verify_audit_checkpoints_task",
        "eds_portal.tasks.review_logs_task",
    } <= tasks
    assert timezone.is_aware(retention.next_run(NOW))
