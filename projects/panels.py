"""Home panels of the projects app: the researcher's projects, the secretariat's inbox."""

from __future__ import annotations

from django.db.models import Max
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from eds_portal.home import HomePanel, register_panel
from eds_portal.roles import COMMISSION_ROLES, Role
from projects import next_steps
from projects.models import Project, ProjectStatus, TeamRole

# What the team has to do (the researcher's "what is awaited from me"): projects/next_steps.py,
# which the status messages and the decision letters read too. AWAITED is its per-status part.
AWAITED = next_steps.AWAITED


def _my_projects(request: HttpRequest) -> dict:
    projects = list(
        Project.objects.filter(memberships__user=request.user)
        .exclude(status__in=[ProjectStatus.WITHDRAWN, ProjectStatus.CLOSED])
        .annotate(last_version=Max("versions__number"))
        .order_by("-updated_at")
        .distinct()[:20]
    )
    leads = set(
        Project.objects.filter(
            memberships__user=request.user, memberships__role=TeamRole.LEAD
        ).values_list("pk", flat=True)
    )
    awaited = next_steps.awaited_for_projects(projects)
    rows = [{"project": p, "awaited": awaited[p.pk], "is_lead": p.pk in leads} for p in projects]
    return {"rows": rows}


def _admissibility_inbox(request: HttpRequest) -> dict:
    projects = list(
        Project.objects.filter(status=ProjectStatus.SUBMITTED)
        .annotate(submitted=Max("versions__submitted_at"), last_version=Max("versions__number"))
        .order_by("submitted")[:50]
    )
    return {"projects": projects}


def _commission_files(request: HttpRequest) -> dict:
    from projects.conflicts import automatic_conflict

    in_review = list(
        Project.objects.filter(
            status__in=[ProjectStatus.UNDER_REVIEW, ProjectStatus.CHANGES_REQUESTED]
        )
        .prefetch_related("memberships__user")
        .order_by("updated_at")[:100]
    )
    declared = dict(
        request.user.conflict_declarations.filter(project__in=in_review).values_list(
            "project_id", "has_interest"
        )
    )
    to_declare = [
        p for p in in_review if p.pk not in declared and not automatic_conflict(request.user, p)
    ]
    readable = [
        p
        for p in in_review
        if declared.get(p.pk) is False and not automatic_conflict(request.user, p)
    ]
    return {"to_declare": to_declare, "readable": readable}


def register() -> None:
    register_panel(
        HomePanel(
            key="my_projects",
            roles=frozenset({Role.RESEARCHER}),
            title=_("My projects"),
            template_name="projects/panels/my_projects.html",
            context=_my_projects,
            primary_for=frozenset({Role.RESEARCHER}),
        )
    )
    register_panel(
        HomePanel(
            key="commission_files",
            roles=COMMISSION_ROLES,
            title=_("Files in review"),
            template_name="projects/panels/commission_files.html",
            context=_commission_files,
        )
    )
    register_panel(
        HomePanel(
            key="admissibility_inbox",
            roles=frozenset({Role.SECRETARIAT}),
            title=_("Submitted protocols awaiting the admissibility check"),
            template_name="projects/panels/admissibility_inbox.html",
            context=_admissibility_inbox,
        )
    )
