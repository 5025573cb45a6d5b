"""Reads of the opposition register's files, filtered for the pages that show them.

Nothing here returns an identity (those are in the vault) or a person key (``access.register``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from access.models import OPEN_STATUSES, TO_MATCH_STATUSES, Kind, OppositionRequest
from projects.models import Project, ProjectStatus

# Projects a person may object to by name: those the public can know about (approved and
# beyond, until closed). The transparency portal lists the same ones.
OBJECTABLE_STATUSES = (
    ProjectStatus.APPROVED,
    ProjectStatus.FORMALITIES,
    ProjectStatus.PUBLISHED,
    ProjectStatus.ACTIVE,
    ProjectStatus.SUSPENDED,
)


def objectable_projects() -> QuerySet[Project]:
    return Project.objects.filter(status__in=OBJECTABLE_STATUSES).order_by("reference")


def requests_list() -> QuerySet[OppositionRequest]:
    return (
        OppositionRequest.objects.select_related("received_by", "withdraws")
        .annotate(answer_count=Count("answers"))
        .order_by("due_on", "received_at")
    )


FILTERS = {
    "open": Q(status__in=OPEN_STATUSES),
    "to_match": Q(kind=Kind.OBJECTION)
    & (Q(status__in=TO_MATCH_STATUSES) | Q(candidates_waiting=True)),
    "unanswered": Q(answers__isnull=True),
    "all": Q(),
}


def filtered_requests(show: str) -> QuerySet[OppositionRequest]:
    return requests_list().filter(FILTERS.get(show, FILTERS["open"])).distinct()


def to_match() -> QuerySet[OppositionRequest]:
    return filtered_requests("to_match")


def unanswered() -> QuerySet[OppositionRequest]:
    """Requests still owed an answer (no letter recorded), withdrawals done excepted."""
    return (
        requests_list()
        .filter(answers__isnull=True, kind=Kind.OBJECTION)
        .exclude(status="withdrawn")
    )


def due_and_overdue(*, today=None) -> dict[str, list[OppositionRequest]]:
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.EDS_OPPOSITION_REMINDER_DAYS)
    rows = list(unanswered().filter(due_on__lte=horizon))
    return {
        "overdue": [r for r in rows if r.due_on < today and not r.is_suspended],
        "due": [r for r in rows if r.due_on >= today and not r.is_suspended],
        "suspended": [r for r in rows if r.is_suspended],
    }
