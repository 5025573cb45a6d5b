"""Home panels of the sessions module and the decisions section of a project's page."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from eds_portal.authz import Permission, has_permission
from projects.conflicts import automatic_conflict, conflicted_projects
from projects.models import (
    AgendaItem,
    Attendance,
    CommissionSession,
    ConflictDeclaration,
    Decision,
    Project,
    ProjectStatus,
    SessionStatus,
    Vote,
    WrittenProcedure,
)
from projects.permissions import is_member
from projects.reading import cohort_rows
from projects.sessions.quorum import quorum_reasons
from warehouse import catalogue
from warehouse.catalogue import Generalisation


def _pending_items():
    return AgendaItem.objects.filter(
        session__status=SessionStatus.OPEN, decided_at__isnull=True, deferred_at__isnull=True
    )


def chair_work(request: HttpRequest) -> dict[str, Any]:
    from projects.sessions.decisions import procedure_state

    to_open = list(
        CommissionSession.objects.filter(status=SessionStatus.PLANNED).order_by("date")[:5]
    )
    sessions = [{"session": s, "quorum_reasons": quorum_reasons(s)} for s in to_open]
    items = list(
        _pending_items()
        .select_related("session", "project", "version")
        .prefetch_related("project__memberships__user")
        .annotate(has_votes=Exists(Vote.objects.filter(item=OuterRef("pk"))))
        .order_by("session__date", "position")[:20]
    )
    # An item the chair is conflicted on is not theirs to decide (its page answers 404).
    conflicted = conflicted_projects(request.user, [item.project for item in items])
    items = [item for item in items if item.project_id not in conflicted]
    procedures = [
        {"procedure": p, "state": procedure_state(p)}
        for p in WrittenProcedure.objects.filter(closed_at__isnull=True)
        .select_related("project", "version")
        .order_by("opened_at")[:10]
    ]
    return {"sessions": sessions, "items": items, "procedures": procedures}


def member_sessions(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    upcoming = list(
        CommissionSession.objects.filter(
            status__in=[SessionStatus.PLANNED, SessionStatus.OPEN], date__gte=today
        ).order_by("date")[:5]
    )
    present_at = Attendance.objects.filter(session=OuterRef("session"), member=user, present=True)
    candidates = list(
        _pending_items()
        .filter(Exists(present_at), vote_closed_at__isnull=True)
        .exclude(votes__member=user)
        .select_related("session", "project")
        .prefetch_related("project__memberships__user")
        .order_by("session__date", "position")[:20]
    )
    projects = [item.project for item in candidates]
    interested = set(
        ConflictDeclaration.objects.filter(
            member=user, project__in=projects, has_interest=True
        ).values_list("project_id", flat=True)
    )
    awaiting = [
        item
        for item in candidates
        if item.project_id not in interested and not automatic_conflict(user, item.project)
    ]
    return {"upcoming": upcoming, "awaiting": awaiting}


def decisions_section(request: HttpRequest, project: Project) -> dict[str, Any] | None:
    from projects.sessions.decisions import current_decision

    user = request.user
    if not has_permission(user, Permission.VIEW_DECISION, project):
        return None
    found = list(
        project.decisions.select_related("version", "signed_by", "supersedes").order_by(
            "-decided_at", "-pk"
        )
    )
    commission = has_permission(user, Permission.VIEW_SESSIONS)
    items = (
        list(project.agenda_items.select_related("session", "version").order_by("-session__date"))
        if commission
        else []
    )
    latest = project.versions.order_by("-number").first()
    procedure_link = (
        has_permission(user, Permission.VOTE)
        and latest is not None
        and latest.is_amendment
        and project.review_status == ProjectStatus.UNDER_REVIEW
    )
    if not found and not items and not procedure_link:
        return None
    current = current_decision(project) if found else None
    superseded = {d.supersedes_id for d in found if d.supersedes_id}
    specification = None
    if current is not None and current.is_favourable and is_member(user, project):
        specification = _readable_specification(current)
    return {
        "decisions": [{"decision": d, "superseded": d.pk in superseded} for d in found],
        "current": current,
        "specification": specification,
        "items": items,
        "procedure_link": procedure_link,
        "show_tally": commission,
    }


def _readable_specification(decision: Decision) -> dict[str, Any]:
    spec = decision.approved_specification
    rows = []
    for entry in spec.get("decisions", []):
        variable = catalogue.BY_CODE.get(entry["code"])
        generalisation = entry.get("generalisation") or ""
        rows.append(
            {
                "code": entry["code"],
                "label": variable.label if variable else entry["code"],
                "refused": entry["verdict"] == "refuse",
                "coarser": entry["verdict"] == "coarser",
                "generalisation": Generalisation(generalisation).label
                if generalisation in Generalisation.values
                else generalisation,
                "reason": entry.get("reason", ""),
            }
        )
    return {
        "rows": rows,
        "access_months": spec.get("access_months"),
        "cohort": cohort_rows(spec.get("criteria")),
        "expected_persons": spec.get("expected_persons"),
        "recipients": spec.get("recipients", []),
        "sha256": decision.specification_sha256,
    }
