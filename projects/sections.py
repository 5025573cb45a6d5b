"""The sections of a protocol ("Fields A" of regulatory.md that belong to the applicant).

Each section is a Django form. The draft stores what was typed (``Section.raw``) whatever its
validity; the same forms, bound to the stored values, say what is missing or wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from eds_portal.forms import querydict_from
from projects.regulatory_route import InternalUse
from warehouse import catalogue
from warehouse.catalogue import Generalisation, Sensitivity
from warehouse.cohort import CohortCriteriaForm

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
MAX_ACCESS_MONTHS = 60


def _text(label, help_text="", *, required=True, rows=4, max_length=10_000):
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class IdentificationForm(forms.Form):
    lay_title = forms.CharField(
        label=_("Public title"),
        max_length=300,
        help_text=_("In plain language: it is published on the transparency portal."),
    )
    acronym = forms.CharField(label=_("Acronym"), max_length=30)
    summary = _text(_("Summary"), _("What the study is about, for a lay reader (TRA-04)."), rows=6)
    scientific_lead = forms.CharField(
        label=_("Scientific lead"), max_length=200, help_text=_("Name, title and laboratory.")
    )


class PurposeForm(forms.Form):
    objectives = _text(_("Objectives"))
    medical_domains = forms.CharField(label=_("Medical domains studied"), max_length=300)
    public_interest = _text(
        _("Public-interest justification"),
        _(
            "Why the study serves public health; shown to the commission and published in "
            "summary (GOV-06)."
        ),
    )
    expected_benefits = _text(_("Expected benefits"))
    prohibited_purposes = forms.BooleanField(
        label=_(
            "I attest that the project pursues no prohibited purpose: no promotion of health "
            "products to professionals, no exclusion from or pricing of insurance (GOV-07)."
        ),
    )


class MethodologyForm(forms.Form):
    methodology = _text(_("Methodology"), rows=8)
    population = _text(
        _("Population studied"), _("Inclusion criteria, period, geography, in words.")
    )
    planned_start = forms.DateField(
        label=_("Planned start"), widget=forms.DateInput(attrs={"type": "date"})
    )
    planned_end = forms.DateField(
        label=_("Planned end"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("planned_start"), cleaned.get("planned_end")
        if start and end and end <= start:
            self.add_error("planned_end", _("The end must come after the start."))
        return cleaned


class ActorsForm(forms.Form):
    controller_name = forms.CharField(label=_("Data controller"), max_length=200)
    controller_type = forms.ChoiceField(
        label=_("Type of controller"),
        choices=[("", "—"), ("public", _("Public body")), ("private", _("Private body"))],
    )
    controller_location = forms.CharField(label=_("Controller's address"), max_length=300)
    controller_representative = forms.CharField(
        label=_("Controller's representative"), max_length=200
    )
    joint_controllers = _text(
        _("Joint controllers"), _("One per line; leave empty if none."), required=False, rows=2
    )
    processors = _text(
        _("Processors and laboratories"),
        _("One per line, with their role; leave empty if none."),
        required=False,
        rows=3,
    )
    funders = _text(
        _("Funders"), _("One per line; write “None” if the study has no funding."), rows=2
    )
    analysis_platform = forms.CharField(
        label=_("Analysis platform"),
        max_length=300,
        help_text=_("Where the data will be analysed: name of the platform and its host."),
    )
    data_recipients = _text(
        _("Data recipients"),
        _(
            "The persons who will receive the data, one per line with their organisation. Each "
            "must be a member of the project's team."
        ),
        rows=3,
    )
    analysis_in_eu = forms.BooleanField(
        label=_("The analysis platform is located in the European Union (SEC-02)."),
    )


class InformationForm(forms.Form):
    information_mode = forms.ChoiceField(
        label=_("Information of the persons"),
        choices=[
            ("", "—"),
            ("individual", _("Individual information of each person")),
            ("exception", _("Exception of GDPR article 14(5)(b): disproportionate effort")),
        ],
        help_text=_("The general information on the transparency portal applies in both cases."),
    )
    exception_reason = _text(
        _("Reason for the exception"),
        _("Required when individual information is not given."),
        required=False,
    )
    interests_summary = _text(
        _("Declarations of interests"),
        _(
            "Summary of the interests of the controller and processors; attach the declarations "
            "in the attachments section (GOV-08)."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("information_mode") == "exception"
            and not cleaned.get("exception_reason", "").strip()
        ):
            self.add_error(
                "exception_reason",
                _("Explain why informing each person individually is not possible."),
            )
        return cleaned


class RouteForm(forms.Form):
    involves_human_person = forms.ChoiceField(
        label=_(
            "Does the research involve the human person (new act, questionnaire, sample, "
            "follow-up of participants)?"
        ),
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    internal_use = forms.ChoiceField(
        label=_("Is it one of the warehouse's internal uses?"),
        choices=InternalUse.CHOICES,
        widget=forms.RadioSelect,
    )
    linkage_other_sources = forms.ChoiceField(
        label=_("Will the data be linked with other sources (SNDS, registries, cohorts)?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    data_outside_reference = forms.ChoiceField(
        label=_(
            "Does the project need data outside the categories of the reference "
            "methodology (for instance call recordings)?"
        ),
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    processing_outside_eu = forms.ChoiceField(
        label=_("Will any processing take place outside the European Union?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    needs_consent = forms.ChoiceField(
        label=_("Does the study need the consent of the persons?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
    )
    confirmed_route = forms.CharField(required=False, widget=forms.HiddenInput)
    route_confirmed = forms.BooleanField(
        label=_("I confirm the proposed route."),
        help_text=_(
            "Answer the questions and save: the proposed route and its reasons appear "
            "above this box."
        ),
    )

    def clean(self):
        from projects.regulatory_route import propose_route

        cleaned = super().clean()
        answered = all(
            name in cleaned
            for name in (
                "involves_human_person",
                "internal_use",
                "linkage_other_sources",
                "data_outside_reference",
                "processing_outside_eu",
                "needs_consent",
            )
        )
        if answered:
            proposal = propose_route(cleaned)
            if cleaned.get("route_confirmed") and cleaned.get("confirmed_route") != proposal.route:
                self.add_error(
                    "route_confirmed",
                    _("The answers changed: read the new proposal and confirm again."),
                )
            if not proposal.possible_here:
                self.add_error(None, proposal.reasons[0])
        return cleaned

    def errors_not_shown_yet(self) -> set[str]:
        """The confirmation box appears once the answers are saved (with the proposal above it):
        until the page has shown it (its hidden ``confirmed_route`` came back), its "required"
        keeps the section incomplete but is not put to the user as an error."""
        if self.data.get("confirmed_route"):
            return set()
        return {"route_confirmed"}


class DeliveryShape(models.TextChoices):
    """The shape of the delivered files (``delivery_shape`` of the request and the specification).

    The same approved variables and generalisations either way: only the tables and columns
    that carry them differ. A request or specification without it means the portal's tables.
    """

    PORTAL = "portal", _("Portal tables")
    """One file per table of the data catalogue, with the portal's column names."""
    OMOP = "omop", "OMOP CDM v5.4"
    """The standard OMOP CDM v5.4 tables and fields (warehouse/export/omop.py checks them)."""


DEFAULT_DELIVERY_SHAPE = DeliveryShape.PORTAL


def delivery_shape_of(request: dict[str, Any] | None) -> DeliveryShape:
    """The shape a data request (raw or structured) or an approved specification asks for.

    Absent or empty (versions and decisions older than the option): the portal's tables. An
    unknown value is not guessed at: the forms and the API refuse it before it is stored.
    """
    value = (request or {}).get("delivery_shape") or DEFAULT_DELIVERY_SHAPE
    return DeliveryShape(value)


def _generalisation_notes(variable: catalogue.Variable) -> list[tuple[str, str]]:
    """(label, warning) of the variable's generalisations that keep the time of day."""
    notes = []
    for generalisation in variable.generalisations:
        note = catalogue.reidentification_note(generalisation)
        if note:
            notes.append((str(generalisation.label), str(note)))
    return notes


class DataRequestForm(forms.Form):
    """The variables (one justification and generalisation each), the cohort and the access."""

    expected_persons = forms.IntegerField(label=_("Expected number of persons"), min_value=1)
    access_months = forms.IntegerField(
        label=_("Access duration (months)"),
        min_value=1,
        max_value=MAX_ACCESS_MONTHS,
        help_text=_("At most five years (60 months)."),
    )
    free_text_justification = _text(
        _("Why free text is needed"),
        _(
            "Required when a free-text variable is requested: say what the structured data cannot "
            "give. Free text is delivered scrubbed of names, numbers and addresses (MIN-05)."
        ),
        required=False,
    )
    delivery_shape = forms.ChoiceField(
        label=_("Delivery format"),
        choices=DeliveryShape.choices,
        initial=DEFAULT_DELIVERY_SHAPE,
        # Not required: a request saved before the option existed asks for the portal's tables.
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Portal tables: one file per table of the data catalogue, with the portal's column "
            "names. OMOP CDM v5.4: the same approved variables and generalisations, in the "
            "standard OMOP tables and fields, for the OHDSI tools."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and not self.data.get("delivery_shape"):
            # A request stored before the option: show (and keep) the portal's tables.
            self.data = self.data.copy()
            self.data["delivery_shape"] = DEFAULT_DELIVERY_SHAPE.value
        self.generalisation_notes: dict[str, list[tuple[str, str]]] = {}
        for variable in catalogue.exportable_variables():
            self.fields[f"var__{variable.code}"] = forms.BooleanField(
                label=variable.label, required=False
            )
            self.fields[f"just__{variable.code}"] = forms.CharField(
                label=_("Justification for “%(label)s”") % {"label": variable.label},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            notes = _generalisation_notes(variable)
            self.generalisation_notes[variable.code] = notes
            self.fields[f"gen__{variable.code}"] = forms.ChoiceField(
                label=_("Generalisation for “%(label)s”") % {"label": variable.label},
                required=False,
                choices=[(g.value, g.label) for g in variable.generalisations],
                initial=variable.default.value,
                # Django links the help text to the select (aria-describedby): the warnings
                # of the options that keep the time of day are read with the choice.
                help_text=" ".join(
                    str(_("“%(option)s”: %(note)s") % {"option": label, "note": note})
                    for label, note in notes
                ),
            )
        self.criteria_form = CohortCriteriaForm(self.data or None, prefix=None)

    def selected_variables(self) -> list[catalogue.Variable]:
        return [
            variable
            for variable in catalogue.exportable_variables()
            if self.cleaned_data.get(f"var__{variable.code}")
        ]

    def clean(self):
        cleaned = super().clean()
        chosen = self.selected_variables()
        if not chosen:
            self.add_error(None, _("Choose at least one variable."))
        for variable in chosen:
            if not (cleaned.get(f"just__{variable.code}") or "").strip():
                self.add_error(
                    f"just__{variable.code}",
                    _("Each requested variable needs its justification (MIN-01)."),
                )
            generalisation = cleaned.get(f"gen__{variable.code}") or variable.default.value
            cleaned[f"gen__{variable.code}"] = generalisation
        if any(v.sensitivity == Sensitivity.FREE_TEXT for v in chosen):
            texts = [v for v in chosen if v.sensitivity == Sensitivity.FREE_TEXT]
            if not (cleaned.get("free_text_justification") or "").strip():
                self.add_error(
                    "free_text_justification", _("Free text needs its own justification.")
                )
            for variable in texts:
                if cleaned.get(f"gen__{variable.code}") == Generalisation.EXCLUDED:
                    self.add_error(
                        f"gen__{variable.code}",
                        _("Choose “Scrubbed text” or do not request this variable."),
                    )
        if self.criteria_form.is_bound and not self.criteria_form.is_valid():
            self.add_error(None, _("The cohort criteria have errors."))
        return cleaned

    def specification(self) -> dict[str, Any]:
        """The structured request, as the commission will decide on it."""
        return {
            "variables": [
                {
                    "code": v.code,
                    "justification": self.cleaned_data[f"just__{v.code}"].strip(),
                    "generalisation": self.cleaned_data[f"gen__{v.code}"],
                }
                for v in self.selected_variables()
            ],
            "criteria": self.criteria_form.criteria().as_dict(),
            "expected_persons": self.cleaned_data["expected_persons"],
            "access_months": self.cleaned_data["access_months"],
            "free_text_justification": self.cleaned_data.get("free_text_justification", ""),
            "delivery_shape": self.cleaned_data.get("delivery_shape")
            or DEFAULT_DELIVERY_SHAPE.value,
        }


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    form_class: type[forms.Form]
    intro: str | Promise = ""


SECTIONS: tuple[Section, ...] = (
    Section("identification", _("Identification"), IdentificationForm),
    Section("purpose", _("Purpose and public interest"), PurposeForm),
    Section("methodology", _("Methodology, population and calendar"), MethodologyForm),
    Section("actors", _("Controllers, processors, funders and platform"), ActorsForm),
    Section("information", _("Information of persons and interests"), InformationForm),
    Section(
        "route",
        _("Regulatory route"),
        RouteForm,
        _(
            "A few questions propose the legal frame of your project (MR-004, authorisation…) "
            "and explain why."
        ),
    ),
    Section(
        "data_request",
        _("Data request"),
        DataRequestForm,
        _(
            "Pick the variables you need from the catalogue, justify each one, and describe "
            "the cohort."
        ),
    ),
)
BY_KEY = {section.key: section for section in SECTIONS}


def bound_form(section: Section, content: dict, *, initial: dict | None = None) -> forms.Form:
    """The section's form bound to what the draft holds for it (empty data: unbound, showing
    ``initial``)."""
    raw = content.get(section.key)
    if raw is None:
        return section.form_class(initial=initial)
    return section.form_class(querydict_from(raw))


def initial_values(section: Section, project: Any) -> dict[str, Any]:
    """What a section not saved yet shows: the working title as the public title."""
    if section.key == "identification":
        return {"lay_title": project.title}
    return {}


def shown_errors(form: forms.Form) -> bool:
    """Validates the form and says whether it is complete; then drops, from what the page shows,
    the errors of fields the user has not been shown yet (``errors_not_shown_yet``)."""
    complete = form.is_valid()
    for name in getattr(form, "errors_not_shown_yet", set)():
        form.errors.pop(name, None)
    return complete


# Choices refused when a section is saved through the API, rather than stored and reported like
# an incomplete draft: a program that sends an unknown value has a bug, not an unfinished text.
STRICT_CHOICES: dict[str, tuple[str, ...]] = {"data_request": ("delivery_shape",)}


def strict_choice_errors(section: Section, raw: dict[str, Any]) -> dict[str, list[str]]:
    """Per field, the message for a value outside the field's choices (STRICT_CHOICES)."""
    errors: dict[str, list[str]] = {}
    form = section.form_class()
    for name in STRICT_CHOICES.get(section.key, ()):
        value = raw.get(name)
        if value in (None, ""):
            continue
        allowed = [str(choice) for choice, _label in form.fields[name].choices]
        if value not in allowed:
            errors[name] = [
                str(
                    _("“%(value)s” is not one of the choices: %(allowed)s.")
                    % {"value": value, "allowed": ", ".join(allowed)}
                )
            ]
    return errors


def raw_from_post(post) -> dict[str, Any]:
    """What was typed, lists kept: stored as is so that nothing is lost."""
    raw: dict[str, Any] = {}
    for key in post:
        if key in {"csrfmiddlewaretoken", "action"}:
            continue
        values = post.getlist(key)
        raw[key] = values if len(values) > 1 or key in _LIST_FIELDS else values[0]
    return raw


_LIST_FIELDS = {"visit_kinds", "departements", "associations"}
