"""URLs of this package (mounted at the site root: paths here are complete)."""

from django.urls import path

from projects.dashboards.api import CommissionPipeline, CommissionStatistics
from projects.dashboards.views import PipelineExportView, PipelineView, ProcessingStatsView

urlpatterns = [
    path("commission/pipeline/", PipelineView.as_view(), name="pipeline"),
    path("commission/pipeline/export.csv", PipelineExportView.as_view(), name="pipeline_export"),
    path("commission/statistics/", ProcessingStatsView.as_view(), name="processing_stats"),
    path(
        "api/v1/commission/pipeline/",
        CommissionPipeline.as_view(),
        name="api_commission_pipeline",
    ),
    path(
        "api/v1/commission/statistics/",
        CommissionStatistics.as_view(),
        name="api_commission_statistics",
    ),
]
