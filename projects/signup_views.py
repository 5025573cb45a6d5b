"""The page behind an invitation link for someone with no account yet: they choose a password,
accept the charter and land in the project (issue 13)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from eds_portal.accounts.actions import AccountError, create_invited_account, current_charter
from eds_portal.accounts.forms import InvitationSignupForm
from eds_portal.accounts.oidc import INVITED_EMAIL_SESSION_KEY
from eds_portal.accounts.views import charter_text
from eds_portal.models import User
from eds_portal.views.base import PublicView
from projects.models import Invitation, TeamRole
from projects.team_actions import TeamError, accept_invitation, check_open, invitation_for_token

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@method_decorator(never_cache, name="dispatch")
class InvitationSignupView(PublicView):
    """Whoever holds the link may create the account of the invited address, once."""

    template_name = "projects/invitation_signup.html"

    def _invitation(self, token: str) -> Invitation:
        invitation = invitation_for_token(token)
        if invitation is None:
            raise Http404
        return invitation

    def _elsewhere(self, request: HttpRequest, invitation: Invitation, token: str):
        """Where to go instead of this page, if anywhere."""
        accept_url = reverse("project_invitation_accept", args=[token])
        if request.user.is_authenticated:
            return redirect(accept_url)
        if User.objects.filter(email__iexact=invitation.email).exists():
            return redirect_to_login(accept_url)
        return None

    def _render(self, request, invitation, form, *, refusal: str = "", status: int = 200):
        charter = current_charter()
        return TemplateResponse(
            request,
            self.template_name,
            {
                "invitation": invitation,
                "form": form,
                "charter": charter,
                "charter_text": charter_text(charter) if charter else "",
                "refusal": refusal,
                "oidc_providers": [
                    (name, config["label"]) for name, config in settings.EDS_OIDC_PROVIDERS.items()
                ],
            },
            status=status,
        )

    def _form(self, invitation: Invitation, data=None) -> InvitationSignupForm:
        return InvitationSignupForm(
            data, email=invitation.email, with_charter=current_charter() is not None
        )

    def _single_sign_on(self, request, invitation: Invitation, token: str, provider: str):
        """The invitee signs in through an identity provider instead of choosing a password:
        the account is created at the return, for the invited address (eds_portal.accounts.oidc)."""
        if provider not in settings.EDS_OIDC_PROVIDERS:
            raise Http404
        try:
            check_open(invitation)
        except TeamError as refusal:
            return self._render(request, invitation, None, refusal=refusal.message, status=410)
        request.session[INVITED_EMAIL_SESSION_KEY] = invitation.email
        accept_url = reverse("project_invitation_accept", args=[token])
        return redirect(
            f"{reverse('oidc_login', args=[provider])}?{urlencode({'next': accept_url})}"
        )

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        elsewhere = self._elsewhere(request, invitation, token)
        if elsewhere is not None:
            return elsewhere
        try:
            check_open(invitation)
        except TeamError as refusal:
            return self._render(request, invitation, None, refusal=refusal.message, status=410)
        return self._render(request, invitation, self._form(invitation))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        elsewhere = self._elsewhere(request, invitation, token)
        if elsewhere is not None:
            return elsewhere
        provider = request.POST.get("sso", "")
        if provider:
            return self._single_sign_on(request, invitation, token, provider)
        form = self._form(invitation, request.POST)
        if not form.is_valid():
            return self._render(request, invitation, form, status=400)
        try:
            # One transaction: no account is left behind when the invitation cannot be used.
            with transaction.atomic():
                user = create_invited_account(
                    email=invitation.email,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                    charter=current_charter() if "accept_charter" in form.fields else None,
                )
                membership = accept_invitation(token=token, by=user)
        except (TeamError, AccountError) as refusal:
            return self._render(request, invitation, None, refusal=refusal.message, status=409)
        login(request, user, backend=MODEL_BACKEND)
        messages.success(
            request,
            _("Your account is ready. You joined the team of %(ref)s as %(role)s.")
            % {
                "ref": invitation.project.reference,
                "role": TeamRole(membership.role).label.lower(),
            },
        )
        return redirect("project_detail", pk=invitation.project_id)
