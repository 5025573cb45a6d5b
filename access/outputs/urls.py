from django.urls import path

from access.outputs import api, views

urlpatterns = [
    path("projects/<int:pk>/outputs/", views.ProjectOutputsView.as_view(), name="project_outputs"),
    path("projects/<int:pk>/closeout/", views.ClosingReportView.as_view(), name="project_closeout"),
    path("outputs/requests/<int:pk>/", views.OutputRequestView.as_view(), name="output_request"),
    path("outputs/checking/", views.CheckerQueueView.as_view(), name="output_queue"),
    path("outputs/checkers/", views.OutputCheckersView.as_view(), name="output_checkers"),
    path("outputs/checking/<int:pk>/", views.OutputCheckView.as_view(), name="output_check"),
    path(
        "outputs/versions/<int:pk>/file/",
        views.CheckerFileView.as_view(),
        name="output_checker_file",
    ),
    # The API.
    path(
        "api/v1/projects/<int:pk>/output-requests/",
        api.ProjectOutputRequests.as_view(),
        name="api_project_output_requests",
    ),
    path(
        "api/v1/output-requests/<int:pk>/",
        api.OutputRequestDetail.as_view(),
        name="api_output_request",
    ),
    path(
        "api/v1/output-requests/<int:pk>/submit/",
        api.SubmitOutputRequest.as_view(),
        name="api_output_request_submit",
    ),
    path("api/v1/output-checks/<int:pk>/", api.OutputCheck.as_view(), name="api_output_check"),
    path(
        "api/v1/projects/<int:pk>/closeout/",
        api.ProjectCloseout.as_view(),
        name="api_project_closeout",
    ),
    path("api/v1/closeout/due/", api.DueForCloseoutList.as_view(), name="api_closeout_due"),
    path("api/v1/output-checkers/", api.OutputCheckers.as_view(), name="api_output_checkers"),
    path(
        "api/v1/output-checkers/<int:pk>/",
        api.OutputCheckerDetail.as_view(),
        name="api_output_checker",
    ),
    path(
        "outputs/<int:pk>/download/",
        views.ReleasedOutputDownloadView.as_view(),
        name="output_download",
    ),
]
