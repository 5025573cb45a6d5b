"""What the access app purges (registered with ``eds_portal.retention``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from eds_portal.retention import PurgeRule, days, register_purge, years, years_before


def _attempts_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.EDS_RETENTION_PUBLIC_ATTEMPT_DAYS)


def _attempts(now: datetime):
    from access.models import PublicAttempt

    return PublicAttempt.objects.filter(at__lt=_attempts_cutoff(now))


def _attempts_purge(now: datetime) -> int:
    deleted, _details = _attempts(now).delete()
    return deleted


def _attempts_next(now: datetime) -> datetime | None:
    from access.models import PublicAttempt

    oldest = PublicAttempt.objects.order_by("at").values_list("at", flat=True).first()
    return oldest + timedelta(days=settings.EDS_RETENTION_PUBLIC_ATTEMPT_DAYS) if oldest else None


# Requests whose identity is no longer needed: refused, or ended by a withdrawal. Applied
# objections keep theirs (the register must go on excluding the person, RET-06).
def _closed_requests(now: datetime):
    from access.models import OppositionRequest, RequestStatus

    cutoff = now - timedelta(days=settings.EDS_RETENTION_CLOSED_IDENTITY_DAYS)
    return OppositionRequest.objects.filter(
        status__in=[RequestStatus.REFUSED, RequestStatus.WITHDRAWN, RequestStatus.DONE],
        closed_at__lt=cutoff,
    )


def _identities_due(now: datetime) -> int:
    from warehouse.vault import opposition_identities_held

    numbers = _closed_requests(now).values_list("receipt_number", flat=True)
    return len(opposition_identities_held(numbers))


def _identities_purge(now: datetime) -> int:
    from warehouse.vault import forget_opposition_identities

    return forget_opposition_identities(
        _closed_requests(now).values_list("receipt_number", flat=True)
    )


# Closed requests' letters (RET-06): kept to prove the request was handled, then deleted. The
# request rows stay, without identity by then: the register's entries refer to them.
def _closed_answers(now: datetime):
    from access.models import Answer, RequestStatus

    cutoff = years_before(now, settings.EDS_RETENTION_CLOSED_OPPOSITION_YEARS)
    return Answer.objects.filter(
        request__status__in=[RequestStatus.REFUSED, RequestStatus.WITHDRAWN, RequestStatus.DONE],
        request__closed_at__lt=cutoff,
    )


def _closed_answers_purge(now: datetime) -> int:
    deleted, _details = _closed_answers(now).delete()
    return deleted


register_purge(
    PurgeRule(
        name="public_attempts",
        label=_("Counters of public requests (address hashes)"),
        setting="EDS_RETENTION_PUBLIC_ATTEMPT_DAYS",
        period=lambda: days(settings.EDS_RETENTION_PUBLIC_ATTEMPT_DAYS),
        due=lambda now: _attempts(now).count(),
        purge=_attempts_purge,
        next_due=_attempts_next,
    )
)
register_purge(
    PurgeRule(
        name="closed_request_identities",
        label=_("Identities of refused or withdrawn opposition requests (vault)"),
        setting="EDS_RETENTION_CLOSED_IDENTITY_DAYS",
        period=lambda: days(settings.EDS_RETENTION_CLOSED_IDENTITY_DAYS),
        due=_identities_due,
        purge=_identities_purge,
        database="vault",
    )
)
register_purge(
    PurgeRule(
        name="closed_request_letters",
        label=_("Letters of closed opposition requests"),
        setting="EDS_RETENTION_CLOSED_OPPOSITION_YEARS",
        period=lambda: years(settings.EDS_RETENTION_CLOSED_OPPOSITION_YEARS),
        due=lambda now: _closed_answers(now).count(),
        purge=_closed_answers_purge,
    )
)
