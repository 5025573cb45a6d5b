"""Questions between the commission and the team.

The package also registers eds_portal's unread-notifications panel: see ``register``.
"""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from django.utils.translation import gettext_lazy as _

    from eds_portal.authz import ALL_ROLES
    from eds_portal.home import HomePanel, register_panel
    from eds_portal.roles import Role
    from eds_portal.views.notifications import home_panel_context
    from projects.page_sections import PageSection, register_page_section
    from projects.questions import permissions
    from projects.questions.panels import open_questions_panel, project_section

    permissions.register()
    register_page_section(
        PageSection(
            key="questions",
            template_name="projects/questions/_section.html",
            context=project_section,
            order=20,
        )
    )
    register_panel(
        HomePanel(
            key="open_questions",
            roles=frozenset({Role.RESEARCHER}),
            title=_("Questions of the commission awaiting your answer"),
            template_name="projects/questions/_panel.html",
            context=open_questions_panel,
        )
    )
    # Every role's unread notifications: eds_portal's panel (eds_portal/views/notifications.py),
    # registered here because panels show in the order they are registered.
    register_panel(
        HomePanel(
            key="notifications",
            roles=ALL_ROLES,
            title=_("Unread notifications"),
            template_name="notifications/_panel.html",
            context=home_panel_context,
        )
    )
