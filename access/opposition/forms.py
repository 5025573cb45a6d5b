"""Forms of the opposition register. They validate; ``access.opposition.actions`` acts.

Invalid input is shown again with its messages and everything typed kept (Django re-renders the
bound form); lengths are bounded so that an oversized field is an error, not a crash.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.forms.boundfield import BoundWidget
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.models import Channel, Outcome, RequesterRole, Scope
from access.opposition.actions import Intake
from access.opposition.selectors import objectable_projects
from projects.models import Project
from warehouse.reference import association_names, associations, departement_names

IDENTITY_FIELDS = (
    "birth_name",
    "used_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_place",
    "postal_code",
    "associations",
    "approximate_dates",
    "requester_name",
    "contact_email",
    "contact_address",
    "comment",
)


def _association_choices():
    return [(str(pk), name) for pk, name in association_names().items()]


class ProjectChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        # The published title: the working title is the team's and may say more.
        page = getattr(obj, "public_page", None)
        return f"{obj.reference} — {page.title if page else obj.title}"


class OppositionForm(forms.Form):
    """The public form (OPP-01 to OPP-07, "Fields" B 2-4)."""

    requester_role = forms.ChoiceField(
        label=_("You are"),
        choices=RequesterRole.choices,
        initial=RequesterRole.SELF,
        widget=forms.RadioSelect,
    )
    requester_name = forms.CharField(
        label=_("Your name (if you act for someone else)"),
        max_length=200,
        required=False,
        help_text=_("Required when you act for another person; we may ask for proof of capacity."),
    )
    birth_name = forms.CharField(
        label=_("Birth name of the person concerned"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    used_name = forms.CharField(
        label=_("Usage name (if different)"), max_length=100, required=False
    )
    first_names = forms.CharField(
        label=_("First names"),
        max_length=200,
        help_text=_("All first names, in the order of the civil status, separated by commas."),
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[("F", _("Female")), ("M", _("Male"))],
        widget=forms.RadioSelect,
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    birth_place = forms.CharField(
        label=_("Place of birth"), max_length=100, help_text=_("Commune, or country if abroad.")
    )
    associations = forms.MultipleChoiceField(
        label=_("SOS Médecins associations consulted (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Helps us find the right person; leave empty if you do not know."),
    )
    approximate_dates = forms.CharField(
        label=_("Approximate dates of care (optional)"), max_length=200, required=False
    )
    postal_code = forms.RegexField(
        label=_("Postal code at the time of care (optional)"),
        regex=r"^\d{5}$",
        required=False,
        error_messages={"invalid": _("A postal code has five digits.")},
    )
    scope = forms.ChoiceField(
        label=_("Your objection applies to"),
        choices=Scope.choices,
        initial=Scope.ALL,
        widget=forms.RadioSelect,
    )
    projects = ProjectChoiceField(
        label=_("Projects"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the projects you object to when you do not object to all reuse."),
    )
    reply_by = forms.ChoiceField(
        label=_("How should we answer?"),
        choices=[("email", _("By e-mail")), ("post", _("By post"))],
        initial="email",
        widget=forms.RadioSelect,
    )
    contact_email = forms.EmailField(label=_("E-mail address"), max_length=254, required=False)
    contact_address = forms.CharField(
        label=_("Postal address"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("You do not need to give any reason."),
    )
    # Shown once the connection has sent several requests within the hour (flood limit).
    confirm_another = forms.BooleanField(
        label=_("I confirm that this is a further, separate request"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = objectable_projects()
        self.fields["associations"].choices = _association_choices()

    def association_options(self) -> list[tuple[BoundWidget, str]]:
        """Each association's checkbox with the words a search finds it by: its name, town,
        département and postal code (the picker filters on them; the server ignores them)."""
        rows = associations()
        departements = departement_names()
        options = []
        for checkbox in self["associations"]:
            row = rows.get(int(checkbox.data["value"]), {})
            words = [
                str(checkbox.choice_label),
                row.get("city", ""),
                row.get("departement", ""),
                departements.get(row.get("departement", ""), ""),
                row.get("postal_code", ""),
            ]
            options.append((checkbox, " ".join(word for word in words if word)))
        return options

    def chosen_associations(self) -> list[str]:
        """The names of the associations ticked (shown above the list, which may be scrolled)."""
        names = association_names()
        chosen = []
        for value in self["associations"].value() or []:
            try:
                name = names.get(int(value))
            except (TypeError, ValueError):
                name = None
            if name:
                chosen.append(name)
        return chosen

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if value < date(1900, 1, 1):
            raise forms.ValidationError(_("Check the year of birth."))
        return value

    def clean(self):
        data = super().clean()
        role = data.get("requester_role")
        if role and role != RequesterRole.SELF and not data.get("requester_name", "").strip():
            self.add_error(
                "requester_name", _("Give your own name when you act for another person.")
            )
        if data.get("scope") == Scope.PROJECTS and not data.get("projects"):
            self.add_error("projects", _("Tick at least one project, or choose all reuse."))
        reply_by = data.get("reply_by")
        if reply_by == "email" and not data.get("contact_email"):
            self.add_error("contact_email", _("Give an e-mail address for the answer."))
        if reply_by == "post" and not data.get("contact_address", "").strip():
            self.add_error("contact_address", _("Give a postal address for the answer."))
        return data

    def intake(self) -> Intake:
        data = self.cleaned_data
        identity = {name: data.get(name) for name in IDENTITY_FIELDS}
        identity["associations"] = [int(pk) for pk in data.get("associations") or []]
        for name, value in identity.items():
            if isinstance(value, str):
                identity[name] = value.strip()
        return Intake(
            requester_role=data["requester_role"],
            scope=data["scope"],
            projects=list(data.get("projects") or []) if data["scope"] == Scope.PROJECTS else [],
            reply_by_email=data["reply_by"] == "email",
            identity=identity,
            capacity_proof=data.get("capacity_proof", "") or "",
            capacity_proof_received_on=data.get("capacity_proof_received_on"),
        )


STAFF_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.ONLINE]


class StaffOppositionForm(OppositionForm):
    """Staff entry of a request received by post, e-mail, phone or at an association (OPP-02)."""

    channel = forms.ChoiceField(label=_("Received by"), choices=STAFF_CHANNELS)
    receiving_association = forms.TypedChoiceField(
        label=_("Association where it was handed in"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    received_on = forms.DateField(
        label=_("Received on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The deadline counts from this day."),
    )
    capacity_proof = forms.CharField(
        label=_("Proof of capacity received (representatives)"),
        max_length=200,
        required=False,
        help_text=_("Kind of document, e.g. family record book, guardianship judgment, mandate."),
    )
    capacity_proof_received_on = forms.DateField(
        label=_("Proof of capacity received on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["confirm_another"]
        self.fields["receiving_association"].choices = [("", "—"), *_association_choices()]
        self.fields["received_on"].initial = timezone.localdate()
        self.fields["requester_role"].label = _("The requester is")

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date of receipt cannot be in the future."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("channel") == Channel.IN_PERSON and not data.get("receiving_association"):
            self.add_error("receiving_association", _("Say at which association it was handed in."))
        return data


class StatusLookupForm(forms.Form):
    receipt_number = forms.CharField(
        label=_("Receipt number"),
        max_length=20,
        help_text=_("As on your receipt, e.g. OPP-2026-K7QX4M."),
    )
    birth_date = forms.DateField(
        label=_("Date of birth of the person concerned"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_receipt_number(self):
        return self.cleaned_data["receipt_number"].strip().upper()


class WithdrawalForm(forms.Form):
    channel = forms.ChoiceField(label=_("Withdrawal received by"), choices=STAFF_CHANNELS)
    received_on = forms.DateField(
        label=_("Received on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_received_on(self):
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date of receipt cannot be in the future."))
        return value


class MatchForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Result of the identity check"),
        choices=[
            ("match", _("This is the person: confirm the match")),
            ("none", _("No warehouse person matches: keep the objection for future data")),
        ],
        widget=forms.RadioSelect,
    )
    person_key = forms.ChoiceField(label=_("Candidate"), required=False, widget=forms.RadioSelect)
    method = forms.CharField(
        label=_("How the identity was established"),
        max_length=200,
        help_text=_("E.g. all fields agree; phone call to the requester; ID copy checked."),
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person_key"].choices = [
            (c.person_key, f"#{index}") for index, c in enumerate(candidates, start=1)
        ]

    def clean(self):
        data = super().clean()
        if data.get("decision") == "match" and not data.get("person_key"):
            self.add_error("person_key", _("Choose the candidate who is the person."))
        return data


class IdCopyRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is there a reasonable doubt?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the requester with the request for a copy."),
    )


class IdCopyUploadForm(forms.Form):
    copy = forms.FileField(
        label=_("Copy of the identity document"),
        help_text=_("PDF, JPEG or PNG. It is deleted as soon as the identity is confirmed."),
    )

    def clean_copy(self):
        upload = self.cleaned_data["copy"]
        limit = settings.EDS_OPPOSITION_ID_COPY_MAX_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.")
                % {"mb": settings.EDS_OPPOSITION_ID_COPY_MAX_MB}
            )
        return upload


class ExtensionForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Extension"),
        coerce=int,
        choices=[(1, _("One month")), (2, _("Two months"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (complexity or number of requests)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    channel = forms.ChoiceField(
        label=_("Sent by"), choices=[(Channel.EMAIL, _("E-mail")), (Channel.POST, _("Post"))]
    )


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Answer"),
        choices=[
            (Outcome.APPLIED, Outcome.APPLIED.label),
            (Outcome.PARTIAL, Outcome.PARTIAL.label),
            (Outcome.REFUSED, Outcome.REFUSED.label),
        ],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required for a refusal or a partial answer; printed in the letter."),
    )
    channel = forms.ChoiceField(
        label=_("Sent by"), choices=[(Channel.EMAIL, _("E-mail")), (Channel.POST, _("Post"))]
    )


class ProjectOptionField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} — {obj.title}"


class ObjectionOverrideForm(forms.Form):
    """The DPO lets one project be provisioned although this objection is not matched yet."""

    project = ProjectOptionField(label=_("Project"), queryset=None, empty_label=None)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Why this project may receive data before the objection is matched. Kept as written "
            "and shown to the staff; do not write the person's identity."
        ),
    )

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = Project.objects.filter(
            pk__in=[p.pk for p in projects]
        ).order_by("reference")
