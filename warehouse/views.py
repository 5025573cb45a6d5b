"""The data catalogue and feasibility counts, for those who draft and judge data requests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.authz import Permission
from eds_portal.views.base import PermissionView
from warehouse import catalogue, codelists, count_guard
from warehouse.cohort import CohortCriteriaForm, Refusal, feasibility_count
from warehouse.count_guard import seconds_until_tomorrow
from warehouse.selectors import fill_rates


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Words to look for"), required=False, max_length=100)
    table = forms.ChoiceField(label=_("OMOP table"), required=False)
    sensitivity = forms.ChoiceField(label=_("Sensitivity"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["table"]).choices = [("", _("All"))] + [
            (table, table) for table in catalogue.tables()
        ]
        cast(forms.ChoiceField, self.fields["sensitivity"]).choices = [
            ("", _("All")),
            *catalogue.Sensitivity.choices,
        ]


# Catalogue variables whose values are codes of a shipped vocabulary: (vocabulary, the OMOP
# column holding the standard concept the code maps to, the standard vocabulary of the targets).
CODED_VARIABLES = {
    "diagnosis.icpc2": ("ICPC2", "condition_occurrence.condition_concept_id", "SNOMED"),
    "diagnosis.icd10": ("ICD10", "condition_occurrence.condition_concept_id", "SNOMED"),
    "prescription.atc": ("ATC", "drug_exposure.drug_concept_id", "RxNorm"),
    "death.cause": ("ICD10", "death.cause_concept_id", "SNOMED"),
}


def standard_mapping(variable_code: str) -> dict | None:
    """How many codes of a coded variable map to an OMOP standard concept (docs/vocabularies.md).

    Read from the shipped files (warehouse/data/concept_maps.csv): no database query.
    """
    if variable_code not in CODED_VARIABLES:
        return None
    vocabulary, column, target = CODED_VARIABLES[variable_code]
    mapped, total = codelists.mapping_coverage(vocabulary)
    return {
        "variable": variable_code,
        "vocabulary": vocabulary,
        "column": column,
        "target": target,
        "mapped": mapped,
        "total": total,
    }


class CatalogueView(PermissionView):
    permission = Permission.VIEW_CATALOGUE
    template_name = "warehouse/catalogue.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = CatalogueFilterForm(request.GET or None)
        valid = form.is_valid() if form.is_bound else True
        data = form.cleaned_data if form.is_bound and valid else {}
        variables = catalogue.search(
            data.get("q", ""),
            table=data.get("table", ""),
            sensitivity=data.get("sensitivity", ""),
        )
        rates = fill_rates()
        rows = [
            {
                "variable": variable,
                "fill_rate": rates.rates.get(variable.code),
                "mapping": standard_mapping(variable.code),
            }
            for variable in variables
        ]
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "rows": rows, "total": len(catalogue.VARIABLES), "rates": rates},
            status=200 if valid else 400,
        )


class FeasibilityView(PermissionView):
    """Counts while drafting a request; every query is audited (MIN-11)."""

    permission = Permission.RUN_FEASIBILITY_COUNT
    template_name = "warehouse/feasibility.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(request, self.template_name, self._context(CohortCriteriaForm()))

    @staticmethod
    def _context(form, **extra) -> dict:
        return {
            "form": form,
            "threshold": settings.EDS_SMALL_CELL_THRESHOLD,
            "budget": settings.EDS_FEASIBILITY_DAILY_BUDGET,
            **extra,
        }

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CohortCriteriaForm(request.POST)
        template = (
            "warehouse/_feasibility_result.html"
            if request.headers.get("HX-Request")
            else self.template_name
        )
        # A partial answer also replaces each criterion's error list beside its field (htmx
        # out-of-band swap), so that an unknown code is flagged where it was typed.
        oob = bool(request.headers.get("HX-Request"))
        if not form.is_valid():
            return TemplateResponse(request, template, self._context(form, oob=oob), status=400)
        criteria = form.criteria()
        via = "htmx" if request.headers.get("HX-Request") else "page"
        result = feasibility_count(criteria, by=request.user, via=via)
        record_event(
            action="feasibility.counted",
            actor=request.user,
            target_type="warehouse.cohort",
            after={"criteria": criteria.as_dict(), **result.as_dict()},
        )
        status = 429 if result.refused == Refusal.BUDGET else 200
        response = TemplateResponse(
            request, template, self._context(form, result=result, oob=oob), status=status
        )
        if status == 429:
            response["Retry-After"] = str(seconds_until_tomorrow())
        return response


class FeasibilityLogForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The log is kept for the guard's window; older counts are not compared any more.
        self.fields["days"] = forms.IntegerField(
            label=_("Days shown"),
            min_value=1,
            max_value=settings.EDS_FEASIBILITY_WINDOW_DAYS,
            required=False,
        )


CRITERIA_LABELS = {
    "period_start": _("From"),
    "period_end": _("To (inclusive)"),
    "age_min": _("Minimum age (years)"),
    "age_max": _("Maximum age (years)"),
    "sex": _("Sex"),
    "icpc2_codes": _("ICPC-2 codes"),
    "icd10_codes": _("ICD-10 codes"),
    "visit_kinds": _("Kinds of care"),
    "departements": _("Départements of the associations"),
    "associations": _("Associations"),
}
RULE_LABELS = {
    "budget": _("daily budget used up"),
    "nested": _("nested in an earlier count, small difference"),
    "close": _("differs from an earlier count by a few persons or episodes"),
    "split": _("an earlier count minus some of its parts leaves a small group"),
    "square": _("four counts combine into a small group (inclusion-exclusion)"),
    "identical": _("same criteria as an earlier count"),
}


def criteria_text(criteria: dict) -> str:
    parts = []
    for name, label in CRITERIA_LABELS.items():
        value = criteria.get(name)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        parts.append(f"{label}: {value}")
    return "; ".join(parts) or str(_("whole warehouse"))


class FeasibilityLogView(PermissionView):
    """The DPO's view of feasibility counts: by user and day, bursts and refusals (MIN-11).

    True figures, sketches and record keys are never shown: only what each user was shown.
    """

    permission = Permission.VIEW_FEASIBILITY_LOG
    template_name = "warehouse/feasibility_log.html"
    default_days = 14

    def get(self, request: HttpRequest) -> HttpResponse:
        form = FeasibilityLogForm(request.GET or None)
        valid = form.is_valid() if form.is_bound else True
        days = (form.cleaned_data.get("days") if form.is_bound and valid else None) or min(
            self.default_days, settings.EDS_FEASIBILITY_WINDOW_DAYS
        )
        since = timezone.now() - timedelta(days=days)
        day_rows = count_guard.daily_summary(since)
        refused = count_guard.refusals(since)
        ids = {row.user_id for row in day_rows} | {row.user_id for row in refused}
        users: dict[int | None, Any] = {
            user.pk: user
            for user in get_user_model().objects.filter(pk__in=[i for i in ids if i is not None])
        }
        refusal_rows = [
            {
                "log": row,
                "user": users.get(row.user_id),
                "rule": RULE_LABELS.get(row.rule, row.rule),
                "criteria": criteria_text(row.criteria),
            }
            for row in refused
        ]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "form": form,
                "days": days,
                "day_rows": [(row, users.get(row.user_id)) for row in day_rows],
                "refusal_rows": refusal_rows,
                "burst_nested": count_guard.BURST_NESTED,
                "burst_minutes": count_guard.BURST_MINUTES,
                "budget": settings.EDS_FEASIBILITY_DAILY_BUDGET,
                "window": settings.EDS_FEASIBILITY_WINDOW_DAYS,
            },
            status=200 if valid else 400,
        )
