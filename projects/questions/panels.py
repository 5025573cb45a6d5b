"""Home panels and the project page's section of the questions thread."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from eds_portal.authz import Permission, has_permission
from projects.models import Project, ProjectStatus
from projects.permissions import can_edit, is_member
from projects.questions.permissions import ASKING_STATUSES
from projects.questions.selectors import counts, projects_with_open_questions


def open_questions_panel(request: HttpRequest) -> dict[str, Any]:
    """The researcher's projects whose commission questions await the team."""
    return {"projects": projects_with_open_questions(request.user)}


def project_section(request: HttpRequest, project: Project) -> dict[str, Any] | None:
    """On the project's page: how many questions, how many open, and the link to the thread."""
    user = request.user
    tally = counts(project)
    can_ask = project.review_status in ASKING_STATUSES and has_permission(
        user, Permission.ASK_QUESTION, project
    )
    if not tally["total"] and not can_ask:
        return None
    return {
        "project": project,
        "total": tally["total"],
        "open": tally["open"],
        "can_ask": can_ask,
        "is_team": is_member(user, project),
        "can_answer": project.review_status in ASKING_STATUSES
        and has_permission(user, Permission.ANSWER_QUESTION, project),
        "changes_requested": project.status == ProjectStatus.CHANGES_REQUESTED,
        "can_revise": can_edit(user, project),
    }
