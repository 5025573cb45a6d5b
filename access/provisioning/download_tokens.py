"""Download tokens: a recipient's script downloads a run's files after the second factor.

An API token never downloads data (it carries no second factor, SEC-03). A named recipient who
signed in and passed the second factor may create, from the run's page or the API, a download
token for that run: a random value shown once, stored as its SHA-256, bound to the user and the
run, valid ``EDS_DOWNLOAD_TOKEN_MINUTES`` (60 by default) and revocable. A script presents it as
``Authorization: Bearer <token>`` to the run's files endpoint and to each file's link; at every
request ``serving.may_serve`` checks again everything but the second factor (recipient, decision
in force, dataset neither replaced nor destroyed, project receiving data, access not ended).
Creation, revocation and every download are audited; the value never enters the trail.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from access.models_provisioning import DownloadToken, ProvisioningRun
from access.provisioning import serving
from eds_portal.audit import record_event
from eds_portal.errors import Refused

PREFIX = "edsdl_"
# 32 random bytes in URL-safe base64: 43 characters.
_FORMAT = re.compile(r"edsdl_[A-Za-z0-9_-]{43}\Z")
KEYWORD = "Bearer"


class DownloadTokenRefused(Refused):
    """The token cannot be created now; ``decision`` says why (and its HTTP status)."""

    def __init__(self, decision: serving.ServeDecision) -> None:
        self.decision = decision
        super().__init__([decision.message] if decision.message else [])


class TokenInvalid(Exception):
    """Not a token of the portal, revoked, expired, or its user may no longer sign in."""


def lifetime() -> timedelta:
    return timedelta(minutes=settings.EDS_DOWNLOAD_TOKEN_MINUTES)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def create_download_token(
    *, run: ProvisioningRun, by: Any, api_token: bool = False
) -> tuple[DownloadToken, str]:
    """A new token for ``by`` on ``run``, and its value (shown once, never stored).

    Only when ``by`` may download the run's files in this very request, second factor
    included: a session that has not passed it, or an API token (``api_token``), is refused.
    """
    decision = serving.may_serve(by, run, token=api_token)
    if not decision.allowed:
        raise DownloadTokenRefused(decision)
    value = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        token = DownloadToken.objects.create(
            user=by,
            run=run,
            key_sha256=digest(value),
            prefix=value[: len(PREFIX) + 4],
            created_at=now,
            expires_at=now + lifetime(),
        )
        record_event(
            action="provisioning.download_token_created",
            actor=by,
            target=run,
            after={
                "project": run.project.reference,
                "token": token.pk,
                "prefix": token.prefix,
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, value


def revoke_download_token(*, token: DownloadToken, by: Any) -> bool:
    """The token's owner revokes it; False if it was already revoked."""
    if token.user_id != getattr(by, "pk", None):
        raise PermissionDenied
    with transaction.atomic():
        locked = DownloadToken.objects.select_for_update().select_related("run__project")
        locked = locked.get(pk=token.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            action="provisioning.download_token_revoked",
            actor=by,
            target=locked.run,
            after={"project": locked.run.project.reference, "token": locked.pk},
        )
    return True


def active_tokens(user: Any, run: ProvisioningRun) -> list[DownloadToken]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        DownloadToken.objects.filter(
            user=user, run=run, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
    )


def token_for(value: str) -> DownloadToken:
    """The valid token of that value, or ``TokenInvalid`` with the reason for its user."""
    if not isinstance(value, str) or not _FORMAT.match(value):
        raise TokenInvalid(_("This is not a download token of the portal."))
    token = (
        DownloadToken.objects.select_related("user", "run__project")
        .filter(key_sha256=digest(value))
        .first()
    )
    if token is None:
        raise TokenInvalid(_("This is not a download token of the portal."))
    if token.revoked_at is not None:
        raise TokenInvalid(_("This download token was revoked."))
    if token.expires_at <= timezone.now():
        raise TokenInvalid(
            _("This download token has expired: create a new one on the run's page.")
        )
    if not token.user.is_active:
        raise TokenInvalid(_("This download token's account is deactivated."))
    DownloadToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


def bearer_value(request: Any) -> str | None:
    """The value after ``Authorization: Bearer``, or None when the request presents none."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not isinstance(header, str):
        return None
    parts = header.split()
    if not parts or parts[0].lower() != KEYWORD.lower():
        return None
    if len(parts) != 2:
        raise AuthenticationFailed(_("Send the download token as “Authorization: Bearer <token>”."))
    return parts[1]


class DownloadTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <download token>``: the token's user, and the token as ``auth``.

    Only the views that serve a run's files accept it; everywhere else a download token is no
    credential at all.
    """

    def authenticate(self, request):
        value = bearer_value(request)
        if value is None:
            return None
        try:
            token = token_for(value)
        except TokenInvalid as exc:
            raise AuthenticationFailed(str(exc)) from exc
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'


class DownloadTokenScheme(OpenApiAuthenticationExtension):
    """The download token in the API's schema: an HTTP bearer scheme."""

    target_class = "access.provisioning.download_tokens.DownloadTokenAuthentication"
    name = "downloadToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A download token, created by a named recipient after the second factor (run "
                "page, or POST /api/v1/runs/{id}/download-tokens/). Files endpoints only."
            ),
        }


def is_download_token(auth: Any) -> bool:
    return isinstance(auth, DownloadToken)
