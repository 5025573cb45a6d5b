"""Login, logout and the second factor (TOTP) pages."""

from __future__ import annotations

from base64 import b32encode
from io import BytesIO
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.actions import confirm_totp_device, pending_totp_device
from eds_portal.audit import record_event
from eds_portal.views.base import PUBLIC, AuthenticatedHttpRequest, AuthenticatedView

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class LoginView(auth_views.LoginView):
    access = PUBLIC
    template_name = "registration/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Single sign-on buttons, one per configured provider (eds_portal/accounts/oidc.py).
        context["oidc_providers"] = [
            (name, config["label"]) for name, config in settings.EDS_OIDC_PROVIDERS.items()
        ]
        return context


class LogoutView(auth_views.LogoutView):
    # POST only (Django 5): a link cannot sign someone out behind their back.
    access = PUBLIC


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not (token.isascii() and token.isdigit()):
            raise forms.ValidationError(_("The code has six digits."))
        return token


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "/"


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    # Drop the XML declaration so the SVG can sit inside the page (no data: URL, no script).
    return svg[svg.index("<svg") :]


@method_decorator(never_cache, name="dispatch")
class TwoFactorSetupView(AuthenticatedView):
    """Enrolment: scan the QR code (or type the key), then prove it with a first code."""

    template_name = "registration/two_factor_setup.html"

    def _context(self, request: AuthenticatedHttpRequest, form: TokenForm) -> dict:
        device = pending_totp_device(user=request.user)
        return {
            "form": form,
            "qr_svg": mark_safe(_qr_svg(device.config_url)),
            "manual_key": b32encode(device.bin_key).decode("ascii").rstrip("="),
            "next": _safe_next(request),
            "already_enrolled": request.user.totpdevice_set.filter(confirmed=True).exists(),
        }

    @staticmethod
    def _must_verify_first(request: AuthenticatedHttpRequest) -> bool:
        # Replacing a device (new phone) needs the current one first: a stolen password
        # alone must not let anyone enrol their own authenticator.
        return (
            not request.user.is_verified()
            and request.user.totpdevice_set.filter(confirmed=True).exists()
        )

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if self._must_verify_first(request):
            return redirect(
                f"{reverse('two_factor_verify')}?{urlencode({'next': _safe_next(request)})}"
            )
        return TemplateResponse(request, self.template_name, self._context(request, TokenForm()))

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if self._must_verify_first(request):
            return redirect(
                f"{reverse('two_factor_verify')}?{urlencode({'next': _safe_next(request)})}"
            )
        form = TokenForm(request.POST)
        if form.is_valid():
            device = pending_totp_device(user=request.user)
            outcome = _check_token(device, form.cleaned_data["token"])
            if outcome == "ok":
                confirm_totp_device(device=device, by=request.user)
                otp_login(request, device)
                record_event(action="auth.otp_verified", actor=request.user, target=request.user)
                messages.success(request, _("Two-factor login is now active on your account."))
                return redirect(_safe_next(request))
            record_event(
                action="auth.otp_failed",
                actor=request.user,
                target=request.user,
                after={"stage": "enrolment", "throttled": outcome == "throttled"},
            )
            form.add_error("token", _error_for(outcome))
        return TemplateResponse(
            request, self.template_name, self._context(request, form), status=400
        )


def _check_token(device: TOTPDevice, token: str) -> str:
    """ "ok", "wrong", or "throttled" (django-otp doubles the wait after each failure)."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        return "throttled"
    return "ok" if device.verify_token(token) else "wrong"


def _error_for(outcome: str) -> StrOrPromise:
    if outcome == "throttled":
        return _("Too many wrong codes: wait a few seconds, then enter the code now shown.")
    return _(
        "This code is not valid. Check that your phone is on time and enter the code "
        "currently shown."
    )


@method_decorator(never_cache, name="dispatch")
class TwoFactorVerifyView(AuthenticatedView):
    """Second step of the login for accounts with a confirmed device."""

    template_name = "registration/two_factor_verify.html"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if not request.user.totpdevice_set.filter(confirmed=True).exists():
            return redirect(
                f"{reverse('two_factor_setup')}?{urlencode({'next': _safe_next(request)})}"
            )
        return TemplateResponse(
            request, self.template_name, {"form": TokenForm(), "next": _safe_next(request)}
        )

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        form = TokenForm(request.POST)
        if form.is_valid():
            outcome = "wrong"
            for device in request.user.totpdevice_set.filter(confirmed=True):
                outcome = _check_token(device, form.cleaned_data["token"])
                if outcome == "ok":
                    otp_login(request, device)
                    record_event(
                        action="auth.otp_verified", actor=request.user, target=request.user
                    )
                    return redirect(_safe_next(request))
            record_event(
                action="auth.otp_failed",
                actor=request.user,
                target=request.user,
                after={"stage": "login", "throttled": outcome == "throttled"},
            )
            form.add_error("token", _error_for(outcome))
        return TemplateResponse(
            request, self.template_name, {"form": form, "next": _safe_next(request)}, status=400
        )
