from django.urls import path

from access.provisioning import api, propagation_views, views

urlpatterns = [
    path("provisioning/", views.ProvisioningListView.as_view(), name="provisioning_list"),
    path(
        "projects/<int:pk>/provisioning/",
        views.ProjectRunsView.as_view(),
        name="provisioning_project",
    ),
    path(
        "projects/<int:pk>/provisioning/start/",
        views.StartRunView.as_view(),
        name="provisioning_start",
    ),
    path(
        "projects/<int:pk>/provisioning/rotate-key/",
        views.RotateKeyView.as_view(),
        name="provisioning_rotate_key",
    ),
    path("provisioning/runs/<int:pk>/", views.RunDetailView.as_view(), name="provisioning_run"),
    path(
        "provisioning/runs/<int:pk>/progress/",
        views.RunProgressView.as_view(),
        name="provisioning_run_progress",
    ),
    path(
        "provisioning/runs/<int:pk>/text-review/",
        views.TextReviewView.as_view(),
        name="provisioning_text_review",
    ),
    path(
        "provisioning/runs/<int:pk>/cancel/",
        views.CancelRunView.as_view(),
        name="provisioning_run_cancel",
    ),
    path(
        "provisioning/runs/<int:pk>/download-tokens/",
        views.CreateDownloadTokenView.as_view(),
        name="provisioning_download_token_create",
    ),
    path(
        "provisioning/runs/<int:pk>/download-tokens/<int:token>/revoke/",
        views.RevokeDownloadTokenView.as_view(),
        name="provisioning_download_token_revoke",
    ),
    path(
        "provisioning/download/<str:token>/",
        views.DownloadView.as_view(),
        name="provisioning_download",
    ),
    # OPP-11: objections that reach datasets already delivered.
    path(
        "provisioning/propagations/",
        propagation_views.PropagationListView.as_view(),
        name="provisioning_propagations",
    ),
    path(
        "provisioning/propagations/<int:pk>/",
        propagation_views.PropagationDetailView.as_view(),
        name="provisioning_propagation",
    ),
    path(
        "provisioning/propagations/<int:pk>/confirm/",
        propagation_views.ConfirmDeletionView.as_view(),
        name="provisioning_propagation_confirm",
    ),
    path(
        "provisioning/propagations/<int:pk>/exception/",
        propagation_views.RecordExceptionView.as_view(),
        name="provisioning_propagation_exception",
    ),
    # The API: runs of a project, start, detail with progress, cancel, files.
    path("api/v1/projects/<int:pk>/runs/", api.ProjectRuns.as_view(), name="api_project_runs"),
    path("api/v1/runs/<int:pk>/", api.RunDetail.as_view(), name="api_run"),
    path("api/v1/runs/<int:pk>/cancel/", api.CancelRun.as_view(), name="api_run_cancel"),
    path("api/v1/runs/<int:pk>/files/", api.RunFiles.as_view(), name="api_run_files"),
    path("api/v1/runs/<int:pk>/files/<str:name>", api.RunFile.as_view(), name="api_run_file"),
    path(
        "api/v1/runs/<int:pk>/download-tokens/",
        api.DownloadTokens.as_view(),
        name="api_run_download_tokens",
    ),
]
