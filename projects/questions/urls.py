"""URLs of this package (mounted at the site root: paths here are complete)."""

from django.urls import path

from eds_portal.api.notifications import NotificationList, NotificationsMarkRead
from eds_portal.views.notifications import (
    NotificationBadgeView,
    NotificationListView,
    NotificationOpenView,
)
from projects.questions.api import QuestionAnswerCreate, QuestionListCreate
from projects.questions.views import AnswerView, QuestionThreadView

urlpatterns = [
    path("projects/<int:pk>/questions/", QuestionThreadView.as_view(), name="project_questions"),
    path(
        "projects/<int:pk>/questions/<int:question_id>/answer/",
        AnswerView.as_view(),
        name="project_question_answer",
    ),
    # The notifications of the signed-in user (eds_portal/views/notifications.py).
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("notifications/badge/", NotificationBadgeView.as_view(), name="notifications_badge"),
    path("notifications/<int:pk>/", NotificationOpenView.as_view(), name="notification_open"),
    # API.
    path(
        "api/v1/projects/<int:pk>/questions/",
        QuestionListCreate.as_view(),
        name="api_project_questions",
    ),
    path(
        "api/v1/projects/<int:pk>/questions/<int:question_id>/answers/",
        QuestionAnswerCreate.as_view(),
        name="api_project_question_answers",
    ),
    path("api/v1/notifications/", NotificationList.as_view(), name="api_notifications"),
    path(
        "api/v1/notifications/read/",
        NotificationsMarkRead.as_view(),
        name="api_notifications_read",
    ),
]
