"""Questions between the commission and the team, and notifications (issue 5, items 5 and 8)."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, detail sections."""
    from django.utils.translation import gettext_lazy as _

    from eds_portal.authz import ALL_ROLES, Permission, register_object_rule
    from eds_portal.home import HomePanel, register_panel
    from eds_portal.roles import Role
    from eds_portal.views.notifications import home_panel_context
    from projects.detail_sections import DetailSection, register_detail_section
    from projects.models import Project
    from projects.questions.panels import open_questions_panel, project_section
    from projects.questions.rules import may_answer, may_ask

    register_object_rule(Permission.ASK_QUESTION, Project, predicate=may_ask)
    register_object_rule(Permission.ANSWER_QUESTION, Project, predicate=may_answer)
    register_detail_section(
        DetailSection(
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
    # Every role's unread notifications (the panel of eds_portal, registered here with the
    # rest of issue 5's item 8).
    register_panel(
        HomePanel(
            key="notifications",
            roles=ALL_ROLES,
            title=_("Unread notifications"),
            template_name="notifications/_panel.html",
            context=home_panel_context,
        )
    )
