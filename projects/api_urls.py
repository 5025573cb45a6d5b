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
from projects.attachment_api import AttachmentDetail, AttachmentDownload, AttachmentListCreate
from projects.compare_api import VersionCompare
from projects.team_api import InvitationCreate, InvitationDetail, MemberDetail, TeamDetail

urlpatterns = [
    path("", ProjectListCreate.as_view(), name="api_projects"),
    path("<int:pk>/", ProjectDetail.as_view(), name="api_project"),
    path("<int:pk>/sections/<slug:key>/", SectionDetail.as_view(), name="api_project_section"),
    path("<int:pk>/submit/", SubmitProject.as_view(), name="api_project_submit"),
    path("<int:pk>/withdraw/", WithdrawProject.as_view(), name="api_project_withdraw"),
    path("<int:pk>/versions/", VersionList.as_view(), name="api_project_versions"),
    path("<int:pk>/versions/<int:number>/", VersionDetail.as_view(), name="api_project_version"),
    path(
        "<int:pk>/versions/compare/", VersionCompare.as_view(), name="api_project_versions_compare"
    ),
    # Team: accepting an invitation stays in the browser (it needs the e-mailed link).
    path("<int:pk>/team/", TeamDetail.as_view(), name="api_project_team"),
    path(
        "<int:pk>/team/invitations/",
        InvitationCreate.as_view(),
        name="api_project_team_invitations",
    ),
    path(
        "<int:pk>/team/invitations/<int:invitation_id>/",
        InvitationDetail.as_view(),
        name="api_project_team_invitation",
    ),
    path(
        "<int:pk>/team/members/<int:membership_id>/",
        MemberDetail.as_view(),
        name="api_project_team_member",
    ),
    # Attachments of the draft.
    path("<int:pk>/attachments/", AttachmentListCreate.as_view(), name="api_project_attachments"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        AttachmentDetail.as_view(),
        name="api_project_attachment",
    ),
    path(
        "<int:pk>/attachments/<int:attachment_id>/download/",
        AttachmentDownload.as_view(),
        name="api_project_attachment_download",
    ),
]
