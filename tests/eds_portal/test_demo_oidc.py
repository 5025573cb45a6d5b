"""The demo's identity provider (``make run``): ``serve_demo`` points a "demo" provider at
``serve_demo_oidc``, which signs in a demo researcher through the real protocol."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from eds_portal import settings as portal_settings
from eds_portal.demo_oidc import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PERSON,
    DEMO_PORT,
    MiniProvider,
)
from eds_portal.management.commands.serve_demo import demo_oidc_environment
from eds_portal.models import ExternalIdentity, User
from eds_portal.roles import Role


def test_serve_demo_configures_the_demo_provider_unless_providers_are_set(tmp_path):
    secret = tmp_path / "var" / "secret"
    env = demo_oidc_environment({}, secret)
    assert env["EDS_OIDC_PROVIDERS"] == "demo"
    assert env["EDS_OIDC_DEMO_ISSUER"] == f"http://127.0.0.1:{DEMO_PORT}"
    assert env["EDS_OIDC_DEMO_CREATE_ACCOUNTS"] == "true"
    assert secret.read_text().strip() == DEMO_CLIENT_SECRET
    assert demo_oidc_environment({"EDS_OIDC_PROVIDERS": "psc"}, tmp_path / "other") == {}
    assert not (tmp_path / "other").exists()


def _demo_config(monkeypatch, tmp_path, issuer: str) -> dict:
    """The provider's settings exactly as the portal reads them from serve_demo's environment."""
    for name, value in demo_oidc_environment({}, tmp_path / "secret").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EDS_OIDC_DEMO_ISSUER", issuer)
    return portal_settings._oidc_provider("demo")


@pytest.mark.django_db(databases="__all__")
def test_the_demo_provider_signs_a_demo_researcher_in(monkeypatch, tmp_path, settings):
    provider = MiniProvider(
        client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, claims=DEMO_PERSON
    )
    try:
        settings.EDS_OIDC_PROVIDERS = {"demo": _demo_config(monkeypatch, tmp_path, provider.issuer)}
        client = Client()
        assert "/accounts/oidc/demo/login/" in client.get("/accounts/login/").content.decode()
        start = client.get("/accounts/oidc/demo/login/")
        assert start.url.startswith(provider.issuer + "/authorize?")
        at_provider = requests.get(start.url, allow_redirects=False, timeout=5)
        back = urlsplit(at_provider.headers["Location"])
        params = {k: v[0] for k, v in parse_qs(back.query).items()}
        response = client.get(back.path, params)
        assert response.status_code == 302
    finally:
        provider.stop()
    user = User.objects.get(email=DEMO_PERSON["email"])
    assert user.roles == {Role.RESEARCHER}
    assert user.full_name == DEMO_PERSON["name"]
    assert ExternalIdentity.objects.get(user=user).subject == DEMO_PERSON["sub"]
    assert client.get("/").wsgi_request.user == user


def test_serve_demo_oidc_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("serve_demo_oidc", "--port", "0")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_demo_oidc_serves_discovery_until_stopped(tmp_path):
    port = _free_port()
    log = tmp_path / "serve_demo_oidc.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve_demo_oidc", "--port", str(port)],
            cwd=Path(django_settings.BASE_DIR),
            env=dict(os.environ),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
        deadline = time.monotonic() + 60
        while True:
            try:
                discovery = requests.get(url, timeout=2).json()
                break
            except requests.ConnectionError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert discovery["issuer"] == f"http://127.0.0.1:{port}"
        assert discovery["code_challenge_methods_supported"] == ["S256"]
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode is not None
