"""Session authentication that steps aside when the request carries an API token."""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication, get_authorization_header


class SessionUnlessToken(SessionAuthentication):
    """A script holding both a session cookie and a token authenticates with the token: the
    session (and its CSRF check) is not consulted. Anonymous requests still get a 403, as
    with the session first."""

    def authenticate(self, request):
        if get_authorization_header(request).split(b" ", 1)[0].lower() == b"token":
            return None
        return super().authenticate(request)


class SessionUnlessTokenScheme(SessionScheme):
    """The schema documents it as the session cookie it is."""

    target_class = "eds_portal.api.authentication.SessionUnlessToken"
