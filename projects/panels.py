"""Home panels of the projects app: the researcher's projects, the secretariat's inbox."""

from __future__ import annotations

from django.db.models import Max
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from eds_portal.home import HomePanel, register_panel
from eds_portal.roles import COMMISSION_ROLES, Role
from projects.models import Project, ProjectStatus, TeamRole

# What the team has to do, by status (the researcher's "what is awaited from me").
AWAITED = {
    ProjectStatus.DRAFT: _("Complete the sections and submit."),
    ProjectStatus.INCOMPLETE: _("Complete the items the secretariat listed and submit again."),
    ProjectStatus.CHANGES_REQUESTED: _(
        "Revise the protocol as the commission asked and submit the new version."
    ),
    ProjectStatus.SUBMITTED: _("Nothing: the secretariat is checking the file."),
    ProjectStatus.UNDER_REVIEW: _("Nothing for now: the commission is reviewing the file."),
    ProjectStatus.APPROVED: _("Nothing: the formalities are under way."),
    ProjectStatus.FORMALITIES: _("Nothing: the formalities are under way."),
    ProjectStatus.PUBLISHED: _("Nothing: the information window is running."),
    ProjectStatus.ACTIVE: _("Report your results when available."),
}


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
    rows = [
        {"project": p, "awaited": AWAITED.get(p.status, ""), "is_lead": p.pk in leads}
        for p in projects
    ]
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
