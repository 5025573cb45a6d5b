"""Mail leaves through a task, is retried, and never fails the request that caused it.

Mail servers for tests (tests/eds_portal/mail_backends.py): one that refuses every address
(SMTPRecipientsRefused 550), one that is down, one down for its first attempt. Tasks run
eagerly (a real Celery eager path: ``.delay()`` after the commit); tests/integration has the
same on a real worker.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import get_connection
from django.utils import timezone

from access.models import OppositionRequest
from access.opposition import actions
from eds_portal import mail as outgoing
from eds_portal.models import AuditEvent, MailStatus, Notification, OutgoingMail
from eds_portal.notifications import notify
from eds_portal.tasks import retry_outgoing_mail_task
from projects.actions import create_project
from projects.team_actions import invite_member
from tests.access.helpers import DBS, form_data, online_request
from tests.conftest import login
from tests.eds_portal.mail_backends import FlakyBackend

pytestmark = pytest.mark.django_db(databases=DBS)

REFUSING = "tests.eds_portal.mail_backends.RefusingBackend"
DOWN = "tests.eds_portal.mail_backends.DownBackend"
FLAKY = "tests.eds_portal.mail_backends.FlakyBackend"
WORKING = "django.core.mail.backends.locmem.EmailBackend"
PATIENT_EMAIL = "anne@example.org"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def flaky():
    FlakyBackend.attempts = 0
    FlakyBackend.failures = 1
    return FlakyBackend


def _due_now(mail_row: OutgoingMail) -> None:
    """Moves the next attempt into the past (instead of waiting for the backoff)."""
    OutgoingMail.objects.filter(pk=mail_row.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=2)
    )


# --- The objection's receipt ------------------------------------------------------------------


def test_a_refused_address_never_loses_the_receipt(
    client, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/opposition/", form_data())
    assert response.status_code == 302
    receipt = OppositionRequest.objects.get().receipt_number
    page = client.get(response.url)
    assert page.status_code == 200
    assert receipt in page.content.decode()
    row = OutgoingMail.objects.get(kind="opposition.receipt")
    assert row.status == MailStatus.FAILED
    assert row.reference == receipt
    assert row.last_error == "SMTPRecipientsRefused 550"
    assert row.attempts == 1  # refused for good: not hammered
    # The patient's address is nowhere in the portal's database: it stays in the vault.
    stored = json.dumps(list(OutgoingMail.objects.values()), default=str)
    assert PATIENT_EMAIL not in stored
    failed = AuditEvent.objects.get(action="mail.failed")
    assert failed.after["reference"] == receipt
    assert PATIENT_EMAIL not in json.dumps(failed.after)


def test_the_receipt_is_sent_in_the_patients_language_from_the_vault(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/opposition/", form_data(), HTTP_ACCEPT_LANGUAGE="en")
    receipt = OppositionRequest.objects.get().receipt_number
    [message] = mail.outbox
    assert message.to == [PATIENT_EMAIL]
    assert receipt in message.subject
    assert "Keep this receipt number" in message.body
    row = OutgoingMail.objects.get(kind="opposition.receipt")
    assert (row.status, row.language, row.to, row.body) == (MailStatus.SENT, "en", [], "")
    assert AuditEvent.objects.filter(action="vault.opposition_contact_read").exists()


def test_a_server_down_is_tried_again_with_a_growing_delay_then_listed(
    client, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = DOWN
    settings.EDS_MAIL_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/opposition/", form_data()).status_code == 302
    row = OutgoingMail.objects.get()
    assert (row.status, row.attempts) == (MailStatus.PENDING, 1)
    assert row.last_error == "ConnectionRefusedError: Connection refused"
    first_delay = (row.next_attempt_at - timezone.now()).total_seconds()
    assert 50 < first_delay <= settings.EDS_MAIL_RETRY_SECONDS
    # Not due yet: the sweep leaves it alone.
    assert retry_outgoing_mail_task.delay().get() == 0
    _due_now(row)
    with django_capture_on_commit_callbacks(execute=True):
        assert retry_outgoing_mail_task.delay().get() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (MailStatus.PENDING, 2)
    second_delay = (row.next_attempt_at - timezone.now()).total_seconds()
    assert (
        2 * settings.EDS_MAIL_RETRY_SECONDS - 10
        < second_delay
        <= 2 * (settings.EDS_MAIL_RETRY_SECONDS)
    )
    _due_now(row)
    retry_outgoing_mail_task.delay()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (MailStatus.FAILED, 3)
    assert AuditEvent.objects.filter(action="mail.failed", target_id=str(row.pk)).count() == 1


def test_the_backoff_doubles_up_to_its_ceiling(settings):
    settings.EDS_MAIL_RETRY_SECONDS = 60
    settings.EDS_MAIL_RETRY_MAX_SECONDS = 3600
    assert [outgoing.retry_delay(n) for n in range(1, 9)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]


def test_the_mail_server_has_a_timeout():
    assert settings.EMAIL_TIMEOUT == 10
    connection = get_connection("django.core.mail.backends.smtp.EmailBackend")
    assert connection.timeout == settings.EMAIL_TIMEOUT


# --- The staff's list and "send again" -----------------------------------------------------------


def test_the_dpo_sees_the_unsent_receipt_and_sends_it_again(
    client, settings, dpo, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    with django_capture_on_commit_callbacks(execute=True):
        online_request()
    receipt = OppositionRequest.objects.get().receipt_number
    row = OutgoingMail.objects.get(kind="opposition.receipt")
    login(client, dpo)
    page = client.get("/mail/failed/")
    assert page.status_code == 200
    html = page.content.decode()
    assert receipt in html
    assert "SMTPRecipientsRefused 550" in html
    assert PATIENT_EMAIL not in html
    settings.EMAIL_BACKEND = WORKING
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/mail/{row.pk}/retry/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == MailStatus.SENT
    assert [m.to for m in mail.outbox] == [[PATIENT_EMAIL]]
    event = AuditEvent.objects.get(action="mail.retry_requested")
    assert event.actor == dpo
    assert event.target_id == str(row.pk)
    assert event.before == {"attempts": 1, "error": "SMTPRecipientsRefused 550"}
    # Sent: nothing left to send again.
    assert receipt not in client.get("/mail/failed/").content.decode()


def test_only_a_failed_mail_can_be_sent_again(client, secretariat):
    row = outgoing.queue_mail(kind="notification", to=["x@example.org"], subject="s", body="b")
    login(client, secretariat)
    response = client.post(f"/mail/{row.pk}/retry/", follow=True)
    assert "Only a mail that could not be sent" in response.content.decode() or (
        "Seul un e-mail" in response.content.decode()
    )
    row.refresh_from_db()
    assert row.status == MailStatus.PENDING
    assert not AuditEvent.objects.filter(action="mail.retry_requested").exists()
    assert client.post("/mail/999999/retry/").status_code == 404


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "patient_representative",
        "chair",
        "identity_officer",
        "data_steward",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_other_roles_may_not_see_or_resend_mails(client, settings, persona):
    settings.EMAIL_BACKEND = REFUSING
    row = outgoing.queue_mail(kind="notification", to=["x@example.org"], subject="s", body="b")
    outgoing.deliver(row.pk)
    login(client, persona)
    assert client.get("/mail/failed/").status_code == 403
    assert client.post(f"/mail/{row.pk}/retry/").status_code == 403
    row.refresh_from_db()
    assert row.status == MailStatus.FAILED


def test_anonymous_is_sent_to_login(client):
    assert client.get("/mail/failed/").url.startswith("/accounts/login/")
    assert client.post("/mail/1/retry/").url.startswith("/accounts/login/")


# --- Every other mail path --------------------------------------------------------------------


def test_a_notification_waits_for_the_server_and_is_marked_emailed_once_sent(
    researcher, settings, flaky, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = FLAKY
    with django_capture_on_commit_callbacks(execute=True):
        notify([researcher], subject="Sujet", body="Corps", url="/projects/")
    notification = Notification.objects.get()
    row = OutgoingMail.objects.get(kind="notification")
    assert (notification.emailed, row.status, row.recipient) == (False, "pending", researcher)
    _due_now(row)
    with django_capture_on_commit_callbacks(execute=True):
        retry_outgoing_mail_task.delay()
    notification.refresh_from_db()
    row.refresh_from_db()
    assert notification.emailed is True
    assert (row.status, row.attempts, row.body) == (MailStatus.SENT, 2, "")
    [message] = mail.outbox
    assert message.to == [researcher.email]
    assert message.body.endswith(settings.EDS_PUBLIC_URL + "/projects/")


def test_a_refused_invitation_does_not_fail_the_leads_page(
    client, settings, researcher, secretariat, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = REFUSING
    project = create_project(by=researcher, title="Bronchiolites à domicile")
    login(client, researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{project.pk}/team/",
            {"action": "invite", "email": "typo@univ.example", "role": "analyst"},
        )
    assert response.status_code == 302
    row = OutgoingMail.objects.get(kind="project.invitation")
    assert row.status == MailStatus.FAILED
    assert row.to == ["typo@univ.example"]
    login(client, secretariat)
    html = client.get("/mail/failed/").content.decode()
    assert "typo@univ.example" in html
    assert project.reference in html


def test_an_invitations_link_leaves_the_table_once_sent(
    researcher, django_capture_on_commit_callbacks
):
    project = create_project(by=researcher, title="Bronchiolites à domicile")
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = invite_member(
            project=project, email="dave@univ.example", role="analyst", by=researcher
        )
    row = OutgoingMail.objects.get(kind="project.invitation")
    assert row.status == MailStatus.SENT
    assert token in mail.outbox[0].body
    assert token not in json.dumps(list(OutgoingMail.objects.values()), default=str)


def test_a_refused_answer_letter_is_listed_for_the_dpo(
    settings, dpo, secretariat, django_capture_on_commit_callbacks
):
    request = online_request()
    settings.EMAIL_BACKEND = REFUSING
    with django_capture_on_commit_callbacks(execute=True):
        answer = actions.send_answer(
            by=dpo, request=request, outcome="refused", reasons="Not found", channel="email"
        )
    row = OutgoingMail.objects.get(kind="opposition.answer")
    assert row.reference == str(answer.pk)
    assert (row.status, row.to, row.subject) == (MailStatus.FAILED, [], "")
    settings.EMAIL_BACKEND = WORKING
    with django_capture_on_commit_callbacks(execute=True):
        outgoing.retry_mail(mail=row, by=dpo)
    assert [m.to for m in mail.outbox] == [[PATIENT_EMAIL]]
    assert request.receipt_number in mail.outbox[0].subject


def test_the_audit_alert_leaves_through_the_queue(
    settings, dpo, django_capture_on_commit_callbacks
):
    from eds_portal.tasks import verify_audit_chain_task
    from tests.eds_portal.helpers import tamper

    settings.EMAIL_BACKEND = DOWN
    tamper("UPDATE eds_portal_auditevent SET action = 'tampered' WHERE seq = 1")
    with django_capture_on_commit_callbacks(execute=True):
        verify_audit_chain_task.delay()
    row = OutgoingMail.objects.get(kind="audit.alert")
    assert (row.status, row.to) == (MailStatus.PENDING, [dpo.email])


def test_a_lost_worker_does_not_lose_the_mail(settings, django_capture_on_commit_callbacks):
    row = outgoing.queue_mail(kind="notification", to=["x@example.org"], subject="s", body="b")
    # A worker claimed it, then died.
    OutgoingMail.objects.filter(pk=row.pk).update(
        status=MailStatus.SENDING, claimed_at=timezone.now() - timedelta(hours=1)
    )
    _due_now(row)
    with django_capture_on_commit_callbacks(execute=True):
        retry_outgoing_mail_task.delay()
    row.refresh_from_db()
    assert row.status == MailStatus.PENDING  # queued again; sent at the next sweep
    _due_now(row)
    retry_outgoing_mail_task.delay()
    row.refresh_from_db()
    assert row.status == MailStatus.SENT


def test_a_broker_down_at_commit_time_does_not_fail_the_request(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    from eds_portal.tasks import send_outgoing_mail_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis unreachable")

    monkeypatch.setattr(send_outgoing_mail_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/opposition/", form_data())
    assert response.status_code == 302
    assert OutgoingMail.objects.get().status == MailStatus.PENDING


def test_no_code_sends_mail_but_the_queue():
    """Every mail path goes through eds_portal.mail (retries, the staff's list)."""
    offenders = []
    pattern = re.compile(r"\bsend_mail\(|\bsend_mass_mail\(|\bmail_admins\(|EmailMessage\(")
    for app in ("eds_portal", "access", "projects", "warehouse"):
        for path in (ROOT / app).rglob("*.py"):
            if path.name == "mail.py" and path.parent.name == "eds_portal":
                continue
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
