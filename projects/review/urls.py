"""URLs of this package (mounted at the site root: paths here are complete)."""

from django.urls import path

from projects.review import api, expert_views, views

urlpatterns = [
    path(
        "projects/<int:pk>/rapporteurs/",
        views.RapporteursView.as_view(),
        name="review_rapporteurs",
    ),
    path(
        "projects/<int:pk>/rapporteurs/<int:assignment_id>/remove/",
        views.RapporteurRemoveView.as_view(),
        name="review_rapporteur_remove",
    ),
    path(
        "projects/<int:pk>/rapporteurs/<int:assignment_id>/due-date/",
        views.RapporteurDueDateView.as_view(),
        name="review_rapporteur_due_date",
    ),
    path("projects/<int:pk>/review/", views.MyReviewView.as_view(), name="review_mine"),
    # External experts (a per-object grant on one file): the secretariat's page, the link.
    path("projects/<int:pk>/experts/", expert_views.ExpertsView.as_view(), name="review_experts"),
    path(
        "experts/invitations/<str:token>/",
        expert_views.ExpertInvitationView.as_view(),
        name="expert_invitation",
    ),
    path("projects/<int:pk>/reviews/", views.ReviewListView.as_view(), name="review_list"),
    path(
        "commission/my-files/",
        views.CommissionDashboardView.as_view(),
        name="commission_dashboard",
    ),
    # API
    path(
        "api/v1/projects/<int:pk>/rapporteurs/",
        api.RapporteurListCreate.as_view(),
        name="api_review_rapporteurs",
    ),
    path(
        "api/v1/projects/<int:pk>/rapporteurs/<int:assignment_id>/",
        api.RapporteurDetail.as_view(),
        name="api_review_rapporteur",
    ),
    path("api/v1/projects/<int:pk>/review/", api.MyReview.as_view(), name="api_review_mine"),
    path(
        "api/v1/projects/<int:pk>/review/submit/",
        api.SubmitMyReview.as_view(),
        name="api_review_submit",
    ),
    path("api/v1/projects/<int:pk>/reviews/", api.ReviewList.as_view(), name="api_review_list"),
    path(
        "api/v1/projects/<int:pk>/interests/",
        api.InterestDeclaration.as_view(),
        name="api_review_interests",
    ),
]

# Withdrawing a declared interest: the member asks, the secretariat answers (GOV-10).
from projects import interest_api, interest_views  # noqa: E402

urlpatterns += [
    path(
        "commission/interest-withdrawals/",
        interest_views.InterestWithdrawalListView.as_view(),
        name="interest_withdrawals",
    ),
    path(
        "commission/interest-withdrawals/<int:withdrawal_id>/answer/",
        interest_views.InterestWithdrawalAnswerView.as_view(),
        name="interest_withdrawal_answer",
    ),
    path(
        "api/v1/projects/<int:pk>/interests/withdrawal/",
        interest_api.MyInterestWithdrawal.as_view(),
        name="api_interest_withdrawal",
    ),
    path(
        "api/v1/commission/interest-withdrawals/",
        interest_api.InterestWithdrawalList.as_view(),
        name="api_interest_withdrawals",
    ),
    path(
        "api/v1/commission/interest-withdrawals/<int:withdrawal_id>/answer/",
        interest_api.InterestWithdrawalAnswer.as_view(),
        name="api_interest_withdrawal_answer",
    ),
]
