"""The DPO's breach register (SEC-08)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control

from eds_portal.authz import Permission
from eds_portal.breaches import BreachForm, record_breach, update_breach
from eds_portal.models import BreachIncident
from eds_portal.views.base import PermissionView


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, private=True)
    return response


class BreachListView(PermissionView):
    permission = Permission.VIEW_PROCESSING_RECORD
    template_name = "eds_portal/breaches.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return _private(
            TemplateResponse(
                request,
                self.template_name,
                {"breaches": BreachIncident.objects.all()[:200], "form": BreachForm()},
            )
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BreachForm(request.POST)
        if not form.is_valid():
            response = TemplateResponse(
                request,
                self.template_name,
                {"breaches": BreachIncident.objects.all()[:200], "form": form},
                status=400,
            )
            return _private(response)
        record_breach(by=request.user, fields=form.cleaned_data)
        return redirect("breaches")


class BreachEditView(PermissionView):
    permission = Permission.VIEW_PROCESSING_RECORD
    template_name = "eds_portal/breach_edit.html"

    def _breach(self, pk: int) -> BreachIncident:
        breach = BreachIncident.objects.filter(pk=pk).first()
        if breach is None:
            raise Http404
        return breach

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        breach = self._breach(pk)
        return _private(
            TemplateResponse(
                request,
                self.template_name,
                {"breach": breach, "form": BreachForm(instance=breach)},
            )
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        breach = self._breach(pk)
        form = BreachForm(request.POST, instance=BreachIncident.objects.get(pk=pk))
        if not form.is_valid():
            return _private(
                TemplateResponse(
                    request, self.template_name, {"breach": breach, "form": form}, status=400
                )
            )
        update_breach(by=request.user, breach=breach, fields=form.cleaned_data)
        return redirect("breaches")
