"""Request-wide concerns: the audit context and the two-factor gate for staff."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from eds_portal.audit import reset_request_ip, set_request_address
from eds_portal.client_address import client_ip

__all__ = [
    "AuditContextMiddleware",
    "NoStoreMiddleware",
    "RequireTwoFactorMiddleware",
    "client_ip",
]


# Set by ``PublicView`` (objection form, status page, transparency portal): their events record
# only a hash of the address, whoever is signed in.
PUBLIC_PAGE_ATTRIBUTE = "eds_public_page"


class AuditContextMiddleware:
    """Makes the client's address available to ``record_event`` during the request.

    Whether it is kept or hashed (LOG-04) is asked when an event is written: by then the login
    view or the API's token authentication may have set ``request.user``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_address(
            client_ip(request),
            public_page=lambda: getattr(request, PUBLIC_PAGE_ATTRIBUTE, False),
            signed_in=lambda: bool(
                getattr(request, "user", None) and request.user.is_authenticated
            ),
        )
        try:
            return self.get_response(request)
        finally:
            reset_request_ip(token)


# Set at an OpenID Connect login whose provider asserted strong authentication (acr/amr values
# named in its settings, eds_portal/accounts/oidc.py): that login counts as two factors.
STRONG_AUTH_SESSION_KEY = "eds_oidc_strong_auth"

# Pages a staff member may reach before passing the second factor.
_TWO_FACTOR_EXEMPT_NAMES = (
    "login",
    "logout",
    "two_factor_setup",
    "two_factor_verify",
    "set_language",
    "healthz",
)


class RequireTwoFactorMiddleware:
    """Staff roles must pass TOTP before anything else (SEC-03)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths: tuple[str, ...] | None = None

    def _exempt(self, path: str) -> bool:
        if self._exempt_paths is None:
            self._exempt_paths = tuple(reverse(name) for name in _TWO_FACTOR_EXEMPT_NAMES)
        return path in self._exempt_paths or path.startswith("/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.requires_two_factor
            and not user.is_verified()
            and not request.session.get(STRONG_AUTH_SESSION_KEY)
            and not self._exempt(request.path)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("Two-factor verification is required for this account.")},
                    status=403,
                )
            has_device = user.totpdevice_set.filter(confirmed=True).exists()
            target = "two_factor_verify" if has_device else "two_factor_setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store, private`` on every answer that may carry identities, audit data,
    registers or project content (SEC-06 item 6 of issue 17): whatever a signed-in person reads,
    every API answer, and the public pages that show a person's own request (objection form and
    status). What a view already decided (a download's own header, the transparency portal's
    public pages) is left as it is."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path_info.startswith(
            NO_STORE_PREFIXES
        ):
            patch_cache_control(response, no_store=True, private=True)
        return response


# Public paths whose pages carry a person's own data (what they typed, their request's status).
NO_STORE_PREFIXES = ("/api/", "/opposition/", "/accounts/", "/projects/invitations/")
