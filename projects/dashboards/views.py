"""The secretariat's pipeline (page and CSV) and the processing-time statistics."""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission, has_role
from eds_portal.exports import table_response
from eds_portal.roles import Role
from eds_portal.views.base import PermissionView
from projects.dashboards.charts import durations_chart
from projects.dashboards.sections import render_pipeline_sections
from projects.dashboards.selectors import (
    LIFE_ORDER,
    PIPELINE_STATUSES,
    PipelineRow,
    pipeline,
    processing_stats,
    status_counts,
)
from projects.models import ProjectStatus

PERIOD_CHOICES = [
    ("6", _("6 months")),
    ("12", _("12 months")),
    ("24", _("24 months")),
    ("36", _("36 months")),
]
DEFAULT_MONTHS = 12


class PipelineFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses"))]
        + [(status.value, status.label) for status in PIPELINE_STATUSES],
    )


class PeriodForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Period"),
        choices=PERIOD_CHOICES,
        coerce=int,
        required=False,
        empty_value=DEFAULT_MONTHS,
        help_text=_("Months ending with the current one."),
    )


def _status_filter(request: HttpRequest) -> tuple[PipelineFilterForm, str | None, bool]:
    form = PipelineFilterForm(request.GET or None)
    if not form.is_bound:
        return form, None, True
    if not form.is_valid():
        return form, None, False
    return form, form.cleaned_data["status"] or None, True


class PipelineView(PermissionView):
    permission = Permission.VIEW_PIPELINE
    template_name = "projects/dashboards/pipeline.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form, status, valid = _status_filter(request)
        counts = status_counts()
        context = {
            "form": form,
            "counts": [(ProjectStatus(s), counts[s]) for s in PIPELINE_STATUSES],
            "total": sum(counts.values()),
            "selected": status,
        }
        if not valid:
            return TemplateResponse(
                request, self.template_name, {**context, "groups": None}, status=400
            )
        groups = [group for group in pipeline(status=status) if group.rows]
        return TemplateResponse(
            request,
            self.template_name,
            {
                **context,
                "groups": groups,
                "openable": _openable(request.user, groups),
                "sections": render_pipeline_sections(request),
                "querystring": f"status={status}" if status else "",
                "now": timezone.now(),
            },
        )


def _openable(user, groups) -> set[int]:
    """The pipeline's projects whose page the user may open: the others are listed without a
    link (the chair sees the whole pipeline, not every file)."""
    from projects.views import visible_projects

    if not has_permission(user, Permission.VIEW_PROJECT):
        return set()
    ids = {row.project_id for group in groups for row in group.rows}
    if has_role(user, Role.SECRETARIAT, Role.DPO):
        return ids  # they open every file: no query
    return {
        project.pk
        for project in visible_projects(user).filter(pk__in=ids)
        if has_permission(user, Permission.VIEW_PROJECT, project)
    }


CSV_COLUMNS = [
    "reference",
    "title",
    "lead",
    "status",
    "status_label",
    "entered_status_at",
    "working_days_in_status",
    "calendar_days_in_status",
] + [f"working_days_past_{status.value}" for status in LIFE_ORDER]


def _csv_rows(rows: list[PipelineRow]) -> Iterator[list]:
    yield CSV_COLUMNS
    for row in rows:
        yield [
            row.reference,
            row.title,
            row.lead,
            row.status,
            row.status_label,
            timezone.localtime(row.entered_at).isoformat() if row.entered_at else "",
            row.working_days,
            row.calendar_days,
        ] + [row.past_working_days(status) for status in LIFE_ORDER]


class PipelineExportView(PermissionView):
    permission = Permission.VIEW_PIPELINE

    def get(self, request: HttpRequest) -> HttpResponse:
        form, status, valid = _status_filter(request)
        if not valid:
            return HttpResponse(
                "\n".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        rows = [row for group in pipeline(status=status) for row in group.rows]
        # A file leaving the portal: traced like every export.
        record_event(
            action="pipeline.exported",
            actor=request.user,
            after={"status": status or "", "rows": len(rows)},
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        # Titles are typed by researchers: formula-looking ones are neutralised.
        return table_response(
            request,
            _csv_rows(rows),
            filename=f"pipeline-{stamp}",
            streaming=True,
            sheet_title="pipeline",
        )


class ProcessingStatsView(PermissionView):
    permission = Permission.VIEW_PIPELINE
    template_name = "projects/dashboards/statistics.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PeriodForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return TemplateResponse(
                request, self.template_name, {"form": form, "stats": None}, status=400
            )
        months = form.cleaned_data["months"] if form.is_bound else DEFAULT_MONTHS
        stats = processing_stats(months=months)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "form": form,
                "stats": stats,
                "chart": durations_chart(stats.decisions_by_month),
                "files_per_status": [
                    (ProjectStatus(s), n) for s, n in stats.files_per_status.items()
                ],
            },
        )
