"""Account pages: charter, password reset and change, e-mail change."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from eds_portal.accounts.actions import (
    AccountError,
    accept_charter,
    charter_due,
    confirm_email_change,
    current_charter,
    password_changed,
    request_email_change,
)
from eds_portal.accounts.forms import CharterForm, EmailChangeForm, QueuedPasswordResetForm
from eds_portal.accounts.gate import CHARTER_DUE_SESSION_KEY
from eds_portal.views.base import (
    AUTHENTICATED,
    PUBLIC,
    AuthenticatedHttpRequest,
    AuthenticatedView,
    PublicView,
)


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


def charter_text(charter) -> str:
    return charter.text_en if (get_language() or "fr").startswith("en") else charter.text_fr


@method_decorator(never_cache, name="dispatch")
class CharterView(AuthenticatedView):
    """The charter in force, to read and accept (SEC-05); also readable once accepted."""

    template_name = "registration/charter.html"

    def _render(self, request, form, *, status=200):
        charter = current_charter()
        return TemplateResponse(
            request,
            self.template_name,
            {
                "charter": charter,
                "charter_text": charter_text(charter) if charter else "",
                "due": charter is not None and charter_due(request.user) is not None,
                "form": form,
                "next": _safe_next(request),
            },
            status=status,
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._render(request, CharterForm())

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = CharterForm(request.POST)
        charter = current_charter()
        if charter is None:
            request.session.pop(CHARTER_DUE_SESSION_KEY, None)
            return redirect(_safe_next(request))
        # The version read on the page: a charter published meanwhile is shown again.
        if not form.is_valid() or request.POST.get("version") != str(charter.version):
            return self._render(request, form, status=400)
        accept_charter(user=request.user, charter=charter)
        request.session.pop(CHARTER_DUE_SESSION_KEY, None)
        messages.success(request, _("Thank you: you accepted the confidentiality charter."))
        return redirect(_safe_next(request))


class PasswordResetView(auth_views.PasswordResetView):
    """Same page whether the address has an account or not; audited and limited."""

    access = PUBLIC
    form_class = QueuedPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        form.save(request=self.request)
        if form.too_many_from_client:
            return TemplateResponse(
                self.request,
                "registration/password_reset_form.html",
                {"form": form, "too_many": True},
                status=429,
            )
        return redirect(self.success_url)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    access = PUBLIC
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    access = PUBLIC
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(user=form.user, by=form.user, how="reset")
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    access = PUBLIC
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    access = AUTHENTICATED
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(user=form.user, by=self.request.user, how="change")
        messages.success(self.request, _("Your password was changed."))
        return response


@method_decorator(never_cache, name="dispatch")
class EmailChangeView(AuthenticatedView):
    template_name = "registration/email_change.html"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return TemplateResponse(
            request, self.template_name, {"form": EmailChangeForm(user=request.user)}
        )

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = EmailChangeForm(request.POST, user=request.user)
        if not form.is_valid():
            return TemplateResponse(request, self.template_name, {"form": form}, status=400)
        request_email_change(user=request.user, new_email=form.cleaned_data["new_email"])
        # The same answer when the address belongs to someone else.
        return TemplateResponse(
            request,
            self.template_name,
            {"sent_to": form.cleaned_data["new_email"]},
        )


@method_decorator(never_cache, name="dispatch")
class EmailChangeConfirmView(AuthenticatedView):
    """The link of the confirmation mail: shown, then applied by a button (a POST), so that a
    mail scanner following links changes nothing."""

    template_name = "registration/email_change_confirm.html"

    def get(self, request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
        return TemplateResponse(request, self.template_name, {})

    def post(self, request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
        try:
            new_email = confirm_email_change(user=request.user, token=token)
        except AccountError as refusal:
            return TemplateResponse(
                request, self.template_name, {"refusal": refusal.message}, status=400
            )
        messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": new_email})
        return redirect("home")


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class OidcLoginView(PublicView):
    """Sends the browser to the provider (authorization code flow with PKCE)."""

    def get(self, request: HttpRequest, provider: str) -> HttpResponse:
        from eds_portal.accounts import oidc

        remote = oidc.client(provider)
        if remote is None:
            raise Http404
        request.session[oidc.NEXT_SESSION_KEY] = _safe_next(request)
        redirect_uri = settings.EDS_PUBLIC_URL + reverse("oidc_callback", args=[provider])
        extra = {}
        if oidc.providers()[provider].get("acr_values"):
            extra["acr_values"] = oidc.providers()[provider]["acr_values"]
        return remote.authorize_redirect(request, redirect_uri, **extra)


@method_decorator(never_cache, name="dispatch")
class OidcCallbackView(PublicView):
    """The provider sends the browser back here with a code; the code is exchanged, the ID token
    checked (signature, issuer, audience, expiry, nonce), the account found by its subject."""

    template_name = "registration/oidc_failed.html"

    def _failed(self, request: HttpRequest, provider: str, reason: str, message: str):
        from eds_portal.accounts import oidc

        oidc.record_failure(provider=provider, reason=reason)
        return TemplateResponse(request, self.template_name, {"message": message}, status=403)

    def get(self, request: HttpRequest, provider: str) -> HttpResponse:
        import requests
        from authlib.common.errors import AuthlibBaseError
        from joserfc.errors import JoseError

        from eds_portal.accounts import oidc

        remote = oidc.client(provider)
        if remote is None:
            raise Http404
        failed = _("Sign-in with the identity provider failed. Try again.")
        try:
            token = remote.authorize_access_token(request)
        except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as exc:
            return self._failed(request, provider, type(exc).__name__, failed)
        claims = token.get("userinfo") if isinstance(token, dict) else None
        if not claims:
            return self._failed(request, provider, "no ID token", failed)
        invited_email = request.session.pop(oidc.INVITED_EMAIL_SESSION_KEY, "")
        next_url = request.session.pop(oidc.NEXT_SESSION_KEY, "/")
        try:
            outcome = oidc.sign_in(
                provider=provider, claims=dict(claims), invited_email=invited_email
            )
        except AccountError as refusal:
            return self._failed(request, provider, "no account", refusal.message)
        login(request, outcome.user, backend=MODEL_BACKEND)
        if outcome.strong:
            request.session[oidc.STRONG_AUTH_SESSION_KEY] = True
        return redirect(next_url)
