"""The charter gate (SEC-05): an account that has not accepted the charter in force sees nothing
else. Whether it is due is read once, at sign-in, and kept in the session: pages cost no query."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from eds_portal.accounts.actions import charter_due
from eds_portal.middleware import STRONG_AUTH_SESSION_KEY

CHARTER_DUE_SESSION_KEY = "eds_charter_due"

# Pages an account may reach before accepting the charter.
_EXEMPT_NAMES = (
    "charter",
    "login",
    "logout",
    "two_factor_setup",
    "two_factor_verify",
    "set_language",
    "healthz",
)


@receiver(user_logged_in)
def note_charter_due(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    # A strong authentication asserted by an identity provider counts for that login only; the
    # OIDC view sets it again after its own login (eds_portal/accounts/oidc.py).
    request.session.pop(STRONG_AUTH_SESSION_KEY, None)
    charter = charter_due(user)
    if charter is None:
        request.session.pop(CHARTER_DUE_SESSION_KEY, None)
    else:
        request.session[CHARTER_DUE_SESSION_KEY] = charter.version


class RequireCharterMiddleware:
    """After the second factor: the charter before any other page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths: tuple[str, ...] | None = None

    def _exempt(self, path: str) -> bool:
        if self._exempt_paths is None:
            self._exempt_paths = tuple(reverse(name) for name in _EXEMPT_NAMES)
        return path in self._exempt_paths or path.startswith("/" + settings.STATIC_URL.lstrip("/"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.get(CHARTER_DUE_SESSION_KEY)
            and request.user.is_authenticated
            and not self._exempt(request.path)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("Accept the confidentiality charter on the portal first.")},
                    status=403,
                )
            return redirect(f"{reverse('charter')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
