"""Forms of the review pages. They check what can be checked field by field; the actions decide."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import ProtocolVersion, Recommendation, VariableVerdict
from projects.review.actions import MAX_REASON_LENGTH, MAX_TEXT_LENGTH, TEXT_FIELDS
from projects.review.selectors import Candidate, requested_variables
from projects.sections import delivery_shape_of
from warehouse import catalogue


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _future(value: datetime.date) -> datetime.date:
    if value <= timezone.localdate():
        raise forms.ValidationError(_("The due date must be in the future."))
    return value


class AssignForm(forms.Form):
    member = forms.TypedChoiceField(label=_("Commission member"), coerce=int)
    due_date = forms.DateField(
        label=_("Due date of the review"),
        widget=DateInput(),
        help_text=_("A date in the future; reminders are sent before it and once it is passed."),
    )

    def __init__(self, *args, candidates: list[Candidate], **kwargs):
        super().__init__(*args, **kwargs)
        # Conflicted and already assigned members are not offered (the action refuses them too).
        self.fields["member"].choices = [("", _("Choose a member"))] + [
            (
                c.member.pk,
                _("%(name)s — %(open)s open, %(overdue)s overdue")
                % {"name": c.member.full_name, "open": c.open_count, "overdue": c.overdue_count},
            )
            for c in candidates
            if c.assignable
        ]

    def clean_due_date(self):
        return _future(self.cleaned_data["due_date"])


class ExpertInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the expert"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        help_text=_("An address with no account creates one from the link."),
    )
    due_date = forms.DateField(
        label=_("Due date of the review"),
        widget=DateInput(),
        help_text=_("A date in the future."),
    )

    def clean_due_date(self):
        return _future(self.cleaned_data["due_date"])


class DueDateForm(forms.Form):
    due_date = forms.DateField(label=_("New due date"), widget=DateInput())

    def clean_due_date(self):
        return _future(self.cleaned_data["due_date"])


TEXT_LABELS = {
    "scientific_quality": (
        _("Scientific quality"),
        _("Question, state of the art, feasibility, the team's competence."),
    ),
    "public_interest": (
        _("Public interest"),
        _("What the results will bring to patients, care or public health (GOV-06)."),
    ),
    "methodology": (
        _("Methodology"),
        _("Design, population, period, analyses; are the requested data necessary?"),
    ),
    "information_of_persons": (
        _("Information of persons"),
        _("How the persons concerned are informed, or why they cannot be."),
    ),
    "ethics": (
        _("Ethics"),
        _("Risks for the persons, sensitive data, free text, small populations."),
    ),
}


class ReviewForm(forms.Form):
    """The five structured texts, the recommendation, the notes and one verdict per variable.

    Every field is optional here: a draft keeps whatever was typed. What a submission needs is
    checked by ``projects.review.actions.submission_errors``, whose messages land on these fields.
    """

    recommendation = forms.ChoiceField(
        label=_("Recommendation"),
        required=False,
        choices=Recommendation.choices,
        widget=forms.RadioSelect,
    )
    private_notes = forms.CharField(
        label=_("Private notes for the commission"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Read by the commission and the secretariat only, never by the team."),
    )

    def __init__(self, *args, version: ProtocolVersion, **kwargs):
        super().__init__(*args, **kwargs)
        for name in TEXT_FIELDS:
            label, help_text = TEXT_LABELS[name]
            self.fields[name] = forms.CharField(
                label=label,
                help_text=help_text,
                required=False,
                max_length=MAX_TEXT_LENGTH,
                widget=forms.Textarea(attrs={"rows": 5}),
            )
        # Texts first, in their order, then the recommendation and the notes.
        self.order_fields([*TEXT_FIELDS, "recommendation", "private_notes"])
        self.requested = requested_variables(version)
        self.delivery_shape = delivery_shape_of((version.content or {}).get("data_request"))
        for item in self.requested:
            # The warning on a requested time of day is read with the verdict it bears on.
            note = catalogue.reidentification_note(item.generalisation)
            self.fields[f"verdict__{item.code}"] = forms.ChoiceField(
                label=_("Verdict on “%(label)s”") % {"label": item.label},
                required=False,
                choices=VariableVerdict.choices,
                widget=forms.RadioSelect,
                help_text=_("Re-identification risk of “%(option)s”: %(note)s")
                % {"option": item.generalisation_label, "note": note}
                if note
                else "",
            )
            coarser = item.coarser
            if coarser:
                help_text = [
                    str(_("Only with the verdict “approve with a coarser generalisation”."))
                ]
                for option in coarser:
                    option_note = catalogue.reidentification_note(option)
                    if option_note:
                        help_text.append(
                            str(
                                _("Re-identification risk of “%(option)s”: %(note)s")
                                % {"option": option.label, "note": option_note}
                            )
                        )
                self.fields[f"generalisation__{item.code}"] = forms.ChoiceField(
                    label=_("Coarser generalisation for “%(label)s”") % {"label": item.label},
                    required=False,
                    choices=[("", _("Choose"))] + [(g.value, g.label) for g in coarser],
                    help_text=" ".join(help_text),
                )
            self.fields[f"reason__{item.code}"] = forms.CharField(
                label=_("Reason for “%(label)s”") % {"label": item.label},
                required=False,
                max_length=MAX_REASON_LENGTH,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Required when you refuse or generalise more."),
            )

    def variable_fields(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "verdict": self[f"verdict__{item.code}"],
                "generalisation": self[f"generalisation__{item.code}"]
                if f"generalisation__{item.code}" in self.fields
                else None,
                "reason": self[f"reason__{item.code}"],
            }
            for item in self.requested
        ]

    def text_fields(self):
        return [self[name] for name in TEXT_FIELDS]

    @staticmethod
    def initial_from(data: dict[str, Any]) -> dict[str, Any]:
        """Form initial values from a stored review (``actions.review_data``)."""
        initial = {name: data.get(name, "") for name in (*TEXT_FIELDS, "private_notes")}
        initial["recommendation"] = data.get("recommendation", "")
        for code, verdict in (data.get("variables") or {}).items():
            initial[f"verdict__{code}"] = verdict.get("verdict", "")
            initial[f"generalisation__{code}"] = verdict.get("generalisation", "")
            initial[f"reason__{code}"] = verdict.get("reason", "")
        return initial

    def to_data(self) -> dict[str, Any]:
        """What was typed, in the shape the actions take (call after ``is_valid``)."""
        cleaned = self.cleaned_data
        data: dict[str, Any] = {
            name: cleaned.get(name, "") for name in (*TEXT_FIELDS, "private_notes")
        }
        data["recommendation"] = cleaned.get("recommendation", "")
        data["variables"] = {
            item.code: {
                "verdict": cleaned.get(f"verdict__{item.code}", ""),
                "generalisation": cleaned.get(f"generalisation__{item.code}", ""),
                "reason": cleaned.get(f"reason__{item.code}", ""),
            }
            for item in self.requested
        }
        return data

    def add_action_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
