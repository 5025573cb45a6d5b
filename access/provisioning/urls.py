from django.urls import path

from access.provisioning import views

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
        "provisioning/runs/<int:pk>/cancel/",
        views.CancelRunView.as_view(),
        name="provisioning_run_cancel",
    ),
    path(
        "provisioning/download/<str:token>/",
        views.DownloadView.as_view(),
        name="provisioning_download",
    ),
]
