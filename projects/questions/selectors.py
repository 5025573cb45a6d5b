"""Reads of the questions thread, with the author-hiding rule applied for the viewer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from projects.models import Project, ProjectStatus, Question
from projects.questions.permissions import sees_authors

THE_COMMISSION = _("The commission")


@dataclass
class Message:
    """One message as the viewer may see it."""

    pk: int
    body: str
    created_at: Any
    author: str | Promise
    # Only for viewers who see authors: the team reads "The commission" for this message.
    hidden_from_team: bool
    from_commission: bool
    version_number: int | None
    replies: list[Message] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.from_commission and not self.replies


def _as_message(question: Question, *, show_authors: bool) -> Message:
    signed = question.show_author or not question.from_commission
    return Message(
        pk=question.pk,
        body=question.body,
        created_at=question.created_at,
        author=question.author.full_name if signed or show_authors else THE_COMMISSION,
        hidden_from_team=question.from_commission and not question.show_author,
        from_commission=question.from_commission,
        version_number=question.version.number if question.version_id else None,
    )


def thread(project: Project, viewer: Any) -> list[Message]:
    """The commission's questions, oldest first, each with its answers (two queries)."""
    show_authors = sees_authors(viewer, project)
    questions = (
        Question.objects.filter(project=project, answers__isnull=True)
        .select_related("author", "version")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=Question.objects.select_related("author", "version").order_by(
                    "created_at", "pk"
                ),
            )
        )
        .order_by("created_at", "pk")
    )
    messages = []
    for question in questions:
        message = _as_message(question, show_authors=show_authors)
        message.replies = [
            _as_message(reply, show_authors=show_authors) for reply in question.replies.all()
        ]
        messages.append(message)
    return messages


def counts(project: Project) -> dict[str, int]:
    """How many questions, and how many await an answer (one query)."""
    return Question.objects.filter(
        project=project, answers__isnull=True, from_commission=True
    ).aggregate(
        total=Count("pk"),
        open=Count("pk", filter=~Exists(Question.objects.filter(answers=OuterRef("pk")))),
    )


def projects_with_open_questions(user: Any) -> list[Project]:
    """The user's projects in review with questions awaiting the team, with ``open_count``."""
    return list(
        Project.objects.filter(
            memberships__user=user,
            status__in=[ProjectStatus.UNDER_REVIEW, ProjectStatus.CHANGES_REQUESTED],
        )
        .annotate(
            open_count=Count(
                "questions",
                filter=Q(
                    questions__answers__isnull=True,
                    questions__from_commission=True,
                    questions__replies__isnull=True,
                ),
                distinct=True,
            )
        )
        .filter(open_count__gt=0)
        .order_by("-updated_at")[:20]
    )
