"""Home panels and the project page's section contributed by the review."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.authz import Permission, has_permission
from eds_portal.home import HomePanel, register_panel
from eds_portal.roles import Role
from projects.conflicts import REVIEW_STATUSES
from projects.models import Project
from projects.page_sections import PageSection, register_page_section
from projects.permissions import is_member
from projects.review import selectors

PANEL_LIMIT = 20


def _my_review_files(request: HttpRequest) -> dict:
    from projects.review.views import commission_files

    return commission_files(request.user, limit=PANEL_LIMIT)


def _review_follow_up(request: HttpRequest) -> dict:
    return {
        "lacking": list(selectors.lacking_rapporteurs()[:50]),
        "overdue": list(selectors.overdue_assignments()[:50]),
        "minimum": settings.EDS_MIN_RAPPORTEURS,
    }


def review_section(request: HttpRequest, project: Project) -> dict | None:
    """Rapporteurs and due dates, my review, the reviews' summary: to those who may see them.

    The team never sees this section, whatever else its members are.
    """
    user = request.user
    if project.status not in REVIEW_STATUSES or is_member(user, project):
        return None
    can_assign = has_permission(user, Permission.ASSIGN_RAPPORTEURS, project)
    can_read = has_permission(user, Permission.READ_REVIEWS, project)
    mine = selectors.active_assignment(user, project)
    if not (can_assign or can_read or mine):
        return None
    assignments = list(selectors.active_assignments(project)) if (can_assign or can_read) else []
    version = selectors.latest_version(project)
    summary = []
    submitted = 0
    if can_read and version is not None:
        reviews = list(selectors.submitted_reviews(project).filter(version=version))
        submitted = len(reviews)
        summary = selectors.summarise(version, reviews) if reviews else []
    today = timezone.localdate()
    return {
        "rows": [
            {"assignment": a, "overdue": a.completed_at is None and a.due_date < today}
            for a in assignments
        ],
        "minimum": settings.EDS_MIN_RAPPORTEURS,
        "lacking": project.review_status in selectors.ASSIGNABLE_STATUSES
        and len(assignments) < settings.EDS_MIN_RAPPORTEURS,
        "can_assign": can_assign and project.review_status in selectors.ASSIGNABLE_STATUSES,
        "can_read": can_read,
        "my_assignment": mine,
        "can_review": mine is not None and has_permission(user, Permission.REVIEW_PROJECT, project),
        "version": version,
        "submitted": submitted,
        "summary": summary,
    }


def register() -> None:
    register_panel(
        HomePanel(
            key="my_review_files",
            roles=frozenset({Role.COMMISSION_MEMBER, Role.PATIENT_REPRESENTATIVE, Role.CHAIR}),
            title=_("My files as rapporteur"),
            template_name="projects/review/panels/my_review_files.html",
            context=_my_review_files,
            primary_for=frozenset({Role.COMMISSION_MEMBER, Role.PATIENT_REPRESENTATIVE}),
        )
    )
    register_panel(
        HomePanel(
            key="review_follow_up",
            roles=frozenset({Role.SECRETARIAT}),
            title=_("Rapporteurs and reviews to follow up"),
            template_name="projects/review/panels/review_follow_up.html",
            context=_review_follow_up,
            primary_for=frozenset({Role.SECRETARIAT}),
        )
    )
    register_page_section(
        PageSection(
            key="review",
            template_name="projects/review/_detail_section.html",
            context=review_section,
            order=10,
        )
    )
