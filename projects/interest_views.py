"""Pages of the withdrawal of a declared interest: the member's request, the secretariat's answer.

The rules and the writes are in ``projects/interest_actions.py``; the member's request is made
from the declaration page (``InterestDeclarationView``), which shows its state.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from eds_portal.authz import Permission, get_object_for_user
from eds_portal.errors import Refused
from eds_portal.views.base import PermissionView
from projects.interest_actions import MAX_TEXT_LENGTH, answer_interest_withdrawal
from projects.interest_actions import request_interest_withdrawal as request_withdrawal
from projects.models import InterestWithdrawal, WithdrawalStatus
from projects.views import InterestDeclarationView, InterestForm


class WithdrawalRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Why your interest no longer stands"),
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The secretariat reads it and accepts or refuses; until it accepts, you remain "
            "conflicted on this project."
        ),
    )


class WithdrawalAnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Answer"),
        choices=[
            ("accept", _("Accept: the member is no longer conflicted")),
            ("refuse", _("Refuse: the interest stands")),
        ],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("Answer to the member"),
        required=False,
        max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when refusing: the member reads it."),
    )


def answer_form(withdrawal: InterestWithdrawal, data=None) -> WithdrawalAnswerForm:
    """One form per request on the same page: the prefix keeps their fields' ids apart."""
    return WithdrawalAnswerForm(data, prefix=f"withdrawal-{withdrawal.pk}")


class InterestWithdrawalRequestView(InterestDeclarationView):
    """The member's request, posted from the declaration page (404 when it has no page)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return redirect("project_interests", pk=pk)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = WithdrawalRequestForm(request.POST)
        if form.is_valid():
            try:
                request_withdrawal(
                    project=self.project, by=request.user, reason=form.cleaned_data["reason"]
                )
            except Refused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.info(
                    request,
                    _(
                        "Request sent to the secretariat. Until it accepts, your interest "
                        "stands: you neither read this file nor vote on it."
                    ),
                )
                return redirect("project_interests", pk=pk)
        return self._render(request, InterestForm(), status=400, withdrawal_form=form)


class InterestWithdrawalListView(PermissionView):
    """The secretariat's requests to answer, and the latest answered ones."""

    permission = Permission.DECIDE_INTEREST_WITHDRAWAL
    template_name = "projects/interest_withdrawals.html"

    def _render(self, request, forms_by_id=None, status=200):
        forms_by_id = forms_by_id or {}
        queryset = InterestWithdrawal.objects.select_related("project", "member", "decided_by")
        pending = list(
            queryset.filter(status=WithdrawalStatus.PENDING).order_by("requested_at", "pk")
        )
        answered = list(
            queryset.exclude(status=WithdrawalStatus.PENDING).order_by("-decided_at", "-pk")[:20]
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "pending": [
                    {"withdrawal": w, "form": forms_by_id.get(w.pk) or answer_form(w)}
                    for w in pending
                ],
                "answered": answered,
            },
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request)


class InterestWithdrawalAnswerView(PermissionView):
    permission = Permission.DECIDE_INTEREST_WITHDRAWAL

    def post(self, request: HttpRequest, withdrawal_id: int) -> HttpResponse:
        withdrawal = get_object_for_user(
            request.user, InterestWithdrawal, withdrawal_id, self.permission
        )
        form = answer_form(withdrawal, request.POST)
        if form.is_valid():
            accept = form.cleaned_data["decision"] == "accept"
            try:
                answer_interest_withdrawal(
                    withdrawal=withdrawal,
                    by=request.user,
                    accept=accept,
                    answer=form.cleaned_data["answer"],
                )
            except Refused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(
                    request,
                    _("Request accepted; the member has been told.")
                    if accept
                    else _("Request refused; the member has been told."),
                )
                return redirect("interest_withdrawals")
        return InterestWithdrawalListView(request=request)._render(
            request, {withdrawal.pk: form}, status=400
        )


def pending_withdrawals_panel(request: HttpRequest) -> dict:
    """The secretariat's home panel: the requests awaiting its answer, oldest first."""
    pending = list(
        InterestWithdrawal.objects.filter(status=WithdrawalStatus.PENDING)
        .select_related("project")
        .order_by("requested_at", "pk")[:10]
    )
    return {"pending": pending}


def register() -> None:
    """Called by ProjectsConfig.ready (through the review package): the secretariat's panel."""
    from eds_portal.home import HomePanel, register_panel
    from eds_portal.roles import Role

    register_panel(
        HomePanel(
            key="interest_withdrawals",
            roles=frozenset({Role.SECRETARIAT}),
            title=_("Declared interests to withdraw"),
            template_name="projects/panels/interest_withdrawals.html",
            context=pending_withdrawals_panel,
        )
    )
