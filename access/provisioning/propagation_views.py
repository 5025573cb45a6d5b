"""Pages of OPP-11: the DPO's list of deletions awaited, one propagation (the pseudonyms to
delete, the lead's confirmation, the DPO's exception)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.provisioning import propagation as propagation_module
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.views.base import PermissionView
from projects.permissions import is_lead


class ExceptionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the exception"),
        help_text=gettext_lazy(
            "Why the rows need not be deleted (for instance GDPR art. 17(3)(d): erasure would "
            "seriously impair a finished analysis). Kept in the audit trail; name no one."
        ),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class PropagationListView(PermissionView):
    """The DPO's page: deletions awaited (OPP-11), the most urgent first."""

    permission = Permission.MANAGE_OPPOSITIONS
    template_name = "access/provisioning/propagations.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request,
            self.template_name,
            {
                "propagations": list(propagation_module.open_propagations()[:200]),
                "today": timezone.localdate(),
            },
        )


class _PropagationView(PermissionView):
    permission = Permission.VIEW_RUNS

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            # Strangers learn nothing of a propagation they may not see.
            self.propagation = get_object_for_user(
                request.user, propagation_module.propagations(), kwargs["pk"], Permission.VIEW_RUNS
            )
        return super().dispatch(request, *args, **kwargs)

    def render(self, request: HttpRequest, form: ExceptionForm | None = None, status: int = 200):
        propagation = self.propagation
        can_record_exception = has_permission(request.user, Permission.MANAGE_OPPOSITIONS)
        return TemplateResponse(
            request,
            "access/provisioning/propagation.html",
            {
                "propagation": propagation,
                "run": propagation.run,
                "pseudonym_column": propagation_module.pseudonym_column(propagation.run),
                "omop": propagation_module.is_omop(propagation.run),
                "pseudonym_files": propagation_module.pseudonym_files(propagation.run),
                "can_confirm": propagation.is_open
                and is_lead(request.user, propagation.run.project),
                "can_record_exception": propagation.is_open and can_record_exception,
                "form": form or (ExceptionForm() if can_record_exception else None),
            },
            status=status,
        )


class PropagationDetailView(_PropagationView):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.render(request)


class ConfirmDeletionView(_PropagationView):
    """The project lead confirms that the rows were deleted from every copy."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            propagation_module.confirm_deletion(
                propagation=self.propagation,
                by=request.user,
                whole_dataset=request.POST.get("deleted") == "dataset",
            )
        except propagation_module.PropagationRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("The deletion is confirmed. Thank you."))
        return redirect("provisioning_propagation", pk=self.propagation.pk)


class RecordExceptionView(_PropagationView):
    permission = Permission.MANAGE_OPPOSITIONS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ExceptionForm(request.POST)
        if not form.is_valid():
            return self.render(request, form=form, status=400)
        try:
            propagation_module.record_exception(
                propagation=self.propagation, by=request.user, reason=form.cleaned_data["reason"]
            )
        except propagation_module.PropagationRefused as refused:
            form.add_error(None, str(refused))
            return self.render(request, form=form, status=400)
        except PermissionDenied:
            raise
        messages.success(request, _("The exception is recorded."))
        return redirect("provisioning_propagation", pk=self.propagation.pk)
