"""Forms of the consent register. The person is given by their key, or by the identity on the
signed form, from which the key is computed here and nothing of the identity is kept."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from access.models_consent import (
    Assent,
    ConsentMethod,
    DataFate,
    SubjectCategory,
    WithdrawalChannel,
    person_key_validator,
)

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class PersonForm(forms.Form):
    person_key = forms.CharField(
        label=_("Person key"),
        required=False,
        max_length=64,
        help_text=_(
            "The warehouse's pseudonymous key (64 characters). Or leave it empty and type the "
            "identity below: the key is computed from it and the identity is not kept."
        ),
    )
    birth_name = forms.CharField(label=_("Birth name"), required=False, max_length=100)
    first_names = forms.CharField(label=_("First names"), required=False, max_length=100)
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        required=False,
        choices=[("", "—"), ("F", _("Female")), ("M", _("Male"))],
    )

    IDENTITY_FIELDS = ("birth_name", "first_names", "birth_date", "sex")

    def clean_person_key(self) -> str:
        key = self.cleaned_data["person_key"].strip().lower()
        if key:
            person_key_validator(key)
        return key

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        key = cleaned.get("person_key", "")
        identity = [cleaned.get(name) for name in self.IDENTITY_FIELDS]
        if not key:
            if not all(identity):
                raise forms.ValidationError(
                    _("Give the person key, or the birth name, first names, date of birth and sex.")
                )
            from warehouse.keys import person_key

            key = person_key(
                birth_name=cleaned["birth_name"],
                first_names=cleaned["first_names"],
                birth_date=cleaned["birth_date"],
                sex=cleaned["sex"],
            )
        from warehouse.models import Person

        if not Person.objects.using("warehouse").filter(person_source_value=key).exists():
            raise forms.ValidationError(
                _("No person of the warehouse has this key. Check the key or the identity.")
            )
        cleaned["resolved_key"] = key
        return cleaned


class ConsentForm(PersonForm):
    purposes = forms.CharField(
        label=_("Purposes consented to"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("As worded on the consent form: specific, separate from care (CON-03)."),
    )
    notice_version = forms.CharField(
        label=_("Version of the information notice"),
        max_length=50,
        help_text=_("The exact version the person was shown (CON-02)."),
    )
    given_at = forms.DateTimeField(
        label=_("Date and time of the consent"),
        widget=DATETIME_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
    )
    method = forms.ChoiceField(label=_("Method"), choices=ConsentMethod.choices)
    collector = forms.CharField(
        label=_("Collected by"),
        max_length=200,
        help_text=_("The investigator or staff member who collected it."),
    )
    evidence = forms.CharField(
        label=_("Where the evidence is"),
        max_length=300,
        help_text=_("Archive reference of the signed form or of the e-signature file."),
    )
    subject_category = forms.ChoiceField(
        label=_("The person is"),
        choices=SubjectCategory.choices,
        initial=SubjectCategory.ADULT,
        widget=forms.RadioSelect,
    )
    representatives = forms.CharField(
        label=_("Who consented on their behalf"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "For a minor or a protected adult: the capacity of each holder of parental "
            "authority or of the guardian who signed (CON-04). No names: the signed form holds "
            "them."
        ),
    )
    assent = forms.ChoiceField(
        label=_("The person's own assent"),
        choices=Assent.choices,
        initial=Assent.NOT_APPLICABLE,
        help_text=_("A refusal by the minor or protected adult prevails."),
    )

    def clean(self):
        cleaned = super().clean()
        category = cleaned.get("subject_category")
        if category and category != SubjectCategory.ADULT:
            if not (cleaned.get("representatives") or "").strip():
                self.add_error("representatives", _("Record who consented on the person's behalf."))
            if cleaned.get("assent") == Assent.NOT_APPLICABLE:
                self.add_error(
                    "assent", _("Record the person's own assent, or that they cannot express it.")
                )
        elif category == SubjectCategory.ADULT:
            if (cleaned.get("representatives") or "").strip():
                self.add_error("representatives", _("An adult acting alone has no representative."))
            if cleaned.get("assent") not in (None, Assent.NOT_APPLICABLE):
                self.add_error("assent", _("An adult acting alone: choose “Not applicable”."))
        return cleaned


class WithdrawalForm(PersonForm):
    withdrawn_at = forms.DateTimeField(
        label=_("Date and time of the withdrawal"),
        widget=DATETIME_INPUT,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=WithdrawalChannel.choices)
    data_fate = forms.ChoiceField(
        label=_("Data already collected"),
        choices=DataFate.choices,
        widget=forms.RadioSelect,
        help_text=_("Follow what the information notice said (CON-06)."),
    )
    fate_basis = forms.CharField(
        label=_("Basis of this choice"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Quote the notice or the rule of the framework."),
    )
