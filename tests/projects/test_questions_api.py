"""The questions thread over the API: the same rules as the page."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.actions import declare_interest
from projects.models import ProjectStatus, Question, TeamMembership, TeamRole
from projects.questions.actions import ask_question
from tests.conftest import login
from tests.projects.helpers import make_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def in_review(researcher, secretariat):
    return make_in_review(researcher, secretariat)


@pytest.fixture
def reader(commission_member, in_review):
    declare_interest(project=in_review, by=commission_member, has_interest=False)
    return commission_member


def questions_url(project) -> str:
    return f"/api/v1/projects/{project.pk}/questions/"


def answers_url(project, question) -> str:
    return f"/api/v1/projects/{project.pk}/questions/{question.pk}/answers/"


def test_a_member_asks_and_the_lead_answers_through_the_api(
    reader, researcher, in_review, settings
):
    settings.LANGUAGE_CODE = "en"  # the assertions read the English msgids
    member = login(APIClient(), reader)
    asked = member.post(questions_url(in_review), {"body": "Pourquoi 24 mois ?"}, format="json")
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["author"] == reader.full_name  # the commission sees the author
    assert body["hidden_from_team"] is True
    assert body["open"] is True
    assert body["version"] == 1
    assert AuditEvent.objects.filter(action="question.asked", actor=reader).exists()

    # A researcher's script, with a token.
    token = Token.objects.create(user=researcher)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    listed = script.get(questions_url(in_review)).json()
    assert [q["author"] for q in listed] == ["The commission"]
    assert reader.full_name not in str(listed)
    question = Question.objects.get()
    answered = script.post(
        answers_url(in_review, question), {"body": "Durée de l'étude."}, format="json"
    )
    assert answered.status_code == 201, answered.content
    assert answered.json()["open"] is False
    assert answered.json()["answers"][0]["author"] == researcher.full_name
    assert AuditEvent.objects.filter(action="question.answered", actor=researcher).exists()


def test_a_signed_question_shows_its_author_to_the_team(reader, researcher, in_review):
    ask_question(project=in_review, by=reader, body="Signée", show_author=True)
    listed = login(APIClient(), researcher).get(questions_url(in_review)).json()
    assert listed[0]["author"] == reader.full_name
    assert listed[0]["hidden_from_team"] is False


def test_bad_input_and_closed_review(reader, in_review):
    member = login(APIClient(), reader)
    assert member.post(questions_url(in_review), {"body": ""}, format="json").status_code == 400
    long = member.post(questions_url(in_review), {"body": "x" * 5001}, format="json")
    assert long.status_code == 400
    in_review.__class__.objects.filter(pk=in_review.pk).update(status=ProjectStatus.APPROVED)
    late = member.post(questions_url(in_review), {"body": "Trop tard"}, format="json")
    assert late.status_code == 409
    assert late.json()["reasons"]
    assert not Question.objects.exists()


def test_who_is_refused(reader, researcher, make_user, outsider, in_review):
    question = ask_question(project=in_review, by=reader, body="?")
    analyst = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=in_review, user=analyst, role=TeamRole.ANALYST)
    conflicted = make_user(Role.COMMISSION_MEMBER)
    declare_interest(project=in_review, by=conflicted, has_interest=True, description="Lien.")
    undeclared = make_user(Role.COMMISSION_MEMBER)
    stranger = make_user(Role.RESEARCHER)

    # The analyst reads the thread but does not answer.
    as_analyst = login(APIClient(), analyst)
    assert as_analyst.get(questions_url(in_review)).status_code == 200
    assert (
        as_analyst.post(answers_url(in_review, question), {"body": "x"}, format="json").status_code
        == 403
    )
    # The team does not ask.
    as_lead = login(APIClient(), researcher)
    assert as_lead.post(questions_url(in_review), {"body": "x"}, format="json").status_code == 403
    # Those who may not know the file: 404 (outsider: no role, refused outright).
    for user in (conflicted, undeclared, stranger):
        api = login(APIClient(), user)
        assert api.get(questions_url(in_review)).status_code == 404
        assert api.post(questions_url(in_review), {"body": "x"}, format="json").status_code == 404
    assert login(APIClient(), outsider).get(questions_url(in_review)).status_code == 403
    assert APIClient().get(questions_url(in_review)).status_code in (401, 403)
    # Staff do not answer.
    as_member = login(APIClient(), reader)
    assert (
        as_member.post(answers_url(in_review, question), {"body": "x"}, format="json").status_code
        == 403
    )
    assert Question.objects.count() == 1


def test_an_unknown_question_is_404(researcher, in_review):
    api = login(APIClient(), researcher)
    response = api.post(
        f"/api/v1/projects/{in_review.pk}/questions/999999/answers/", {"body": "x"}, format="json"
    )
    assert response.status_code == 404
