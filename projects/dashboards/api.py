"""The pipeline and the processing-time statistics as JSON, for the data office's reporting."""

from __future__ import annotations

from django.urls import reverse as django_reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.authz import Permission
from projects.dashboards.selectors import (
    PIPELINE_STATUSES,
    PipelineRow,
    pipeline,
    processing_stats,
)
from projects.models import ProjectStatus

PIPELINE_CHOICES = [(status.value, status.label) for status in PIPELINE_STATUSES]


class PipelineQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=PIPELINE_CHOICES, required=False, help_text="Only the files in this status."
    )


class StatusCountSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()


class PastStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    label = serializers.CharField()
    working_days = serializers.IntegerField(help_text="Summed over every stay in that status.")


class PipelineRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    lead = serializers.CharField(help_text="Full name of the project lead.")
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    status_label = serializers.CharField()
    entered_status_at = serializers.DateTimeField(
        allow_null=True, help_text="Null when the audit trail does not say."
    )
    working_days_in_status = serializers.IntegerField(allow_null=True)
    calendar_days_in_status = serializers.IntegerField(allow_null=True)
    past_statuses = PastStatusSerializer(many=True)
    page = serializers.URLField(help_text="The project's page in the portal.")


class PipelineSerializer(serializers.Serializer):
    statuses = StatusCountSerializer(
        many=True, help_text="Files per status, in the order of the protocol's life."
    )
    projects = PipelineRowSerializer(
        many=True, help_text="Grouped by status, longest in its status first."
    )


class CommissionPipeline(APIView):
    """Submitted files by status, with the working days spent in each status."""

    required_permission = Permission.VIEW_PIPELINE

    def _row(self, request, row: PipelineRow) -> dict:
        return {
            "id": row.project_id,
            "reference": row.reference,
            "title": row.title,
            "lead": row.lead,
            "status": row.status,
            "status_label": row.status_label,
            "entered_status_at": row.entered_at,
            "working_days_in_status": row.working_days,
            "calendar_days_in_status": row.calendar_days,
            "past_statuses": [
                {"status": p.status, "label": p.label, "working_days": p.working_days}
                for p in row.past
            ],
            "page": request.build_absolute_uri(
                django_reverse("project_detail", args=[row.project_id])
            ),
        }

    @extend_schema(
        parameters=[PipelineQuerySerializer],
        responses=PipelineSerializer,
        summary="The secretariat's pipeline",
    )
    def get(self, request):
        query = PipelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        groups = pipeline(status=query.validated_data.get("status"))
        data = {
            "statuses": [
                {"status": group.status, "label": group.label, "count": group.count}
                for group in groups
            ],
            "projects": [self._row(request, row) for group in groups for row in group.rows],
        }
        return Response(PipelineSerializer(data).data)


class StatsQuerySerializer(serializers.Serializer):
    months = serializers.ChoiceField(
        choices=[6, 12, 24, 36],
        required=False,
        default=12,
        help_text="Months ending with the current one.",
    )


class DurationsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    median_calendar_days = serializers.FloatField(allow_null=True)
    median_working_days = serializers.FloatField(allow_null=True)


class MonthDurationsSerializer(DurationsSerializer):
    month = serializers.CharField(help_text="YYYY-MM, in Paris time.")


class ProcessingStatsSerializer(serializers.Serializer):
    first_month = serializers.CharField(help_text="YYYY-MM")
    last_month = serializers.CharField(help_text="YYYY-MM")
    decisions_by_month = MonthDurationsSerializer(
        many=True,
        help_text="From the first submission to the first decision (corrections excluded), by "
        "month of the decision; months without a decision have a count of 0 and null medians.",
    )
    decisions = DurationsSerializer(help_text="The same over the whole period.")
    admissibility = DurationsSerializer(
        help_text="From the first submission to the first acceptance for review."
    )
    files_per_status = StatusCountSerializer(many=True)


def _durations(value) -> dict:
    return {
        "count": value.count,
        "median_calendar_days": value.median_calendar_days,
        "median_working_days": value.median_working_days,
    }


class CommissionStatistics(APIView):
    """Processing times of the data office and the commission."""

    required_permission = Permission.VIEW_PIPELINE

    @extend_schema(
        parameters=[StatsQuerySerializer],
        responses=ProcessingStatsSerializer,
        summary="Processing-time statistics",
    )
    def get(self, request):
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stats = processing_stats(months=int(query.validated_data["months"]))
        data = {
            "first_month": stats.first_month.strftime("%Y-%m"),
            "last_month": stats.last_month.strftime("%Y-%m"),
            "decisions_by_month": [
                {"month": m.month.strftime("%Y-%m"), **_durations(m)}
                for m in stats.decisions_by_month
            ],
            "decisions": _durations(stats.decisions),
            "admissibility": _durations(stats.admissibility),
            "files_per_status": [
                {"status": s, "label": str(ProjectStatus(s).label), "count": n}
                for s, n in stats.files_per_status.items()
            ],
        }
        return Response(ProcessingStatsSerializer(data).data)
