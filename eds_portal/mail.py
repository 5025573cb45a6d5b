"""Outgoing e-mail: queued with what it announces, sent by a task, retried, never failing a request.

``queue_mail`` is called inside the action's transaction: it writes an ``OutgoingMail`` row and,
after the commit, hands its id to ``send_outgoing_mail_task``. The task claims the row, writes
the message, sends it (``EMAIL_TIMEOUT``) and records the outcome:

- sent: the row says so and drops its body;
- refused for good (the server refuses the address, or there is no address): failed at once;
- any other failure (server down, timeout, a 4xx answer): tried again after
  ``EDS_MAIL_RETRY_SECONDS``, doubling each time, ``EDS_MAIL_MAX_ATTEMPTS`` times in all, then
  failed.

A failed mail is audited and listed for the data office and the DPO (``/mail/failed/``), who
may send it again. A nightly-style sweep (every minute, beat) queues again what is due or was
lost (a broker down at commit time, a worker killed while sending).

Mails to staff and researchers carry their text (``subject``, ``body``, ``to``). Mails to
patients carry none and no address: an app registers a composer for their ``kind`` that writes
them when they are sent from the record they name (``reference``), reading the address from the
vault; the patient's address is never in the portal's database.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.models import MailStatus, OutgoingMail

logger = logging.getLogger(__name__)

# A mail whose task should have run by now (or whose worker died while sending) is queued again.
SWEEP_GRACE = timedelta(seconds=60)


class Undeliverable(Exception):
    """The mail cannot be written or has nowhere to go; trying again will not help.

    ``str()`` is a short reason in English for the staff list (never an address)."""


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    to: list[str]


@dataclass(frozen=True)
class MailKind:
    label: Any
    compose: Callable[[OutgoingMail], Composed] | None = None
    after_sent: Callable[[OutgoingMail], None] | None = None


_KINDS: dict[str, MailKind] = {}


def register_kind(
    kind: str,
    *,
    label: Any,
    compose: Callable[[OutgoingMail], Composed] | None = None,
    after_sent: Callable[[OutgoingMail], None] | None = None,
) -> None:
    """Called from an app's ``ready``: what staff call this kind of mail, and for mails that
    keep no text (to patients), the function that writes them when they are sent."""
    _KINDS[kind] = MailKind(label, compose, after_sent)


def kind_label(kind: str) -> Any:
    registered = _KINDS.get(kind)
    return registered.label if registered else kind


def queue_mail(
    *,
    kind: str,
    reference: str = "",
    to: Iterable[str] = (),
    subject: str = "",
    body: str = "",
    recipient: Any = None,
    language: str = "",
) -> OutgoingMail:
    """Writes the mail in the caller's transaction; it leaves after the commit."""
    mail = OutgoingMail.objects.create(
        kind=kind,
        reference=str(reference),
        to=[address for address in to if address],
        subject=" ".join(str(subject).split())[:400],
        body=str(body),
        recipient=recipient if getattr(recipient, "pk", None) else None,
        language=language,
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(partial(enqueue, mail.pk), robust=True)
    return mail


def enqueue(mail_id: int) -> None:
    """Hands the mail to a worker; a broker that is down only delays it (the sweep finds it)."""
    from eds_portal.tasks import send_outgoing_mail_task

    try:
        send_outgoing_mail_task.delay(mail_id)
    except Exception:
        logger.exception("mail %s could not be queued; the sweep will send it", mail_id)


def _message(mail: OutgoingMail) -> EmailMessage:
    registered = _KINDS.get(mail.kind)
    if registered is not None and registered.compose is not None:
        composed = registered.compose(mail)
    else:
        composed = Composed(mail.subject, mail.body, list(mail.to))
    if not composed.to:
        raise Undeliverable("no e-mail address")
    return EmailMessage(composed.subject, composed.body, None, composed.to)


def describe_error(exc: BaseException) -> str:
    """The kind of failure and its SMTP codes, for the staff list: never the server's words,
    which may quote the address."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _message in exc.recipients.values()})
        return f"{name} {' '.join(codes)}".strip()
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name} {exc.smtp_code}"
    if isinstance(exc, Undeliverable):
        return f"{name}: {exc}"[:300]
    if isinstance(exc, OSError) and exc.strerror:
        return f"{name}: {exc.strerror}"[:300]
    return name


def is_permanent(exc: BaseException) -> bool:
    """Whether trying again cannot help: no address, or the server refuses every recipient."""
    if isinstance(exc, Undeliverable):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(int(code) >= 500 for code in codes)
    return False


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt once ``attempts`` have failed (exponential backoff)."""
    delay = settings.EDS_MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return min(delay, settings.EDS_MAIL_RETRY_MAX_SECONDS)


def deliver(mail_id: int) -> int | None:
    """One attempt at sending the mail. Returns the seconds after which to try again, or None
    (sent, failed for good, or not this task's to send)."""
    now = timezone.now()
    claimed = OutgoingMail.objects.filter(pk=mail_id, status=MailStatus.PENDING).update(
        status=MailStatus.SENDING, claimed_at=now
    )
    if not claimed:
        return None
    mail = OutgoingMail.objects.get(pk=mail_id)
    try:
        _message(mail).send()
    except Exception as exc:
        return _attempt_failed(mail, exc)
    _sent(mail)
    return None


def _sent(mail: OutgoingMail) -> None:
    OutgoingMail.objects.filter(pk=mail.pk).update(
        status=MailStatus.SENT,
        sent_at=timezone.now(),
        attempts=mail.attempts + 1,
        claimed_at=None,
        next_attempt_at=None,
        last_error="",
        # The text is kept where it belongs (the notification, the answer); an invitation's
        # link is a secret that need not wait in a table.
        body="",
    )
    registered = _KINDS.get(mail.kind)
    if registered is not None and registered.after_sent is not None:
        try:
            registered.after_sent(mail)
        except Exception:
            logger.exception("mail %s was sent but its follow-up failed", mail.pk)


def _attempt_failed(mail: OutgoingMail, exc: BaseException) -> int | None:
    attempts = mail.attempts + 1
    error = describe_error(exc)
    now = timezone.now()
    if is_permanent(exc) or attempts >= settings.EDS_MAIL_MAX_ATTEMPTS:
        with transaction.atomic():
            OutgoingMail.objects.filter(pk=mail.pk).update(
                status=MailStatus.FAILED,
                attempts=attempts,
                failed_at=now,
                claimed_at=None,
                next_attempt_at=None,
                last_error=error,
            )
            record_event(
                action="mail.failed",
                target=mail,
                after={
                    "kind": mail.kind,
                    "reference": mail.reference,
                    "attempts": attempts,
                    "error": error,
                },
            )
        logger.warning(
            "mail %s (%s) not sent after %s attempt(s): %s", mail.pk, mail.kind, attempts, error
        )
        return None
    delay = retry_delay(attempts)
    OutgoingMail.objects.filter(pk=mail.pk).update(
        status=MailStatus.PENDING,
        attempts=attempts,
        claimed_at=None,
        next_attempt_at=now + timedelta(seconds=delay),
        last_error=error,
    )
    logger.info(
        "mail %s (%s) attempt %s failed (%s); next in %ss",
        mail.pk,
        mail.kind,
        attempts,
        error,
        delay,
    )
    return delay


def sweep() -> list[int]:
    """Queues again the mails that are due and the ones a lost worker held; returns their ids."""
    now = timezone.now()
    lost_before = now - timedelta(seconds=max(600, settings.EMAIL_TIMEOUT * 4))
    OutgoingMail.objects.filter(status=MailStatus.SENDING, claimed_at__lt=lost_before).update(
        status=MailStatus.PENDING, claimed_at=None, next_attempt_at=now
    )
    due = list(
        OutgoingMail.objects.filter(status=MailStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now - SWEEP_GRACE))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    for mail_id in due:
        enqueue(mail_id)
    return due


# --- Staff: the mails that could not be sent ----------------------------------------------------


class MailRefused(Exception):
    """``str()`` is a message for the user."""


def failed_mails():
    return OutgoingMail.objects.filter(status=MailStatus.FAILED).select_related("recipient")


def retrying_mails():
    return OutgoingMail.objects.filter(status=MailStatus.PENDING, attempts__gt=0).select_related(
        "recipient"
    )


@transaction.atomic
def retry_mail(*, mail: OutgoingMail, by: Any) -> OutgoingMail:
    """Staff send a failed mail again: a new series of attempts, queued after the commit."""
    locked = OutgoingMail.objects.select_for_update().get(pk=mail.pk)
    if locked.status != MailStatus.FAILED:
        raise MailRefused(_("Only a mail that could not be sent can be sent again."))
    previous = {"attempts": locked.attempts, "error": locked.last_error}
    locked.status = MailStatus.PENDING
    locked.attempts = 0
    locked.failed_at = None
    locked.next_attempt_at = timezone.now()
    locked.save(update_fields=["status", "attempts", "failed_at", "next_attempt_at"])
    record_event(
        action="mail.retry_requested",
        actor=by,
        target=locked,
        before=previous,
        after={"kind": locked.kind, "reference": locked.reference},
    )
    transaction.on_commit(partial(enqueue, locked.pk), robust=True)
    return locked


def register() -> None:
    """The kinds of mail the foundation sends (its ``AppConfig.ready``)."""
    from eds_portal.models import Notification

    def notification_emailed(mail: OutgoingMail) -> None:
        if mail.reference.isdigit():
            Notification.objects.filter(pk=int(mail.reference)).update(emailed=True)

    register_kind("notification", label=_("Notification"), after_sent=notification_emailed)
    register_kind("audit.alert", label=_("Audit trail alert"))
