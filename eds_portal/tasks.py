"""Periodic tasks of the foundation. Tasks receive ids, fetch, and call actions."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eds_portal import mail
from eds_portal.audit import record_event, verify_chain
from eds_portal.models import Heartbeat, User
from eds_portal.roles import Role

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def verify_audit_chain_task() -> dict:
    """Recompute the whole chain; record the result; alert the DPOs if it is broken."""
    report = verify_chain()
    with transaction.atomic():
        record_event(
            action="audit.chain_verified",
            target_type="eds_portal.auditevent",
            after=report.as_dict(),
        )
    if not report.ok:
        logger.error("Audit chain broken at event #%s: %s", report.broken_seq, report.reason)
        recipients = list(
            User.objects.filter(groups__name=Role.DPO.value, is_active=True).values_list(
                "email", flat=True
            )
        )
        if recipients:
            mail.queue_mail(
                kind="audit.alert",
                reference=str(report.broken_seq),
                to=recipients,
                subject=_("Audit trail integrity alert"),
                body=_(
                    "The nightly verification found the audit trail broken at event #%(seq)s: "
                    "%(reason)s."
                )
                % {"seq": report.broken_seq, "reason": report.reason},
            )
    return report.as_dict()


@shared_task(bind=True, ignore_result=True)
def send_outgoing_mail_task(self, mail_id: int) -> None:
    """One attempt at an e-mail (eds_portal.mail); a failed one comes back with a growing delay.

    Eagerly run (unit tests), a failed attempt waits for the sweep instead of looping at once.
    """
    delay = mail.deliver(mail_id)
    if delay is not None and not self.request.is_eager:
        raise self.retry(countdown=delay, max_retries=None)


@shared_task(ignore_result=True)
def retry_outgoing_mail_task() -> int:
    """Queues again the mails whose next attempt is due or whose worker was lost."""
    return len(mail.sweep())


@shared_task(ignore_result=True)
def beat_heartbeat_task() -> None:
    """Beat schedules this every minute: its time in the table says beat (and a worker) live."""
    Heartbeat.objects.update_or_create(name="beat", defaults={"beat_at": timezone.now()})


@shared_task(ignore_result=True)
def purge_address_keys_task() -> list[str]:
    """LOG-04: the keys of client-address hashes past their retention are deleted (audited)."""
    from eds_portal.addresses import purge_address_keys

    return [day.isoformat() for day in purge_address_keys()]


@shared_task(ignore_result=True)
def clear_expired_sessions_task() -> int:
    count, _details = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return count


@shared_task(ignore_result=True)
def close_audit_periods_task() -> list[int]:
    """LOG-04: each closed month of the trail gets its signed checkpoint (file and e-mail too)."""
    from eds_portal.audit_epochs import close_periods

    return [checkpoint.epoch for checkpoint in close_periods()]


@shared_task(ignore_result=True)
def verify_audit_checkpoints_task() -> dict:
    """Signatures, the checkpoints' chain and none missing; the DPOs hear of any problem."""
    from eds_portal.audit_epochs import verify_checkpoints

    report = verify_checkpoints()
    with transaction.atomic():
        record_event(
            action="audit.checkpoints_verified",
            target_type="eds_portal.auditcheckpoint",
            after=report.as_dict(),
        )
        if not report.ok:
            logger.error("Audit checkpoints: %s", "; ".join(report.problems))
            recipients = list(
                User.objects.filter(groups__name=Role.DPO.value, is_active=True).values_list(
                    "email", flat=True
                )
            )
            if recipients:
                mail.queue_mail(
                    kind="audit.alert",
                    reference="checkpoints",
                    to=recipients,
                    subject=_("Audit trail checkpoint alert"),
                    body=_("The nightly verification of the signed checkpoints found: %(problems)s")
                    % {"problems": "; ".join(report.problems)},
                )
    return report.as_dict()


@shared_task(ignore_result=True)
def purge_retention_task() -> dict[str, int]:
    """RET-01..07: every registered rule purges what is due; the counts go to the trail."""
    from eds_portal.retention import purge_due

    return purge_due()


@shared_task(ignore_result=True)
def review_logs_task() -> int:
    """LOG-03: the hourly rules over the trail; alerts to the DPO (page and e-mail)."""
    from eds_portal.log_review import review

    return len(review())


@shared_task(ignore_result=True)
def disable_inactive_accounts_task() -> dict:
    """Nightly: warns soon-unused accounts by e-mail, disables unused ones (SEC-04, RET-04)."""
    from eds_portal.accounts.actions import disable_inactive_accounts

    return disable_inactive_accounts()


@shared_task(ignore_result=True)
def expire_role_grants_task() -> int:
    """Nightly: revokes the roles whose grant reached its end date (SEC-04), audited."""
    from eds_portal.actions import expire_role_grants

    return expire_role_grants()
