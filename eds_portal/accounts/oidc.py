"""Sign-in through OpenID Connect providers (Pro Santé Connect, ProConnect, any other).

Authlib does the protocol: discovery, the authorization code flow with PKCE (S256), the state
and nonce kept in the session, the ID token's signature checked against the provider's keys
(JWKS), its issuer, audience, expiry and nonce. Authlib was chosen over mozilla-django-oidc for
its any-number-of-providers registry (mozilla-django-oidc configures one provider) and PKCE.

This module decides who the person is: an account is found by the provider's subject (``sub``),
never by e-mail address alone. Without a linked account, one is created only when the
person arrives from an invitation (``invited_email`` in the session, set by the invitation's
page) or when the provider's settings allow it (``create_accounts``): a researcher account.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eds_portal.accounts.actions import AccountError
from eds_portal.actions import create_account, grant_role
from eds_portal.audit import record_event
from eds_portal.middleware import STRONG_AUTH_SESSION_KEY
from eds_portal.models import ExternalIdentity, User
from eds_portal.roles import Role

# Set by the invitation page for someone with no account who chooses single sign-on.
INVITED_EMAIL_SESSION_KEY = "eds_oidc_invited_email"
NEXT_SESSION_KEY = "eds_oidc_next"


def providers() -> dict[str, dict]:
    return settings.EDS_OIDC_PROVIDERS


def client(name: str):
    """Authlib's client of one configured provider (None for an unknown name)."""
    config = providers().get(name)
    if config is None:
        return None
    registry = OAuth()
    return registry.register(
        name=name,
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        server_metadata_url=config["issuer"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": config["scopes"], "code_challenge_method": "S256", "timeout": 10},
    )


@dataclass(frozen=True)
class Outcome:
    user: User
    strong: bool
    created: bool


def _strong(config: dict, claims: dict) -> bool:
    acr = claims.get("acr")
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return bool((acr and acr in config["strong_acr"]) or set(amr) & set(config["strong_amr"]))


def _full_name(config: dict, claims: dict) -> str:
    name = claims.get(config["claim_name"]) or " ".join(
        str(part)
        for part in (
            claims.get(config["claim_given_name"]),
            claims.get(config["claim_family_name"]),
        )
        if part
    )
    return " ".join(str(name).split())[:200]


@transaction.atomic
def sign_in(*, provider: str, claims: dict, invited_email: str = "") -> Outcome:
    """The account of the person the (already validated) ID token names; created when allowed.

    Raises ``AccountError`` when there is none and none may be created.
    """
    config = providers()[provider]
    subject = str(claims.get("sub") or "")
    if not subject:
        raise AccountError(_("The identity provider did not say who you are."))
    strong = _strong(config, claims)
    identity = (
        ExternalIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=provider, subject=subject)
        .first()
    )
    created = False
    if identity is None:
        email = (invited_email or str(claims.get(config["claim_email"]) or "")).strip().lower()
        if not (invited_email or config["create_accounts"]):
            raise AccountError(
                _(
                    "No account is linked to this identity. Ask a project lead or the data "
                    "office for an invitation, then follow its link."
                )
            )
        if not email:
            raise AccountError(_("The identity provider gave no e-mail address."))
        if User.objects.filter(email__iexact=email).exists():
            # An account with this address exists but was never linked to this identity: the
            # address alone does not prove it is the same person.
            raise AccountError(
                _(
                    "An account already uses this e-mail address. Sign in with its password; "
                    "single sign-on is not linked to it."
                )
            )
        user = create_account(
            email=email,
            full_name=_full_name(config, claims) or email,
            password=None,
            organisation=str(claims.get(config["claim_organisation"]) or "")[:200]
            if config["claim_organisation"]
            else "",
        )
        grant_role(user=user, role=Role.RESEARCHER, by=user)
        identity = ExternalIdentity.objects.create(user=user, provider=provider, subject=subject)
        record_event(
            action="account.identity_linked",
            actor=user,
            target=user,
            after={"provider": provider, "invited": bool(invited_email)},
        )
        created = True
    user = identity.user
    if not user.is_active:
        raise AccountError(_("This account is disabled. Ask the data office."))
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["last_login_at"])
    record_event(
        action="auth.oidc_login",
        actor=user,
        target=user,
        after={"provider": provider, "strong_authentication": strong, "created": created},
    )
    return Outcome(user=user, strong=strong, created=created)


def record_failure(*, provider: str, reason: str) -> None:
    record_event(action="auth.oidc_failed", after={"provider": provider, "reason": reason[:200]})


__all__ = ["STRONG_AUTH_SESSION_KEY", "Outcome", "client", "providers", "record_failure", "sign_in"]
