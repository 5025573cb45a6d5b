"""Forms of the questions thread: plain text, length limited (the actions check it again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from projects.questions.actions import MAX_MESSAGE_LENGTH


class QuestionForm(forms.Form):
    body = forms.CharField(
        label=_("Your question"),
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Plain text, at most 5,000 characters. The team reads it on the project's page."
        ),
    )
    show_author = forms.BooleanField(
        label=_("Sign with my name"),
        required=False,
        help_text=_("Unticked, the team reads “The commission” as the author."),
    )


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"),
        max_length=MAX_MESSAGE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Plain text, at most 5,000 characters. Your name is shown with the answer."),
    )


def answer_form(question_pk: int, data=None) -> AnswerForm:
    # A prefix per question: several answer forms on one page keep distinct ids and labels.
    return AnswerForm(data, prefix=f"answer-{question_pk}")
