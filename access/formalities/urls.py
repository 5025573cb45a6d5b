from django.urls import path

from access.formalities import views

urlpatterns = [
    path("formalities/", views.FormalitiesListView.as_view(), name="formalities_list"),
    path(
        "projects/<int:pk>/formalities/",
        views.ProjectFormalitiesView.as_view(),
        name="project_formalities",
    ),
    path("projects/<int:pk>/publish/", views.ProjectPublishView.as_view(), name="project_publish"),
]

from access.formalities import processing_views  # noqa: E402

urlpatterns += [
    path(
        "dpo/record-of-processing/",
        processing_views.ProcessingRecordView.as_view(),
        name="processing_record",
    ),
    path(
        "dpo/record-of-processing.csv",
        processing_views.ProcessingRecordCsvView.as_view(),
        name="processing_record_csv",
    ),
]
