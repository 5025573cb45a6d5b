"""URLs of this package (mounted at the site root: paths here are complete)."""

from django.urls import path

from projects.questions.api import QuestionAnswerCreate, QuestionListCreate
from projects.questions.views import AnswerView, QuestionThreadView

urlpatterns = [
    path("projects/<int:pk>/questions/", QuestionThreadView.as_view(), name="project_questions"),
    path(
        "projects/<int:pk>/questions/<int:question_id>/answer/",
        AnswerView.as_view(),
        name="project_question_answer",
    ),
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
]
