"""The questions thread between the commission and the team."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects.actions import create_project, declare_interest
from projects.models import (
    ProjectStatus,
    Question,
    RapporteurAssignment,
    TeamMembership,
    TeamRole,
)
from projects.questions.actions import (
    MAX_MESSAGE_LENGTH,
    QuestionRefused,
    answer_question,
    ask_question,
)
from tests.conftest import login
from tests.projects.helpers import make_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def in_review(researcher, secretariat):
    return make_in_review(researcher, secretariat)


@pytest.fixture
def reader(commission_member, in_review):
    """A commission member who declared no interest: may read the file and ask."""
    declare_interest(project=in_review, by=commission_member, has_interest=False)
    return commission_member


@pytest.fixture
def co_investigator(make_user, in_review):
    user = make_user(Role.RESEARCHER, full_name="Colette Co")
    TeamMembership.objects.create(project=in_review, user=user, role=TeamRole.CO_INVESTIGATOR)
    return user


@pytest.fixture
def analyst(make_user, in_review):
    user = make_user(Role.RESEARCHER, full_name="Anna Analyst")
    TeamMembership.objects.create(project=in_review, user=user, role=TeamRole.ANALYST)
    return user


def url(project) -> str:
    return f"/projects/{project.pk}/questions/"


def answer_url(project, question) -> str:
    return f"/projects/{project.pk}/questions/{question.pk}/answer/"


# --- Asking -------------------------------------------------------------------------------------


def test_a_member_who_may_read_the_file_asks_and_the_team_is_told(
    client,
    reader,
    researcher,
    co_investigator,
    analyst,
    in_review,
    django_capture_on_commit_callbacks,
):
    login(client, reader)
    page = client.get(url(in_review), **EN)
    assert page.status_code == 200
    assert 'name="body"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(in_review), {"body": "Quelle est la période exacte ?"})
    assert response.status_code == 302
    question = Question.objects.get()
    assert response.url == f"{url(in_review)}#question-{question.pk}"
    assert question.author == reader
    assert question.from_commission
    assert not question.show_author
    assert question.version.number == 1
    event = AuditEvent.objects.get(action="question.asked")
    assert event.actor == reader
    assert event.after == {"question": question.pk, "version": 1, "signed": False}
    assert "période" not in str(event.after)  # the trail says that, not what
    told = {n.recipient for n in Notification.objects.all()}
    assert told == {researcher, co_investigator, analyst}
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        [researcher.email, co_investigator.email, analyst.email]
    )
    assert all("période" not in m.body for m in mail.outbox)  # the text stays in the portal
    assert all(reader.full_name not in m.body for m in mail.outbox)
    assert all(url(in_review) in m.body for m in mail.outbox)


def test_the_secretariat_asks_too(client, secretariat, in_review):
    login(client, secretariat)
    response = client.post(url(in_review), {"body": "Merci de joindre le CV.", "show_author": "on"})
    assert response.status_code == 302
    assert Question.objects.get().show_author is True


def test_the_team_reads_the_commission_unless_the_author_signed(
    client, reader, researcher, secretariat, in_review
):
    ask_question(project=in_review, by=reader, body="Question anonyme")
    ask_question(project=in_review, by=secretariat, body="Question signée", show_author=True)
    login(client, researcher)
    html = client.get(url(in_review), **EN).content.decode()
    assert "Asked by: The commission" in html
    assert reader.full_name not in html
    assert f"Asked by: {secretariat.full_name}" in html
    # The commission and the secretariat always see who asked.
    for staff in (reader, secretariat):
        login(client, staff)
        html = client.get(url(in_review), **EN).content.decode()
        assert f"Asked by: {reader.full_name}" in html
        assert "the team reads “The commission”" in html


@pytest.mark.parametrize(
    ("body", "error"),
    [("   ", "This field is required."), ("x" * (MAX_MESSAGE_LENGTH + 1), "at most")],
)
def test_a_bad_question_is_refused_and_what_was_typed_is_kept(
    client, reader, in_review, body, error
):
    login(client, reader)
    response = client.post(url(in_review), {"body": body, "show_author": "on"}, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    if body.strip():
        assert body in html
    assert 'name="show_author"' in html
    assert re.search(r'<input type="checkbox" name="show_author"[^>]*checked', html)
    assert not Question.objects.exists()


def test_messages_are_plain_text_escaped_with_their_line_breaks(
    client, reader, researcher, in_review
):
    ask_question(project=in_review, by=reader, body="<script>alert(1)</script>\nDeuxième ligne")
    login(client, researcher)
    html = client.get(url(in_review)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nDeuxième ligne" in html
    assert 'class="pre-line"' in html


def test_questions_are_closed_outside_the_review(
    client, reader, researcher, secretariat, in_review
):
    in_review.__class__.objects.filter(pk=in_review.pk).update(status=ProjectStatus.APPROVED)
    login(client, reader)
    response = client.post(url(in_review), {"body": "Trop tard ?"}, **EN)
    assert response.status_code == 400
    assert "Questions are possible only while the commission reviews the file" in (
        response.content.decode()
    )
    assert not Question.objects.exists()
    draft = create_project(by=researcher, title="Brouillon")
    with pytest.raises(QuestionRefused):
        ask_question(project=draft, by=secretariat, body="?")


def test_htmx_posting_swaps_the_thread(client, reader, in_review):
    login(client, reader)
    response = client.post(url(in_review), {"body": "Par htmx"}, HTTP_HX_REQUEST="true", **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="questions-thread"' in html
    assert "Question sent; the team has been told." in html
    assert "Par htmx" in html
    invalid = client.post(url(in_review), {"body": ""}, HTTP_HX_REQUEST="true", **EN)
    assert invalid.status_code == 400  # swapped by the site's htmx config
    assert "This field is required." in invalid.content.decode()


# --- Answering ----------------------------------------------------------------------------------


def test_the_lead_answers_and_the_author_rapporteurs_and_secretariat_are_told(
    client,
    reader,
    rapporteur,
    make_user,
    researcher,
    secretariat,
    co_investigator,
    in_review,
    django_capture_on_commit_callbacks,
):
    declare_interest(project=in_review, by=rapporteur, has_interest=False)
    former = make_user(Role.COMMISSION_MEMBER, full_name="Fred Former")
    declare_interest(project=in_review, by=former, has_interest=False)
    due = timezone.localdate()
    RapporteurAssignment.objects.create(
        project=in_review, member=rapporteur, due_date=due, assigned_by=secretariat
    )
    RapporteurAssignment.objects.create(
        project=in_review,
        member=former,
        due_date=due,
        assigned_by=secretariat,
        removed_at=timezone.now(),
        removed_by=secretariat,
    )
    question = ask_question(project=in_review, by=reader, body="Pourquoi 2 ans ?")
    Notification.objects.all().delete()
    login(client, researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            answer_url(in_review, question),
            {f"answer-{question.pk}-body": "Parce que la bronchiolite\nconcerne les nourrissons."},
        )
    assert response.status_code == 302
    answer = Question.objects.get(answers=question)
    assert answer.author == researcher
    assert not answer.from_commission
    event = AuditEvent.objects.get(action="question.answered")
    assert event.after == {"question": question.pk, "answer": answer.pk, "version": 1}
    told = {n.recipient for n in Notification.objects.all()}
    assert told == {reader, rapporteur, secretariat}
    assert {address for m in mail.outbox for address in m.to} == {
        reader.email,
        rapporteur.email,
        secretariat.email,
    }
    assert all("nourrissons" not in m.body for m in mail.outbox)
    login(client, reader)
    html = client.get(url(in_review), **EN).content.decode()
    assert f"Answer of {researcher.full_name}" in html
    assert "la bronchiolite\nconcerne" in html


def test_a_co_investigator_answers(client, reader, co_investigator, in_review):
    question = ask_question(project=in_review, by=reader, body="?")
    login(client, co_investigator)
    response = client.post(answer_url(in_review, question), {f"answer-{question.pk}-body": "!"})
    assert response.status_code == 302
    assert Question.objects.filter(answers=question, author=co_investigator).exists()


def test_an_empty_answer_is_refused(client, reader, researcher, in_review):
    question = ask_question(project=in_review, by=reader, body="?")
    login(client, researcher)
    response = client.post(answer_url(in_review, question), {f"answer-{question.pk}-body": " "})
    assert response.status_code == 400
    assert not Question.objects.filter(answers=question).exists()


def test_an_answer_cannot_be_answered_and_another_projects_question_is_unknown(
    client, reader, researcher, secretariat, in_review
):
    question = ask_question(project=in_review, by=reader, body="?")
    answer = answer_question(question=question, by=researcher, body="!")
    login(client, researcher)
    assert (
        client.post(answer_url(in_review, answer), {f"answer-{answer.pk}-body": "x"}).status_code
        == 404
    )
    other = make_in_review(researcher, secretariat, title="Autre")
    assert (
        client.post(answer_url(other, question), {f"answer-{question.pk}-body": "x"}).status_code
        == 404
    )
    with pytest.raises(QuestionRefused):
        answer_question(question=answer, by=researcher, body="x")


def test_the_analyst_reads_the_thread_but_does_not_answer(client, reader, analyst, in_review):
    question = ask_question(project=in_review, by=reader, body="Question pour l'équipe")
    login(client, analyst)
    page = client.get(url(in_review), **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Question pour l" in html
    assert "Send the answer" not in html
    response = client.post(answer_url(in_review, question), {f"answer-{question.pk}-body": "x"})
    assert response.status_code == 403
    with pytest.raises(QuestionRefused):
        answer_question(question=question, by=analyst, body="x")
    assert not Question.objects.filter(answers=question).exists()


# --- Who is refused -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page(client, reader, in_review):
    question = ask_question(project=in_review, by=reader, body="?")
    for target in (url(in_review), answer_url(in_review, question)):
        response = client.post(target, {"body": "x"})
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    assert client.get(url(in_review)).url.startswith("/accounts/login/")
    assert Question.objects.count() == 1


@pytest.mark.parametrize("who", ["outsider", "stranger", "undeclared", "conflicted"])
def test_those_who_may_not_know_the_file_get_404(
    client, who, outsider, make_user, commission_member, reader, in_review
):
    question = ask_question(project=in_review, by=reader, body="Secret du dossier")
    if who == "outsider":
        user = outsider
    elif who == "stranger":
        user = make_user(Role.RESEARCHER)  # a researcher of another team
    elif who == "undeclared":
        user = make_user(Role.COMMISSION_MEMBER)
    else:
        user = make_user(Role.COMMISSION_MEMBER)
        declare_interest(
            project=in_review, by=user, has_interest=True, description="Co-auteur du porteur."
        )
    login(client, user)
    assert client.get(url(in_review)).status_code == 404
    assert client.post(url(in_review), {"body": "x"}).status_code == 404
    answer = client.post(answer_url(in_review, question), {f"answer-{question.pk}-body": "x"})
    assert answer.status_code in (403, 404)
    assert Question.objects.count() == 1
    with pytest.raises(QuestionRefused):
        ask_question(project=in_review, by=user, body="x")


def test_a_team_member_on_the_commission_does_not_ask(client, make_user, in_review):
    colleague = make_user(Role.RESEARCHER, Role.COMMISSION_MEMBER)
    TeamMembership.objects.create(project=in_review, user=colleague, role=TeamRole.CO_INVESTIGATOR)
    login(client, colleague)
    assert client.get(url(in_review)).status_code == 200  # as a member of the team
    assert client.post(url(in_review), {"body": "x"}).status_code == 403
    assert not Question.objects.exists()


@pytest.mark.parametrize("persona", ["researcher", "dpo"], indirect=True)
def test_the_team_and_the_dpo_do_not_ask(client, persona, in_review):
    login(client, persona)
    assert client.get(url(in_review)).status_code == 200
    assert client.post(url(in_review), {"body": "x"}).status_code == 403
    assert not Question.objects.exists()


@pytest.mark.parametrize("persona", ["secretariat", "commission_member", "dpo"], indirect=True)
def test_staff_do_not_answer(client, persona, reader, in_review):
    question = ask_question(project=in_review, by=reader, body="?")
    if persona.roles & {Role.COMMISSION_MEMBER} and persona != reader:
        declare_interest(project=in_review, by=persona, has_interest=False)
    login(client, persona)
    response = client.post(answer_url(in_review, question), {f"answer-{question.pk}-body": "x"})
    assert response.status_code in (403, 404)
    assert not Question.objects.filter(answers=question).exists()


# --- The project page, the researcher's home, query counts ---------------------------------------


def test_open_questions_are_flagged_on_the_project_page_and_the_home(
    client, reader, researcher, in_review
):
    first = ask_question(project=in_review, by=reader, body="Un ?")
    ask_question(project=in_review, by=reader, body="Deux ?")
    login(client, researcher)
    page = client.get(f"/projects/{in_review.pk}/", **EN).content.decode()
    assert "2 questions await your answer." in page
    assert f'href="{url(in_review)}"' in page
    home = client.get("/", **EN).content.decode()
    assert "2 questions await your answer" in home
    assert f'href="{url(in_review)}"' in home
    answer_question(question=first, by=researcher, body="Réponse")
    page = client.get(f"/projects/{in_review.pk}/", **EN).content.decode()
    assert "1 question awaits your answer." in page
    answer_question(question=Question.objects.get(body="Deux ?"), by=researcher, body="R")
    home = client.get("/", **EN).content.decode()
    assert "No question of the commission awaits your answer." in home


def test_changes_requested_links_to_the_draft_and_the_submission(
    client, reader, researcher, in_review
):
    ask_question(project=in_review, by=reader, body="Revoir la population.")
    in_review.__class__.objects.filter(pk=in_review.pk).update(
        status=ProjectStatus.CHANGES_REQUESTED
    )
    login(client, researcher)
    html = client.get(url(in_review), **EN).content.decode()
    assert "Your answers do not change the protocol" in html
    assert f'href="/projects/{in_review.pk}/submit/"' in html
    assert "Send the answer" in html  # answering stays possible while changes are requested


def test_the_thread_page_query_count_is_pinned(
    client, reader, researcher, in_review, django_assert_num_queries
):
    for i in range(3):
        question = ask_question(project=in_review, by=reader, body=f"Question {i}")
        answer_question(question=question, by=researcher, body=f"Réponse {i}")
    login(client, researcher)
    client.get(url(in_review))

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(in_review)).status_code == 200
        return len(queries)

    three = count()
    for i in range(3, 9):
        question = ask_question(project=in_review, by=reader, body=f"Question {i}")
        answer_question(question=question, by=researcher, body=f"Réponse {i}")
    assert count() == three  # the same for 9 questions as for 3
    # Session, user, roles, the project, its memberships (rights), the questions, their
    # answers, session save (3).
    with django_assert_num_queries(10):
        client.get(url(in_review))
