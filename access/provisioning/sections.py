"""The project page's section: the project's runs and datasets, for those who may see them."""

from __future__ import annotations

from django.http import HttpRequest

from access.provisioning import summary
from access.provisioning.selectors import project_runs
from eds_portal.authz import Permission, has_permission
from projects.models import Project, ProjectStatus
from projects.page_sections import PageSection, register_page_section

S = ProjectStatus
SHOWN = frozenset({S.PUBLISHED, S.ACTIVE, S.SUSPENDED, S.CLOSED})


def runs_context(request: HttpRequest, project: Project) -> dict | None:
    if project.status not in SHOWN and not project.provisioning_runs.exists():
        return None
    if not has_permission(request.user, Permission.VIEW_RUNS, project):
        return None
    runs = list(project_runs(project)[:20])
    current = summary.in_force(runs)
    return {"runs": runs, "summary": summary.summary(current) if current else None}


def register() -> None:
    register_page_section(
        PageSection(
            "provisioning_runs",
            "access/provisioning/_section.html",
            runs_context,
            order=310,
        )
    )
