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
