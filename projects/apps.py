from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Research projects")

    def ready(self) -> None:
        from projects import dashboards, panels, permissions, questions, review, sessions

        permissions.register()
        panels.register()
        # The commission's review, one package per part.
        review.register()
        questions.register()
        sessions.register()
        dashboards.register()
        # Team invitations are e-mails of the mail queue (eds_portal.mail).
        from projects.team_actions import register_mail

        register_mail()
