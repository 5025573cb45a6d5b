"""Reads of the audit trail, filtered as the DPO and the auditor ask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from eds_portal.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    since: date | None = None
    until: date | None = None

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in self.__dict__.items() if value}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(filters: AuditFilters) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.select_related("actor").order_by("-seq")
    if filters.action:
        # "auth" matches every auth.* action, "auth.login" only that one (not auth.login_failed).
        events = events.filter(
            Q(action=filters.action) | Q(action__startswith=filters.action.rstrip(".") + ".")
        )
    if filters.actor:
        events = events.filter(actor__email__iexact=filters.actor)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    if filters.since:
        events = events.filter(occurred_at__gte=_start_of(filters.since))
    if filters.until:
        events = events.filter(occurred_at__lt=_start_of(filters.until + timedelta(days=1)))
    return events


def audit_action_names() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def last_chain_verification() -> AuditEvent | None:
    return AuditEvent.objects.filter(action="audit.chain_verified").order_by("-seq").first()
