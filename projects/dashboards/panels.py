"""The secretariat's home panel: the pipeline at a glance and the files waiting longest."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from eds_portal.home import HomePanel, register_panel
from eds_portal.roles import Role
from projects.dashboards.selectors import status_counts, waiting_longest
from projects.models import ProjectStatus

WAITING_LIMIT = 5


def _pipeline_summary(request: HttpRequest) -> dict:
    counts = status_counts()
    return {
        "counts": [(ProjectStatus(s), n) for s, n in counts.items() if n],
        "waiting": waiting_longest(limit=WAITING_LIMIT),
    }


def register() -> None:
    register_panel(
        HomePanel(
            key="pipeline_summary",
            roles=frozenset({Role.SECRETARIAT}),
            title=_("Pipeline of files"),
            template_name="projects/dashboards/panel_pipeline.html",
            context=_pipeline_summary,
        )
    )
