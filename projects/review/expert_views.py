"""Pages of external experts: the secretariat invites one to review a file; the expert follows
the e-mailed link (creating their account on the way if needed) and accepts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from eds_portal.accounts.actions import AccountError, create_invited_account, current_charter
from eds_portal.accounts.forms import InvitationSignupForm
from eds_portal.accounts.views import charter_text
from eds_portal.authz import Permission
from eds_portal.models import User
from eds_portal.views.base import PublicView
from projects.models import ExpertInvitation
from projects.review.experts import (
    ExpertRefused,
    accept_expert_invitation,
    invitation_for_token,
    invite_expert,
    is_expert_on,
    open_refusal,
)
from projects.review.forms import ExpertInviteForm
from projects.review.selectors import ASSIGNABLE_STATUSES
from projects.views import ProjectView

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class ExpertsView(ProjectView):
    """The secretariat invites external experts to review this file and follows them."""

    permission = Permission.ASSIGN_RAPPORTEURS
    object_permission = Permission.ASSIGN_RAPPORTEURS
    template_name = "projects/review/experts.html"

    def _render(self, request, form=None, status=200):
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": self.project,
                "form": form or ExpertInviteForm(),
                "invitations": ExpertInvitation.objects.filter(project=self.project)
                .select_related("expert", "invited_by")
                .order_by("-created_at", "-pk"),
                "assignable": self.project.review_status in ASSIGNABLE_STATUSES,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ExpertInviteForm(request.POST)
        if form.is_valid():
            try:
                invite_expert(
                    project=self.project,
                    email=form.cleaned_data["email"],
                    due_date=form.cleaned_data["due_date"],
                    by=request.user,
                )
            except ExpertRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(
                    request, _("The expert has been invited by e-mail to review this file.")
                )
                return redirect("review_experts", pk=pk)
        return self._render(request, form, status=400)


@method_decorator(never_cache, name="dispatch")
class ExpertInvitationView(PublicView):
    """Behind the e-mailed link: create the account (unknown address), sign in (known address),
    or accept (signed in with the invited address). Whoever else holds the link gets nothing."""

    template_name = "projects/review/expert_invitation.html"

    def _invitation(self, token: str) -> ExpertInvitation:
        invitation = invitation_for_token(token)
        if invitation is None:
            raise Http404
        return invitation

    def _render(self, request, invitation, *, form=None, refusal="", status=200):
        charter = current_charter()
        return TemplateResponse(
            request,
            self.template_name,
            {
                "invitation": invitation,
                "form": form,
                "refusal": refusal,
                "charter": charter,
                "charter_text": charter_text(charter) if charter and form else "",
            },
            status=status,
        )

    def _signup_form(self, invitation, data=None) -> InvitationSignupForm:
        return InvitationSignupForm(
            data, email=invitation.email, with_charter=current_charter() is not None
        )

    def _route(self, request, invitation):
        """Where to go instead of this page, or a refusal page; None to go on."""
        user = request.user
        if user.is_authenticated and is_expert_on(user, invitation.project):
            # The link stays the expert's way back to the file.
            return redirect("review_mine", pk=invitation.project_id)
        refusal = open_refusal(invitation)
        if refusal:
            return self._render(request, invitation, refusal=refusal, status=410)
        if user.is_authenticated and user.email.lower() != invitation.email.lower():
            return self._render(
                request,
                invitation,
                refusal=_(
                    "This invitation was sent to another e-mail address. Sign in with the "
                    "account of the address that received it."
                ),
                status=403,
            )
        if (
            not user.is_authenticated
            and User.objects.filter(email__iexact=invitation.email).exists()
        ):
            return redirect_to_login(request.get_full_path())
        return None

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        routed = self._route(request, invitation)
        if routed is not None:
            return routed
        if request.user.is_authenticated:
            return self._render(request, invitation)
        return self._render(request, invitation, form=self._signup_form(invitation))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        routed = self._route(request, invitation)
        if routed is not None:
            return routed
        if request.user.is_authenticated:
            user = request.user
        else:
            form = self._signup_form(invitation, request.POST)
            if not form.is_valid():
                return self._render(request, invitation, form=form, status=400)
            try:
                with transaction.atomic():
                    # An expert's account has no role: only the grant on this file.
                    user = create_invited_account(
                        email=invitation.email,
                        full_name=form.cleaned_data["full_name"],
                        password=form.cleaned_data["password1"],
                        charter=current_charter() if "accept_charter" in form.fields else None,
                        role=None,
                    )
                    accept_expert_invitation(token=token, by=user)
            except (AccountError, ExpertRefused) as refusal:
                return self._render(request, invitation, refusal=str(refusal), status=409)
            login(request, user, backend=MODEL_BACKEND)
            messages.success(
                request, _("Your account is ready. Declare your interests in the file first.")
            )
            return redirect("project_interests", pk=invitation.project_id)
        try:
            accept_expert_invitation(token=token, by=user)
        except ExpertRefused as refusal:
            return self._render(request, invitation, refusal=str(refusal), status=403)
        messages.success(
            request, _("Invitation accepted. Declare your interests in the file first.")
        )
        return redirect("project_interests", pk=invitation.project_id)
