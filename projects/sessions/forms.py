"""Forms of the sessions and decisions pages; the actions check everything again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import ProtocolVersion, Recommendation, VariableVerdict, VoteChoice
from projects.sessions.decisions import requested_variables
from warehouse.catalogue import Generalisation


class SessionForm(forms.Form):
    date = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        help_text=_("For instance 2026-03-12 14:00."),
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        required=False,
        help_text=_("A room, or the address of the video conference."),
    )

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date < timezone.now() - timezone.timedelta(days=1):
            raise forms.ValidationError(_("The session cannot be in the past."))
        return date


class AgendaAddForm(forms.Form):
    project = forms.TypedChoiceField(label=_("Project under review"), coerce=int)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].choices = [("", "—")] + [
            (p.pk, f"{p.reference} — {p.title}") for p in candidates
        ]


PRESENCE_CHOICES = [("present", _("Present")), ("absent", _("Absent"))]


class AttendanceForm(forms.Form):
    """One present/absent choice per commission member; unanswered members are left as they are."""

    def __init__(self, *args, members=(), recorded: dict[int, bool] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        recorded = recorded or {}
        self.members = list(members)
        for member in self.members:
            initial = None
            if member.pk in recorded:
                initial = "present" if recorded[member.pk] else "absent"
            self.fields[f"member_{member.pk}"] = forms.ChoiceField(
                label=member.full_name or member.email,
                choices=PRESENCE_CHOICES,
                widget=forms.RadioSelect,
                required=False,
                initial=initial,
            )

    def rows(self) -> list[dict[str, Any]]:
        return [{"member": m, "field": self[f"member_{m.pk}"]} for m in self.members]

    def presence(self) -> dict[int, bool]:
        answered = {}
        for member in self.members:
            value = self.cleaned_data.get(f"member_{member.pk}")
            if value:
                answered[member.pk] = value == "present"
        return answered


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"),
        choices=VoteChoice.choices,
        widget=forms.RadioSelect,
        help_text=_("A vote is final once cast."),
    )


class WrittenOpinionForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your written opinion"),
        choices=VoteChoice.choices,
        widget=forms.RadioSelect,
        help_text=_("An opinion is final once given."),
    )


class DecisionForm(forms.Form):
    """The opinion, its reasons, and one verdict per requested variable (GOV-11, GOV-12)."""

    opinion = forms.ChoiceField(
        label=_("Opinion of the commission"),
        choices=Recommendation.choices,
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For changes requested: the list of changes the team must make."),
    )
    recommendations = forms.CharField(
        label=_("Recommendations"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required for a favourable opinion with recommendations."),
    )
    conditions = forms.CharField(
        label=_("Conditions"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Shown only for an agenda item on which nobody voted: a session decides after a vote, or
    # says why it did not hold one; the reason is audited and printed in the letter.
    no_vote_reason = forms.CharField(
        label=_("Why the commission decides without a vote"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Nobody voted on this item. Required to decide anyway: for instance, the opinion "
            "was given by written procedure."
        ),
    )

    def __init__(
        self,
        *args,
        version: ProtocolVersion,
        prefill: dict[str, dict[str, str]] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.version = version
        self.requested = requested_variables(version)
        prefill = prefill or {}
        for item in self.requested:
            given = prefill.get(item.code, {})
            label = item.variable.label
            self.fields[f"verdict__{item.code}"] = forms.ChoiceField(
                label=_("Verdict on “%(label)s”") % {"label": label},
                choices=VariableVerdict.choices,
                widget=forms.RadioSelect,
                initial=given.get("verdict") or VariableVerdict.APPROVE,
                required=False,
            )
            self.fields[f"generalisation__{item.code}"] = forms.ChoiceField(
                label=_("Coarser generalisation for “%(label)s”") % {"label": label},
                choices=[("", "—")] + [(g, Generalisation(g).label) for g in item.coarser],
                required=False,
                initial=given.get("generalisation", ""),
            )
            self.fields[f"reason__{item.code}"] = forms.CharField(
                label=_("Reason for “%(label)s”") % {"label": label},
                required=False,
                max_length=2000,
                initial=given.get("reason", ""),
                help_text=_("Required unless the variable is approved as requested."),
            )

    def variable_rows(self, proposals: dict[str, list] | None = None) -> list[dict[str, Any]]:
        proposals = proposals or {}
        return [
            {
                "item": item,
                "requested_label": Generalisation(item.generalisation).label
                if item.generalisation in Generalisation.values
                else item.generalisation,
                "verdict": self[f"verdict__{item.code}"],
                "generalisation": self[f"generalisation__{item.code}"],
                "reason": self[f"reason__{item.code}"],
                "proposals": proposals.get(item.code, []),
            }
            for item in self.requested
        ]

    def variable_decisions(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            item.code: {
                "verdict": data.get(f"verdict__{item.code}") or "",
                "generalisation": data.get(f"generalisation__{item.code}") or "",
                "reason": data.get(f"reason__{item.code}") or "",
            }
            for item in self.requested
        }

    def add_refusal(self, refused) -> None:
        """Puts an action's refusal on the fields it names, the rest on the form."""
        for name, messages in getattr(refused, "field_errors", {}).items():
            field = name if name in self.fields else f"verdict__{name}"
            if field not in self.fields:
                field = None
            for message in messages:
                self.add_error(field, message)
        for reason in getattr(refused, "general", refused.reasons):
            self.add_error(None, reason)


class CorrectionForm(DecisionForm):
    """A correcting decision: the same form, its reasons say what is corrected and why."""

    reasons = forms.CharField(
        label=_("Reasons, and what this decision corrects"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Required: why the previous decision is corrected, and the reasons."),
    )
