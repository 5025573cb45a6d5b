"""The data catalogue and feasibility counts, for those who draft and judge data requests."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.authz import Permission
from eds_portal.views.base import PermissionView
from warehouse import catalogue
from warehouse.cohort import CohortCriteriaForm, feasibility_count
from warehouse.selectors import fill_rates


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Words to look for"), required=False, max_length=100)
    table = forms.ChoiceField(label=_("OMOP table"), required=False)
    sensitivity = forms.ChoiceField(label=_("Sensitivity"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["table"].choices = [("", _("All"))] + [
            (table, table) for table in catalogue.tables()
        ]
        self.fields["sensitivity"].choices = [("", _("All")), *catalogue.Sensitivity.choices]


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
            {"variable": variable, "fill_rate": rates.rates.get(variable.code)}
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
        return {"form": form, "threshold": settings.EDS_SMALL_CELL_THRESHOLD, **extra}

    def post(self, request: HttpRequest) -> HttpResponse:
        form = CohortCriteriaForm(request.POST)
        template = (
            "warehouse/_feasibility_result.html"
            if request.headers.get("HX-Request")
            else self.template_name
        )
        if not form.is_valid():
            return TemplateResponse(request, template, self._context(form), status=400)
        criteria = form.criteria()
        result = feasibility_count(criteria)
        record_event(
            action="feasibility.counted",
            actor=request.user,
            target_type="warehouse.cohort",
            after={"criteria": criteria.as_dict(), **result.as_dict()},
        )
        return TemplateResponse(request, template, self._context(form, result=result))
