"""Reads of the opposition register's files, filtered for the pages that show them.

Nothing here returns an identity (those are in the vault) or a person key
(``access.opposition.register``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from access.models import (
    OPEN_STATUSES,
    TO_MATCH_STATUSES,
    Kind,
    ObjectionOverride,
    OppositionRequest,
    Scope,
)
from projects.models import Project, ProjectStatus

# Projects a person may object to by name: those the public can know about, that is with a page
# on the transparency portal, until closed. An approved project whose formalities are not
# recorded yet has no page: naming it on a public form would publish it early.
OBJECTABLE_STATUSES = (
    ProjectStatus.PUBLISHED,
    ProjectStatus.ACTIVE,
    ProjectStatus.SUSPENDED,
)


def objectable_projects() -> QuerySet[Project]:
    """Published projects, with their public page (its title is the one to show)."""
    return (
        Project.objects.filter(status__in=OBJECTABLE_STATUSES, public_page__isnull=False)
        .select_related("public_page")
        .order_by("reference")
    )


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


# --- Objections that hold up provisioning (OPP-09, OPP-10) --------------------------------------


def _followed_projects() -> list[Project]:
    from access.formalities.gates import ON_THE_WAY, PROVISIONABLE

    return list(Project.objects.filter(status__in=PROVISIONABLE | ON_THE_WAY).order_by("reference"))


def projects_held_up_by(request: OppositionRequest) -> list[Project]:
    """Projects on their way to provisioning that this pending objection holds up.

    Empty when the request is not an objection waiting for matching or an ID copy; projects
    already overridden by the DPO are left out (``gates.pending_objection_reasons``).
    """
    if request.kind != Kind.OBJECTION or request.status not in TO_MATCH_STATUSES:
        return []
    overridden = set(request.overrides.values_list("project_id", flat=True))
    named = (
        None if request.scope == Scope.ALL else set(request.projects.values_list("pk", flat=True))
    )
    return [
        project
        for project in _followed_projects()
        if project.pk not in overridden and (named is None or project.pk in named)
    ]


def objections_holding_up_provisioning() -> list[dict]:
    """Each pending objection with the projects it holds up (a fixed number of queries)."""
    pending = list(
        OppositionRequest.objects.filter(kind=Kind.OBJECTION, status__in=TO_MATCH_STATUSES)
        .prefetch_related("projects")
        .order_by("received_at", "receipt_number")
    )
    if not pending:
        return []
    projects = _followed_projects()
    overridden = set(
        ObjectionOverride.objects.filter(request__in=pending).values_list(
            "request_id", "project_id"
        )
    )
    rows = []
    for request in pending:
        named = None if request.scope == Scope.ALL else {p.pk for p in request.projects.all()}
        held = [
            project
            for project in projects
            if (request.pk, project.pk) not in overridden and (named is None or project.pk in named)
        ]
        if held:
            rows.append({"request": request, "projects": held})
    return rows
