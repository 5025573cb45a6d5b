"""What output checking adds to other pages: the project page's section (the team's outputs),
the pipeline's projects due for closeout (the secretariat), the checkers' home panel."""

from __future__ import annotations

from django.http import HttpRequest

from access.models_outputs import OutputItem, OutputItemStatus
from eds_portal.authz import Permission, has_permission
from projects.models import Project, ProjectStatus
from projects.page_sections import PageSection, register_page_section

S = ProjectStatus
SHOWN = frozenset({S.PUBLISHED, S.ACTIVE, S.SUSPENDED, S.CLOSED})


def outputs_context(request: HttpRequest, project: Project) -> dict | None:
    if project.status not in SHOWN:
        return None
    if not has_permission(request.user, Permission.REQUEST_OUTPUTS, project):
        return None
    items = [
        item
        for output_request in project.output_requests.prefetch_related("items")
        for item in output_request.items.all()
    ]
    return {
        "requests": len({item.request_id for item in items}),
        "released": sum(item.status == OutputItemStatus.RELEASED for item in items),
        "waiting": sum(item.status == OutputItemStatus.SUBMITTED for item in items),
    }


def closeout_pipeline_context(request: HttpRequest) -> dict | None:
    from django.conf import settings

    from access.outputs.closeout import due_for_closeout

    return {
        "due_rows": due_for_closeout(),
        "reminder_days": settings.EDS_RESULTS_REMINDER_DAYS,
        "due_months": settings.EDS_RESULTS_DUE_MONTHS,
    }


def checker_panel_context(request: HttpRequest) -> dict:
    waiting = (
        OutputItem.objects.filter(status=OutputItemStatus.SUBMITTED)
        .select_related("request__project")
        .order_by("request__submitted_at", "pk")
    )
    return {
        "items": [
            item
            for item in waiting[:50]
            if has_permission(request.user, Permission.CHECK_OUTPUTS, item)
        ][:10]
    }


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from eds_portal.home import HomePanel, register_panel
    from eds_portal.roles import Role
    from projects.dashboards.sections import PipelineSection, register_pipeline_section

    register_page_section(
        PageSection("outputs", "access/outputs/_section.html", outputs_context, order=320)
    )
    register_pipeline_section(
        PipelineSection(
            "closeout_due", "access/outputs/_pipeline_closeout.html", closeout_pipeline_context
        )
    )
    register_panel(
        HomePanel(
            key="output_checking",
            roles=frozenset({Role.OUTPUT_CHECKER}),
            title=_("Outputs to check"),
            template_name="access/outputs/_panel_checker.html",
            context=checker_panel_context,
            primary_for=frozenset({Role.OUTPUT_CHECKER}),
        )
    )
