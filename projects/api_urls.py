from django.urls import path

from projects.api import (
    ProjectDetail,
    ProjectListCreate,
    SectionDetail,
    SubmitProject,
    VersionDetail,
    VersionList,
    WithdrawProject,
)

urlpatterns = [
    path("", ProjectListCreate.as_view(), name="api_projects"),
    path("<int:pk>/", ProjectDetail.as_view(), name="api_project"),
    path("<int:pk>/sections/<slug:key>/", SectionDetail.as_view(), name="api_project_section"),
    path("<int:pk>/submit/", SubmitProject.as_view(), name="api_project_submit"),
    path("<int:pk>/withdraw/", WithdrawProject.as_view(), name="api_project_withdraw"),
    path("<int:pk>/versions/", VersionList.as_view(), name="api_project_versions"),
    path("<int:pk>/versions/<int:number>/", VersionDetail.as_view(), name="api_project_version"),
]
