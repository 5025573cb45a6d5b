"""Single sign-on through OpenID Connect (issue 13), against a real provider served on a local
port (tests/eds_portal/oidc_provider.py): discovery, authorization code with PKCE, ID token
signature, audience, expiry, nonce; accounts matched by subject, never by e-mail alone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core import mail
from django.test import Client

from eds_portal.accounts.actions import publish_charter
from eds_portal.models import AuditEvent, ExternalIdentity, User
from eds_portal.roles import Role
from projects.actions import create_project
from projects.models import TeamMembership, TeamRole
from projects.team_actions import invite_member
from tests.conftest import login
from tests.eds_portal.oidc_provider import MiniProvider

pytestmark = pytest.mark.django_db(databases="__all__")

CLIENT_ID = "eds-portal"
SECRET = "s3cret-from-a-file"


@pytest.fixture(scope="module")
def provider():
    server = MiniProvider(client_id=CLIENT_ID, client_secret=SECRET)
    yield server
    server.stop()


@pytest.fixture
def psc(provider, settings):
    provider.misbehave = ""
    provider.claims = {"sub": "psc-8001", "email": "dr.house@chu.example", "name": "Greg House"}
    config = {
        "label": "Pro Santé Connect",
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scopes": "openid email profile",
        "acr_values": "eidas1",
        "claim_email": "email",
        "claim_name": "name",
        "claim_given_name": "given_name",
        "claim_family_name": "family_name",
        "claim_organisation": "",
        "create_accounts": False,
        "strong_acr": ["eidas2"],
        "strong_amr": [],
    }
    settings.EDS_OIDC_PROVIDERS = {"psc": config}
    return config


def _sign_in(client: Client, provider: MiniProvider, *, next_url: str = "/", code: str = ""):
    """The browser's round trip: portal -> provider -> portal's callback. Returns the callback's
    response."""
    start = client.get("/accounts/oidc/psc/login/", {"next": next_url})
    assert start.status_code == 302
    assert start.url.startswith(provider.issuer + "/authorize?")
    query = parse_qs(urlsplit(start.url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["acr_values"] == ["eidas1"]
    assert query["nonce"][0]
    assert query["state"][0]
    at_provider = requests.get(start.url, allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["Location"])
    params = parse_qs(back.query)
    if code:
        params["code"] = [code]
    return client.get(back.path, {name: values[0] for name, values in params.items()})


def test_the_login_page_offers_the_configured_providers(client, psc):
    html = client.get("/accounts/login/").content.decode()
    assert "/accounts/oidc/psc/login/" in html
    assert "Pro Santé Connect" in html


def test_an_unknown_provider_is_not_found(client, psc):
    assert client.get("/accounts/oidc/nope/login/").status_code == 404
    assert client.get("/accounts/oidc/nope/callback/").status_code == 404


def test_a_linked_account_signs_in_by_its_subject(client, psc, provider, researcher):
    ExternalIdentity.objects.create(user=researcher, provider="psc", subject="psc-8001")
    # The provider's e-mail differs from the account's: the subject decides, not the address.
    response = _sign_in(client, provider, next_url="/projects/")
    assert response.status_code == 302
    assert response.url == "/projects/"
    assert client.get("/").wsgi_request.user == researcher
    event = AuditEvent.objects.get(action="auth.oidc_login")
    assert event.actor == researcher
    assert event.after == {"provider": "psc", "strong_authentication": False, "created": False}
    assert AuditEvent.objects.filter(action="auth.login", actor=researcher).exists()
    assert provider.token_requests[-1]["code_verifier"]


def test_an_unknown_subject_gets_no_account_unless_the_provider_allows_it(
    client, psc, provider, settings
):
    refused = _sign_in(client, provider)
    assert refused.status_code == 403
    assert not User.objects.filter(email="dr.house@chu.example").exists()
    assert AuditEvent.objects.get(action="auth.oidc_failed").after == {
        "provider": "psc",
        "reason": "no account",
    }
    psc["create_accounts"] = True
    created = _sign_in(client, provider)
    assert created.status_code == 302
    user = User.objects.get(email="dr.house@chu.example")
    assert user.full_name == "Greg House"
    assert user.roles == {Role.RESEARCHER}
    assert not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).subject == "psc-8001"
    assert AuditEvent.objects.filter(action="account.identity_linked", actor=user).exists()


def test_an_email_alone_never_matches_an_account(client, psc, provider, researcher):
    psc["create_accounts"] = True
    provider.claims = {"sub": "psc-9999", "email": researcher.email, "name": "Impostor"}
    response = _sign_in(client, provider)
    assert response.status_code == 403
    assert not ExternalIdentity.objects.exists()
    assert "_auth_user_id" not in client.session


def test_staff_need_the_second_factor_unless_the_provider_asserts_strong_authentication(
    client, psc, provider, dpo
):
    ExternalIdentity.objects.create(user=dpo, provider="psc", subject="psc-8001")
    _sign_in(client, provider)
    assert client.get("/").url.startswith("/accounts/two-factor/")

    strong = Client()
    provider.claims = {**provider.claims, "acr": "eidas2"}
    _sign_in(strong, provider)
    assert strong.get("/").status_code == 200
    event = AuditEvent.objects.filter(action="auth.oidc_login").order_by("-seq").first()
    assert event.after["strong_authentication"] is True


@pytest.mark.parametrize(
    "misbehave", ["forged", "wrong_audience", "expired", "wrong_nonce", "wrong_issuer"]
)
def test_bad_id_tokens_are_refused(client, psc, provider, researcher, misbehave):
    ExternalIdentity.objects.create(user=researcher, provider="psc", subject="psc-8001")
    provider.misbehave = misbehave
    response = _sign_in(client, provider)
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.oidc_failed").exists()
    assert not AuditEvent.objects.filter(action="auth.oidc_login").exists()


def test_a_replayed_code_is_refused(client, psc, provider, researcher):
    ExternalIdentity.objects.create(user=researcher, provider="psc", subject="psc-8001")
    assert _sign_in(client, provider).status_code == 302
    used = provider.used_codes[-1]
    other = Client()
    response = _sign_in(other, provider, code=used)
    assert response.status_code == 403
    assert "_auth_user_id" not in other.session


def test_a_callback_without_a_login_started_here_is_refused(client, psc):
    response = client.get("/accounts/oidc/psc/callback/", {"code": "x", "state": "y"})
    assert response.status_code == 403


def test_an_invitee_signs_up_through_the_provider_and_joins_the_project(
    client, psc, provider, researcher, dpo, django_capture_on_commit_callbacks
):
    import re

    from django.conf import settings

    project = create_project(by=researcher, title="Asthme nocturne")
    publish_charter(text_fr="Secret.", text_en="Secrecy.", by=dpo)
    with django_capture_on_commit_callbacks(execute=True):
        invite_member(
            project=project, email="nina@chu.example", role=TeamRole.ANALYST, by=researcher
        )
    [link] = re.findall(r"https?://\S+", mail.outbox[0].body)
    accept_path = link.removeprefix(settings.EDS_PUBLIC_URL)
    signup = client.get(accept_path, follow=True)
    assert b'name="sso"' in signup.content
    start = client.post(accept_path + "new-account/", {"sso": "psc"})
    assert start.status_code == 302
    assert start.url.startswith("/accounts/oidc/psc/login/")
    # The provider knows her under another address: the invitation's address is the account's.
    provider.claims = {"sub": "psc-7007", "email": "n.other@hopital.example", "name": "Nina N"}
    next_url = parse_qs(urlsplit(start.url).query)["next"][0]
    back = _sign_in(client, provider, next_url=next_url)
    assert back.status_code == 302
    user = User.objects.get(email="nina@chu.example")
    assert ExternalIdentity.objects.get(user=user).subject == "psc-7007"
    charter = client.get(back.url)
    assert charter.url.startswith("/accounts/charter/")
    client.post("/accounts/charter/", {"version": "1", "accept": "on"})
    assert client.post(back.url).status_code == 302
    assert TeamMembership.objects.get(project=project, user=user).role == TeamRole.ANALYST


def test_missing_secret_file_fails_loudly(monkeypatch, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from eds_portal import settings as portal_settings

    monkeypatch.setenv("EDS_OIDC_X_ISSUER", "https://x.example")
    monkeypatch.setenv("EDS_OIDC_X_CLIENT_ID", "id")
    monkeypatch.setenv("EDS_OIDC_X_CLIENT_SECRET_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="CLIENT_SECRET_FILE"):
        portal_settings._oidc_provider("x")
    (tmp_path / "secret").write_text("abc\n")
    monkeypatch.setenv("EDS_OIDC_X_CLIENT_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("EDS_OIDC_X_STRONG_AMR", "mfa,hwk")
    config = portal_settings._oidc_provider("x")
    assert config["client_secret"] == "abc"
    assert config["strong_amr"] == ["mfa", "hwk"]


def test_researchers_signed_in_by_password_are_unaffected(client, psc, researcher):
    login(client, researcher)
    assert client.get("/").status_code == 200
