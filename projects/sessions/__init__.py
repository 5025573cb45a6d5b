"""Sessions, quorum, votes, the written procedure and decisions (issue 5, items 6 and 7)."""

from __future__ import annotations

from typing import Any


def _reads_decisions(user: Any, project) -> bool:
    from projects.conflicts import may_read_file
    from projects.permissions import is_member

    return is_member(user, project) or may_read_file(user, project)


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, detail sections."""
    from django.utils.translation import gettext_lazy as _

    from eds_portal.authz import Permission, register_object_rule
    from eds_portal.home import HomePanel, register_panel
    from eds_portal.roles import COMMISSION_ROLES, Role
    from projects.detail_sections import DetailSection, register_detail_section
    from projects.models import Decision, Project
    from projects.sessions import panels

    # The team reads its decisions; the secretariat and the DPO every decision; a commission
    # member those of the files they may read (not conflicted, interests declared).
    staff = frozenset({Role.SECRETARIAT, Role.DPO})
    register_object_rule(
        Permission.VIEW_DECISION,
        Decision,
        roles_on_all=staff,
        predicate=lambda user, decision: _reads_decisions(user, decision.project),
    )
    register_object_rule(
        Permission.VIEW_DECISION, Project, roles_on_all=staff, predicate=_reads_decisions
    )
    register_panel(
        HomePanel(
            key="chair_work",
            roles=frozenset({Role.CHAIR}),
            title=_("Sessions and decisions"),
            template_name="projects/sessions/panels/chair_work.html",
            context=panels.chair_work,
            primary_for=frozenset({Role.CHAIR}),
        )
    )
    register_panel(
        HomePanel(
            key="member_sessions",
            roles=COMMISSION_ROLES,
            title=_("My sessions"),
            template_name="projects/sessions/panels/member_sessions.html",
            context=panels.member_sessions,
        )
    )
    register_detail_section(
        DetailSection(
            key="decisions",
            template_name="projects/decisions/_section.html",
            context=panels.decisions_section,
            order=80,
        )
    )
