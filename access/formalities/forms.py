from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from access.models_formalities import DIRECTORY_REQUIRED, FormalityType, PublicDirectory

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FormalityForm(forms.Form):
    formality_type = forms.ChoiceField(label=_("CNIL formality"), choices=FormalityType.choices)
    formality_reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        help_text=_("Receipt of the declaration of conformity, or the authorisation number."),
    )
    formality_date = forms.DateField(label=_("Date of the formality"), widget=DATE_INPUT)
    cesrees_opinion_date = forms.DateField(
        label=_("Date of the CESREES opinion"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("For a CNIL authorisation."),
    )
    directory = forms.ChoiceField(
        label=_("Public directory"),
        choices=PublicDirectory.choices,
        help_text=_("MR-004 and authorisations are registered in the directory (TRA-10)."),
    )
    directory_reference = forms.CharField(
        label=_("Directory reference"), max_length=100, required=False
    )
    directory_date = forms.DateField(
        label=_("Date of the directory registration"), required=False, widget=DATE_INPUT
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For instance why no directory registration is needed."),
    )

    def clean(self):
        cleaned = super().clean()
        directory = cleaned.get("directory")
        if directory == PublicDirectory.NONE:
            if cleaned.get("formality_type") in DIRECTORY_REQUIRED:
                self.add_error(
                    "directory", _("This formality needs the registration in the public directory.")
                )
        elif directory:
            if not (cleaned.get("directory_reference") or "").strip():
                self.add_error("directory_reference", _("Give the directory reference."))
            if not cleaned.get("directory_date"):
                self.add_error("directory_date", _("Give the registration date."))
        if cleaned.get("formality_type") == FormalityType.AUTHORISATION and not cleaned.get(
            "cesrees_opinion_date"
        ):
            self.add_error(
                "cesrees_opinion_date", _("An authorisation follows a CESREES opinion: its date.")
            )
        return cleaned


class ResultsStatus:
    CHOICES = [
        ("not_yet", _("Not available yet")),
        ("in_progress", _("Analysis in progress")),
        ("available", _("Results available")),
    ]


class PublishForm(forms.Form):
    change_note = forms.CharField(
        label=_("What changed"),
        required=False,
        max_length=300,
        help_text=_("One line shown in the page's history (for an update)."),
    )
    results_status = forms.ChoiceField(
        label=_("Results"), choices=ResultsStatus.CHOICES, initial="not_yet"
    )
    results_summary = forms.CharField(
        label=_("Plain-language summary of the results"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    publications = forms.CharField(
        label=_("Publications (references, DOI)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    results_sent_to_pds = forms.DateField(
        label=_("Date the results were sent to the PDS"), required=False, widget=DATE_INPUT
    )
    no_identification = forms.BooleanField(
        label=_(
            "I checked that the results allow no identification: no small counts, no rare-case "
            "narrative (TRA-12)."
        ),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("results_summary") or "").strip() and not cleaned.get("no_identification"):
            self.add_error(
                "no_identification", _("Check the results before publishing them (TRA-12).")
            )
        if (
            cleaned.get("results_status") == "available"
            and not (cleaned.get("results_summary") or "").strip()
        ):
            self.add_error("results_summary", _("Summarise the results that are available."))
        return cleaned
