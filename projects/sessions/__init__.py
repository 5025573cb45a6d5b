"""Sessions, quorum, votes, the written procedure and decisions."""

from __future__ import annotations


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from django.utils.translation import gettext_lazy as _

    from eds_portal.home import HomePanel, register_panel
    from eds_portal.roles import COMMISSION_ROLES, Role
    from projects.page_sections import PageSection, register_page_section
    from projects.sessions import panels, permissions

    permissions.register()
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
    register_page_section(
        PageSection(
            key="decisions",
            template_name="projects/decisions/_section.html",
            context=panels.decisions_section,
            order=80,
        )
    )
