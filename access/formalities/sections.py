"""The project page's section on formalities and provisioning gates."""

from __future__ import annotations

from django.http import HttpRequest

from access.formalities.gates import gate_state
from eds_portal.authz import Permission, has_permission
from projects.models import Project, ProjectStatus
from projects.page_sections import PageSection, register_page_section

S = ProjectStatus
SHOWN = frozenset({S.APPROVED, S.FORMALITIES, S.PUBLISHED, S.ACTIVE, S.SUSPENDED, S.CLOSED})


def gates_context(request: HttpRequest, project: Project) -> dict | None:
    if project.status not in SHOWN:
        return None
    from access.models_transparency import PublicPage

    return {
        "state": gate_state(project),
        "page": PublicPage.objects.filter(project=project).first(),
        "can_manage": has_permission(request.user, Permission.MANAGE_FORMALITIES),
    }


def register() -> None:
    register_page_section(
        PageSection(
            "provisioning_gates",
            "access/formalities/_gates_section.html",
            gates_context,
            order=300,
        )
    )
