"""Periodic tasks of the foundation. Tasks receive ids, fetch, and call actions."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eds_portal.audit import record_event, verify_chain
from eds_portal.models import User
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
            send_mail(
                _("Audit trail integrity alert"),
                _(
                    "The nightly verification found the audit trail broken at event #%(seq)s: "
                    "%(reason)s."
                )
                % {"seq": report.broken_seq, "reason": report.reason},
                None,
                recipients,
            )
    return report.as_dict()


@shared_task(ignore_result=True)
def purge_address_keys_task() -> list[str]:
    """LOG-04: the keys of client-address hashes past their retention are deleted (audited)."""
    from eds_portal.addresses import purge_address_keys

    return [day.isoformat() for day in purge_address_keys()]


@shared_task(ignore_result=True)
def clear_expired_sessions_task() -> int:
    count, _details = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return count
