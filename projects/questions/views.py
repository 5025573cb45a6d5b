"""The questions thread of a project: read it, ask (commission), answer (team).

A normal POST redirects (post/redirect/get); an htmx POST gets the page back and swaps the
thread in place, with the form's errors and a 400 when it is refused (the site's htmx config
swaps 400 responses). Nothing typed is lost on an error: the form comes back bound.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from eds_portal.authz import Permission, has_permission
from projects.models import ProjectStatus, Question
from projects.permissions import can_edit
from projects.questions.actions import QuestionRefused, answer_question, ask_question
from projects.questions.forms import QuestionForm, answer_form
from projects.questions.permissions import ASKING_STATUSES, sees_authors
from projects.questions.selectors import thread
from projects.views import ProjectView


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _undisplayed_errors(forms) -> list[str]:
    """Why a POST was refused when its form is no longer shown (the file left review)."""
    return [str(error) for form in forms for error in form.non_field_errors()]


class QuestionThreadView(ProjectView):
    """Everyone who may see the project reads its thread; the commission asks here (POST)."""

    template_name = "projects/questions/thread.html"

    def render_thread(
        self,
        request: HttpRequest,
        *,
        question_form: QuestionForm | None = None,
        answer_forms: dict | None = None,
        notice: str = "",
        status: int = 200,
    ) -> HttpResponse:
        project = self.project
        user = request.user
        window_open = project.review_status in ASKING_STATUSES
        can_ask = window_open and has_permission(user, Permission.ASK_QUESTION, project)
        can_answer = window_open and has_permission(user, Permission.ANSWER_QUESTION, project)
        messages_ = thread(project, user)
        answer_forms = answer_forms or {}
        if can_answer:
            for message in messages_:
                message.answer_form = answer_forms.get(message.pk) or answer_form(message.pk)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "thread": messages_,
                "open_count": sum(1 for m in messages_ if m.is_open),
                "can_ask": can_ask,
                "can_answer": can_answer,
                "window_open": window_open,
                "question_form": (question_form or QuestionForm()) if can_ask else None,
                "refusals": _undisplayed_errors(
                    [question_form] if question_form is not None and not can_ask else []
                )
                + _undisplayed_errors([] if can_answer else list(answer_forms.values())),
                "sees_authors": sees_authors(user, project),
                "is_team": not sees_authors(user, project),
                "changes_requested": project.status == ProjectStatus.CHANGES_REQUESTED,
                "can_revise": can_edit(user, project),
                "notice": notice,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render_thread(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not has_permission(request.user, Permission.ASK_QUESTION, self.project):
            raise PermissionDenied
        form = QuestionForm(request.POST)
        if form.is_valid():
            try:
                question = ask_question(
                    project=self.project,
                    by=request.user,
                    body=form.cleaned_data["body"],
                    show_author=form.cleaned_data["show_author"],
                )
            except QuestionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                notice = _("Question sent; the team has been told.")
                if _is_htmx(request):
                    return self.render_thread(request, notice=notice)
                messages.success(request, notice)
                return redirect(
                    reverse("project_questions", args=[pk]) + f"#question-{question.pk}"
                )
        return self.render_thread(request, question_form=form, status=400)


class AnswerView(QuestionThreadView):
    """The lead or a co-investigator answers one question (POST only)."""

    permission = Permission.ANSWER_QUESTION
    object_permission = Permission.ANSWER_QUESTION
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int, question_id: int) -> HttpResponse:
        question = Question.objects.filter(
            pk=question_id, project=self.project, answers__isnull=True, from_commission=True
        ).first()
        if question is None:
            raise Http404
        form = answer_form(question.pk, request.POST)
        if form.is_valid():
            try:
                answer_question(question=question, by=request.user, body=form.cleaned_data["body"])
            except QuestionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                notice = _("Answer sent; the commission has been told.")
                if _is_htmx(request):
                    return self.render_thread(request, notice=notice)
                messages.success(request, notice)
                return redirect(
                    reverse("project_questions", args=[pk]) + f"#question-{question.pk}"
                )
        return self.render_thread(request, answer_forms={question.pk: form}, status=400)
