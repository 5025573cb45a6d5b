"""Cohort criteria and feasibility counts (MIN-11).

The same criteria grammar serves the feasibility page, the API and, later, the data request of
a protocol: a period, an age range at the time of the episode, a sex, ICPC-2 and ICD-10 codes
(each entry matches every code that starts with it), kinds of care, the départements of the
associations and the associations themselves.

Counts from 1 to threshold - 1 are never shown: they come back as "< 11". Persons who object to
every reuse are not counted. Shown counts are perturbed by their cell key and rounded
(``warehouse.disclosure``), and a count that would let a small group be computed from earlier
counts is refused (``warehouse.count_guard``), as is a count beyond the user's daily budget.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, cast

from django import forms
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextChoices
from django.db.models.functions import ExtractYear
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from warehouse import code_formats, count_guard, disclosure, reference
from warehouse.models import (
    Concept,
    ConditionOccurrence,
    CountOutcome,
    PersonObjection,
    VisitOccurrence,
)

MAX_AGE = 120
_CODE_SPLIT = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class CohortCriteria:
    period_start: date | None = None
    period_end: date | None = None
    age_min: int | None = None
    age_max: int | None = None
    sex: str = ""
    icpc2_codes: tuple[str, ...] = ()
    icd10_codes: tuple[str, ...] = ()
    visit_kinds: tuple[str, ...] = ()
    departements: tuple[str, ...] = ()
    associations: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("period_start", "period_end"):
            data[key] = data[key].isoformat() if data[key] else None
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in data.items()
        }


def _concept_label(concept: Concept) -> str:
    french = (get_language() or "fr").startswith("fr")
    return concept.name_fr if french else concept.name_en


def visit_kind_choices() -> list[tuple[str, str]]:
    concepts = Concept.objects.filter(vocabulary_id="SOS_VISIT").order_by("concept_id")
    return [(concept.concept_code, _concept_label(concept)) for concept in concepts]


def departement_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in reference.departement_names().items()]


def association_choices() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in reference.association_names().items()]


class CodesField(forms.CharField):
    """Codes separated by commas or spaces; a trailing * is allowed and means the same."""

    def __init__(self, *, vocabulary: str, **kwargs):
        self.vocabulary = vocabulary
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        entries = [entry for entry in _CODE_SPLIT.split(value or "") if entry]
        if not entries:
            return ()
        known = Concept.objects.filter(vocabulary_id=self.vocabulary).values_list(
            "concept_code", flat=True
        )
        # Not a code at all, or a code the warehouse does not use: two mistakes, two messages.
        check = code_formats.check_codes(self.vocabulary, entries, known)
        errors = []
        if check.malformed:
            errors.append(
                forms.ValidationError(
                    code_formats.malformed_message(self.vocabulary, check.malformed),
                    code="invalid_code",
                )
            )
        if check.absent:
            errors.append(
                forms.ValidationError(
                    code_formats.absent_message(self.vocabulary, check.absent),
                    code="unknown_code",
                )
            )
        if errors:
            raise forms.ValidationError(errors)
        return check.codes


class CohortCriteriaForm(forms.Form):
    period_start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    age_min = forms.IntegerField(
        label=_("Minimum age (years)"), required=False, min_value=0, max_value=MAX_AGE
    )
    age_max = forms.IntegerField(
        label=_("Maximum age (years)"), required=False, min_value=0, max_value=MAX_AGE
    )
    sex = forms.ChoiceField(
        label=_("Sex"),
        required=False,
        choices=[("", _("Any")), ("M", _("Male")), ("F", _("Female"))],
    )
    icpc2_codes = CodesField(
        vocabulary="ICPC2",
        label=_("ICPC-2 codes"),
        help_text=_("Separated by commas; “R7” matches every code starting with R7."),
    )
    icd10_codes = CodesField(
        vocabulary="ICD10",
        label=_("ICD-10 codes"),
        help_text=_("Separated by commas; “J06” matches J06.9 and every J06 code."),
    )
    visit_kinds = forms.MultipleChoiceField(
        label=_("Kinds of care"), required=False, widget=forms.CheckboxSelectMultiple
    )
    departements = forms.MultipleChoiceField(
        label=_("Départements of the associations"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    associations = forms.MultipleChoiceField(
        label=_("Associations"), required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["visit_kinds"]).choices = visit_kind_choices()
        cast(forms.ChoiceField, self.fields["departements"]).choices = departement_choices()
        cast(forms.ChoiceField, self.fields["associations"]).choices = association_choices()

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("The end of the period is before its start."))
        low, high = cleaned.get("age_min"), cleaned.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error("age_max", _("The maximum age is below the minimum age."))
        return cleaned

    def criteria(self) -> CohortCriteria:
        data = self.cleaned_data
        return CohortCriteria(
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            sex=data.get("sex") or "",
            icpc2_codes=data.get("icpc2_codes") or (),
            icd10_codes=data.get("icd10_codes") or (),
            visit_kinds=tuple(data.get("visit_kinds") or ()),
            departements=tuple(data.get("departements") or ()),
            associations=tuple(int(value) for value in data.get("associations") or ()),
        )


def _code_filter(vocabulary: str, prefixes: tuple[str, ...]) -> Q:
    condition = Q()
    for prefix in prefixes:
        condition |= Q(concept_code__startswith=prefix)
    ids = Concept.objects.filter(condition, vocabulary_id=vocabulary).values("concept_id")
    with_code = ConditionOccurrence.objects.filter(condition_source_concept_id__in=ids)
    return Q(visit_occurrence_id__in=with_code.values("visit_occurrence_id"))


def cohort_visits(criteria: CohortCriteria) -> QuerySet[VisitOccurrence]:
    """The episodes that match, as one SQL query on the warehouse."""
    visits = VisitOccurrence.objects.all()
    if criteria.period_start:
        visits = visits.filter(visit_start_date__gte=criteria.period_start)
    if criteria.period_end:
        visits = visits.filter(visit_start_date__lte=criteria.period_end)
    if criteria.age_min is not None or criteria.age_max is not None:
        visits = visits.annotate(age=ExtractYear("visit_start_date") - F("person__year_of_birth"))
        if criteria.age_min is not None:
            visits = visits.filter(age__gte=criteria.age_min)
        if criteria.age_max is not None:
            visits = visits.filter(age__lte=criteria.age_max)
    if criteria.sex:
        visits = visits.filter(person__gender_concept_id=reference.GENDER[criteria.sex])
    if criteria.icpc2_codes:
        visits = visits.filter(_code_filter("ICPC2", criteria.icpc2_codes))
    if criteria.icd10_codes:
        visits = visits.filter(_code_filter("ICD10", criteria.icd10_codes))
    if criteria.visit_kinds:
        kinds = Concept.objects.filter(
            vocabulary_id="SOS_VISIT", concept_code__in=criteria.visit_kinds
        )
        visits = visits.filter(visit_concept_id__in=kinds.values("concept_id"))
    if criteria.departements or criteria.associations:
        sites = reference.care_sites_of(
            associations=criteria.associations, departements=criteria.departements
        )
        visits = visits.filter(care_site_id__in=sites)
    return visits


def feasibility_visits(criteria: CohortCriteria) -> QuerySet[VisitOccurrence]:
    """The episodes a feasibility count counts: the cohort's, without warehouse-wide objectors."""
    objecting = PersonObjection.objects.filter(person_key=OuterRef("person__person_source_value"))
    return cohort_visits(criteria).filter(~Exists(objecting))


class Refusal(TextChoices):
    DIFFERENCING = "differencing", _("Too close to an earlier count")
    """With counts already given, this one would let a small group be computed."""
    BUDGET = "budget", _("Daily budget used up")
    """The user has asked for EDS_FEASIBILITY_DAILY_BUDGET counts today."""


REFUSAL_MESSAGES = {
    Refusal.DIFFERENCING: _(
        "This count cannot be shown: it is too close to a count already given, and together they "
        "would let a small group of persons be deduced. Broaden or change your criteria."
    ),
    Refusal.BUDGET: _(
        "You have used up today's feasibility counts. Counting starts again tomorrow; write to "
        "the data office if you need more."
    ),
}


@dataclass(frozen=True)
class FeasibilityCount:
    """What a feasibility count shows: figures as strings ("0", "< 11", "1235"), or a refusal."""

    persons: str
    visits: str
    threshold: int
    masked: bool
    rounding: int = 1
    refused: str = ""
    repeated: bool = False

    @property
    def message(self) -> str:
        return str(REFUSAL_MESSAGES[Refusal(self.refused)]) if self.refused else ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_masked(shown: str) -> bool:
    return shown.startswith("<")


def feasibility_count(
    criteria: CohortCriteria, *, by: Any = None, via: str = ""
) -> FeasibilityCount:
    """Counts, then shows what the disclosure rules allow; every call is logged (MIN-11).

    ``by`` is the user who asks (None: the portal itself, e.g. a benchmark, with no budget).
    The caller writes the audit event with ``as_dict()``: shown figures only.
    """
    threshold = settings.EDS_SMALL_CELL_THRESHOLD
    base = settings.EDS_FEASIBILITY_ROUNDING_BASE
    user_id = getattr(by, "pk", None)
    data = criteria.as_dict()
    if count_guard.budget_exhausted(user_id):
        count_guard.record_budget_refusal(user_id=user_id, criteria=data, via=via)
        return FeasibilityCount("", "", threshold, False, base, refused=Refusal.BUDGET)
    measured = disclosure.measure(feasibility_visits(criteria))
    decision, _row = count_guard.guard_and_record(
        criteria=data,
        measured=measured,
        box=count_guard.box_of(data, measured),
        shown_persons=disclosure.display(
            measured.persons, measured.person_cell_key, threshold=threshold, base=base
        ),
        shown_visits=disclosure.display(
            measured.visits, measured.visit_cell_key, threshold=threshold, base=base
        ),
        user_id=user_id,
        via=via,
    )
    if decision.outcome == CountOutcome.REFUSED_DIFFERENCING:
        return FeasibilityCount("", "", threshold, False, base, refused=Refusal.DIFFERENCING)
    persons, visits = decision.shown_persons, decision.shown_visits
    return FeasibilityCount(
        persons=persons,
        visits=visits,
        threshold=threshold,
        masked=_is_masked(persons) or _is_masked(visits),
        rounding=base,
        repeated=decision.outcome == CountOutcome.REPEATED,
    )
