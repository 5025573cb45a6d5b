"""Retention: what each app purges and when (RET-01, RET-02, RET-04, RET-06, RET-07).

Each app declares its rules in its own ``retention`` module, calling ``register_purge``; this
module finds them (as the admin finds ``admin`` modules). The nightly ``purge_due`` runs every
rule, each in its own transaction, and writes one audit event with the counts purged per rule,
never what was purged. The DPO's page (``/retention/``) lists the rules, their setting, what is
due at the next run and when the next item falls due.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

# When beat runs the purge (eds_portal/celery.py, in CELERY_TIMEZONE, the portal's local
# time), shown on the DPO's page.
PURGE_HOUR, PURGE_MINUTE = 1, 15


@dataclass(frozen=True)
class PurgeRule:
    """One kind of data with its retention period.

    ``due(now)`` counts what the purge would remove now; ``purge(now)`` removes it and returns
    the count; ``next_due(now)`` is when the oldest remaining item falls due (None: nothing).
    """

    name: str
    label: Any
    setting: str
    period: Callable[[], str]
    due: Callable[[datetime], int]
    purge: Callable[[datetime], int]
    next_due: Callable[[datetime], datetime | None] = lambda now: None
    database: str = "default"


_RULES: dict[str, PurgeRule] = {}
_discovered = False


def register_purge(rule: PurgeRule) -> None:
    _RULES[rule.name] = rule


def rules() -> list[PurgeRule]:
    global _discovered
    if not _discovered:
        autodiscover_modules("retention")
        _discovered = True
    return list(_RULES.values())


def years(value: int) -> str:
    return ngettext("%(count)d year", "%(count)d years", value) % {"count": value}


def days(value: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", value) % {"count": value}


def years_before(now: datetime, count: int) -> datetime:
    try:
        return now.replace(year=now.year - count)
    except ValueError:  # 29 February
        return now.replace(year=now.year - count, day=28)


def next_run(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    local = timezone.localtime(now)
    candidate = local.replace(hour=PURGE_HOUR, minute=PURGE_MINUTE, second=0, microsecond=0)
    return candidate if candidate > local else candidate + timedelta(days=1)


def schedule(now: datetime | None = None) -> list[dict[str, Any]]:
    """The DPO's view: each rule, its setting and period, what the next run purges, what next."""
    now = now or timezone.now()
    upcoming = next_run(now)
    rows = []
    for rule in rules():
        rows.append(
            {
                "name": rule.name,
                "label": rule.label,
                "setting": rule.setting,
                "period": rule.period(),
                "due": rule.due(upcoming),
                "next_due": rule.next_due(upcoming),
                "next_run": upcoming,
            }
        )
    return rows


def purge_due(*, now: datetime | None = None) -> dict[str, int]:
    """Runs every rule; records one event with the counts (and the rules that failed)."""
    from eds_portal.audit import record_event

    now = now or timezone.now()
    counts: dict[str, int] = {}
    failed: list[str] = []
    for rule in rules():
        try:
            with transaction.atomic(using=rule.database):
                counts[rule.name] = rule.purge(now)
        except Exception:
            logger.exception("retention rule %s failed", rule.name)
            failed.append(rule.name)
    with transaction.atomic():
        record_event(
            action="retention.purged",
            target_type="eds_portal.retention",
            after={"counts": counts, "failed": failed},
        )
    return counts


# --- The foundation's own rules -----------------------------------------------------------------


def _audit_due(now: datetime) -> int:
    from django.db.models import F, Sum

    from eds_portal.audit_epochs import due_for_purge

    total = due_for_purge(now).aggregate(n=Sum(F("last_seq") - F("first_seq") + 1))["n"]
    return int(total or 0)


def _audit_next(now: datetime) -> datetime | None:
    from eds_portal.models import AuditEvent

    oldest = AuditEvent.objects.order_by("seq").values_list("occurred_at", flat=True).first()
    if oldest is None:
        return None
    from eds_portal.audit_epochs import next_month

    return next_month(oldest) + timedelta(days=settings.EDS_RETENTION_AUDIT_DAYS)


def _audit_purge(now: datetime) -> int:
    from eds_portal.audit_epochs import purge_expired_periods

    return purge_expired_periods(now)


def _dormant_accounts(now: datetime):
    from django.db.models import Q
    from django.db.models.functions import Coalesce

    from eds_portal.models import User

    cutoff = years_before(now, settings.EDS_RETENTION_DORMANT_ACCOUNT_YEARS)
    return (
        User.objects.annotate(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=cutoff, is_superuser=False)
        .exclude(Q(email__endswith=ERASED_DOMAIN))
    )


ERASED_DOMAIN = "@erased.invalid"


def _accounts_purge(now: datetime) -> int:
    from eds_portal.audit import record_event

    count = 0
    for user in _dormant_accounts(now).select_for_update():
        # The row stays (events and decisions name it); what identified the person goes.
        user.email = f"user-{user.pk}{ERASED_DOMAIN}"
        user.full_name = ""
        user.organisation = ""
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "full_name", "organisation", "is_active", "password"])
        user.groups.clear()
        record_event(action="account.erased", target=user, after={"reason": "dormant"})
        count += 1
    return count


def _accounts_next(now: datetime) -> datetime | None:
    from django.db.models.functions import Coalesce

    from eds_portal.models import User

    oldest = (
        User.objects.annotate(last_seen=Coalesce("last_login", "date_joined"))
        .filter(is_superuser=False)
        .exclude(email__endswith=ERASED_DOMAIN)
        .order_by("last_seen")
        .values_list("last_seen", flat=True)
        .first()
    )
    if oldest is None:
        return None
    return years_before(oldest, -settings.EDS_RETENTION_DORMANT_ACCOUNT_YEARS)


register_purge(
    PurgeRule(
        name="audit_trail",
        label=_("Audit trail (periods archived with their signed checkpoint, then deleted)"),
        setting="EDS_RETENTION_AUDIT_DAYS",
        period=lambda: days(settings.EDS_RETENTION_AUDIT_DAYS),
        due=_audit_due,
        purge=_audit_purge,
        next_due=_audit_next,
    )
)
register_purge(
    PurgeRule(
        name="dormant_accounts",
        label=_("Accounts unused since (personal data erased)"),
        setting="EDS_RETENTION_DORMANT_ACCOUNT_YEARS",
        period=lambda: years(settings.EDS_RETENTION_DORMANT_ACCOUNT_YEARS),
        due=lambda now: _dormant_accounts(now).count(),
        purge=_accounts_purge,
        next_due=_accounts_next,
    )
)
