"""Writes of the questions thread: the commission asks, the team answers.

Keyword-only, with the actor (``by=``), one transaction each, the project row locked while its
status and the actor's rights are checked. The trail records that a message was written, never
its text (LOG-04); the other side is notified with a link, never with the text (it leaves by
e-mail).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.models import Project, ProjectStatus, Question, RapporteurAssignment
from projects.questions.permissions import ASKING_STATUSES

MAX_MESSAGE_LENGTH = 5000


class QuestionRefused(Refused):
    """The question or answer is refused; ``reasons`` says every why."""


def _clean_body(body: str, *, empty_message: str) -> str:
    # Line breaks are kept as typed (Windows ones normalised); the page escapes the text.
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise QuestionRefused([empty_message])
    if len(body) > MAX_MESSAGE_LENGTH:
        raise QuestionRefused(
            [
                _("A message has at most %(max)s characters (this one has %(n)s).")
                % {"max": MAX_MESSAGE_LENGTH, "n": len(body)}
            ]
        )
    if "\x00" in body:
        raise QuestionRefused([_("The message contains a character that is not allowed.")])
    return body


def _check_open_for_questions(project: Project) -> None:
    if project.review_status not in ASKING_STATUSES:
        message = _(
            "Questions are possible only while the commission reviews the file (now “%(status)s”)."
        )
        raise QuestionRefused([message % {"status": ProjectStatus(project.status).label}])


def thread_url(project: Project) -> str:
    return reverse("project_questions", args=[project.pk])


@transaction.atomic
def ask_question(*, project: Project, by: Any, body: str, show_author: bool = False) -> Question:
    """The secretariat or a commission member who may read the file asks the team."""
    body = _clean_body(body, empty_message=_("Write your question."))
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if not has_permission(by, Permission.ASK_QUESTION, locked):
        raise QuestionRefused([_("You may not ask questions on this project.")])
    _check_open_for_questions(locked)
    question = Question.objects.create(
        project=locked,
        version=locked.versions.order_by("-number").first(),
        author=by,
        from_commission=True,
        body=body,
        show_author=show_author,
    )
    record_event(
        action="question.asked",
        actor=by,
        target=locked,
        after={
            "question": question.pk,
            "version": question.version.number if question.version else None,
            "signed": show_author,
        },
    )
    team = get_user_model().objects.filter(project_memberships__project=locked, is_active=True)
    subject = Message(
        gettext_lazy("%(ref)s — a question from the commission"), ref=locked.reference
    )
    body_text = Message(
        gettext_lazy(
            "The commission asked a question about “%(title)s”. The lead or a co-investigator "
            "answers it on the project's page."
        ),
        title=locked.title,
    )
    notify(team, subject=subject, body=body_text, url=thread_url(locked))
    return question


def _answer_recipients(project: Project, question: Question, by: Any) -> list[Any]:
    """The author, the rapporteurs assigned now and the secretariat; never someone who may no
    longer read the file (a member who declared an interest since)."""
    User = get_user_model()
    rapporteurs = User.objects.filter(
        pk__in=RapporteurAssignment.objects.filter(project=project, removed_at__isnull=True).values(
            "member"
        )
    )
    secretariat = User.objects.filter(groups__name=Role.SECRETARIAT.value)
    candidates = {user.pk: user for user in [question.author, *rapporteurs, *secretariat]}
    return [
        user
        for user in candidates.values()
        if user.pk != by.pk
        and user.is_active
        and has_permission(user, Permission.VIEW_PROJECT, project)
    ]


@transaction.atomic
def answer_question(*, question: Question, by: Any, body: str) -> Question:
    """The lead or a co-investigator answers one of the commission's questions."""
    body = _clean_body(body, empty_message=_("Write your answer."))
    locked = Project.objects.select_for_update().get(pk=question.project_id)
    if not has_permission(by, Permission.ANSWER_QUESTION, locked):
        raise QuestionRefused([_("Only the lead and the co-investigators answer the commission.")])
    if question.answers_id is not None or not question.from_commission:
        raise QuestionRefused([_("Only a question of the commission can be answered.")])
    _check_open_for_questions(locked)
    answer = Question.objects.create(
        project=locked,
        version=locked.versions.order_by("-number").first(),
        author=by,
        from_commission=False,
        body=body,
        show_author=True,
        answers=question,
    )
    record_event(
        action="question.answered",
        actor=by,
        target=locked,
        after={
            "question": question.pk,
            "answer": answer.pk,
            "version": answer.version.number if answer.version else None,
        },
    )
    subject = Message(gettext_lazy("%(ref)s — the team answered a question"), ref=locked.reference)
    body_text = Message(
        gettext_lazy(
            "The team of “%(title)s” answered a question of the commission asked on %(when)s."
        ),
        title=locked.title,
        when=timezone.localdate(question.created_at),
    )
    notify(
        _answer_recipients(locked, question, by),
        subject=subject,
        body=body_text,
        url=thread_url(locked) + f"#question-{question.pk}",
    )
    return answer
