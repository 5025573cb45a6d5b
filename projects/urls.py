from django.urls import path

from projects.lifecycle_views import LifecycleView
from projects.views import (
    AdmissibilityView,
    CancelAmendmentView,
    DraftPreviewView,
    InterestDeclarationView,
    OpenAmendmentView,
    ProjectCreateView,
    ProjectDetailView,
    ProjectListView,
    SectionEditView,
    SubmitView,
    VersionDetailView,
    VersionPdfView,
    WithdrawView,
)

urlpatterns = [
    path("", ProjectListView.as_view(), name="project_list"),
    path("new/", ProjectCreateView.as_view(), name="project_new"),
    path("<int:pk>/", ProjectDetailView.as_view(), name="project_detail"),
    path("<int:pk>/sections/<slug:key>/", SectionEditView.as_view(), name="project_section"),
    path("<int:pk>/submit/", SubmitView.as_view(), name="project_submit"),
    path("<int:pk>/withdraw/", WithdrawView.as_view(), name="project_withdraw"),
    path("<int:pk>/lifecycle/", LifecycleView.as_view(), name="project_lifecycle"),
    path("<int:pk>/amendment/", OpenAmendmentView.as_view(), name="project_amendment"),
    path(
        "<int:pk>/amendment/cancel/",
        CancelAmendmentView.as_view(),
        name="project_amendment_cancel",
    ),
    path("<int:pk>/interests/", InterestDeclarationView.as_view(), name="project_interests"),
    path("<int:pk>/admissibility/", AdmissibilityView.as_view(), name="project_admissibility"),
    path("<int:pk>/versions/<int:number>/", VersionDetailView.as_view(), name="project_version"),
    path(
        "<int:pk>/versions/<int:number>/protocol.pdf",
        VersionPdfView.as_view(),
        name="project_version_pdf",
    ),
    path("<int:pk>/preview/", DraftPreviewView.as_view(), name="project_preview"),
]

# Withdrawing a declared interest (projects/interest_views.py).
from projects.interest_views import InterestWithdrawalRequestView  # noqa: E402

urlpatterns += [
    path(
        "<int:pk>/interests/withdrawal/",
        InterestWithdrawalRequestView.as_view(),
        name="project_interest_withdrawal",
    ),
]

# Team (projects/team_views.py).
from projects.signup_views import InvitationSignupView  # noqa: E402
from projects.team_views import AcceptInvitationView, TeamView  # noqa: E402

urlpatterns += [
    path("<int:pk>/team/", TeamView.as_view(), name="project_team"),
    path(
        "invitations/<str:token>/", AcceptInvitationView.as_view(), name="project_invitation_accept"
    ),
    # The same link for an address with no account yet (projects/signup_views.py).
    path(
        "invitations/<str:token>/new-account/",
        InvitationSignupView.as_view(),
        name="invitation_signup",
    ),
]

# The DPO's access review (projects/access_review_views.py).
from projects.access_review_views import AccessReviewView  # noqa: E402

urlpatterns += [path("access-review/", AccessReviewView.as_view(), name="access_review")]

# Attachments (projects/attachment_views.py).
from projects.attachment_views import AttachmentDownloadView, AttachmentListView  # noqa: E402

urlpatterns += [
    path("<int:pk>/attachments/", AttachmentListView.as_view(), name="project_attachments"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/download/",
        AttachmentDownloadView.as_view(),
        name="project_attachment_download",
    ),
]

# Version comparison (projects/compare_views.py).
from projects.compare_views import VersionCompareView  # noqa: E402

urlpatterns += [
    path("<int:pk>/compare/", VersionCompareView.as_view(), name="project_compare"),
]
