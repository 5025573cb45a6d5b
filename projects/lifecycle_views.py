"""The life of a project receiving data: suspend, resume, close (secretariat, DPO)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from projects import workflow
from projects.actions import change_lifecycle
from projects.views import ProjectView


def lifecycle_choices(project, user) -> list[tuple[str, str]]:
    return [(t.name, t.label) for t in workflow.lifecycle_available(project, user)]


class LifecycleForm(forms.Form):
    transition = forms.ChoiceField(label=_("Change"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Grounds"),
        help_text=_("Kept in the audit trail: state the grounds, do not name people."),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transition"].choices = choices

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("transition")
        if name in workflow.REASON_REQUIRED and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the grounds for this change."))
        return cleaned


class LifecycleView(ProjectView):
    """Offered to whom the workflow allows one of the changes; refused (403) to the others."""

    template_name = "projects/lifecycle.html"

    def _choices(self, request: HttpRequest) -> list[tuple[str, str]]:
        choices = lifecycle_choices(self.project, request.user)
        if not choices:
            raise PermissionDenied
        return choices

    def _render(self, request: HttpRequest, form: LifecycleForm, status: int = 200):
        return TemplateResponse(
            request, self.template_name, {"project": self.project, "form": form}, status=status
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, LifecycleForm(choices=self._choices(request)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = LifecycleForm(request.POST, choices=self._choices(request))
        if form.is_valid():
            try:
                project = change_lifecycle(
                    project=self.project,
                    name=form.cleaned_data["transition"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except workflow.TransitionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                message = _("The project is now “%(status)s”.")
                messages.success(request, message % {"status": project.get_status_display()})
                return redirect("project_detail", pk=pk)
        return self._render(request, form, status=400)
