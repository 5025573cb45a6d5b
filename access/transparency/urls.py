from django.urls import path

from access.transparency import views

urlpatterns = [
    path("transparency/", views.TransparencyHomeView.as_view(), name="transparency_home"),
    path("transparency/projects/", views.TransparencyListView.as_view(), name="transparency_list"),
    path(
        "transparency/projects.csv",
        views.TransparencyExportCsvView.as_view(),
        name="transparency_export_csv",
    ),
    path(
        "transparency/projects.json",
        views.TransparencyExportJsonView.as_view(),
        name="transparency_export_json",
    ),
    path("transparency/feed.atom", views.TransparencyFeedView.as_view(), name="transparency_feed"),
    path(
        "transparency/projects/<str:reference>/",
        views.TransparencyProjectView.as_view(),
        name="transparency_project",
    ),
    path(
        "transparency/projects/<str:reference>/information-note",
        views.InformationNoteView.as_view(),
        name="transparency_information_note",
    ),
]
