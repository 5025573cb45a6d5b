"""404 and 500 pages in the portal's language and look; the 500 page renders whatever failed."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from eds_portal.views.errors import server_error

pytestmark = pytest.mark.django_db


def _layout(html: str) -> None:
    """The portal's base layout: skip link, header with the portal's name, footer links."""
    assert 'class="skip-link"' in html
    assert 'class="site-header"' in html
    assert 'class="site-footer"' in html
    assert "Portail EDS CONTACT" in html
    assert 'href="/transparency/"' in html


def test_a_missing_page_has_the_portal_layout_in_its_language(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    _layout(html)
    assert '<html lang="fr">' in html
    assert 'href="/opposition/"' in html
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Page not found</h1>" in html


def test_a_missing_page_is_in_french_by_default(client):
    """Needs the French catalogue with this change's messages (locale/pending) compiled."""
    html = client.get("/no-such-page/").content.decode()
    assert "<h1>Page introuvable</h1>" in html
    assert "<title>Page introuvable · Portail EDS CONTACT</title>" in html


def test_a_server_error_has_the_portal_layout_and_needs_no_request_context(settings, client):
    settings.ROOT_URLCONF = "tests.eds_portal.error_urls"
    client.raise_request_exception = False
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    html = response.content.decode()
    _layout(html)
    assert '<html lang="en">' in html
    assert "Something went wrong on our side" in html
    # Rendered without the request: no language form (it needs one), no account menu.
    assert "language-select" not in html
    assert "Sign out" not in html


def test_the_server_error_page_renders_when_the_context_processors_would_fail(
    settings, monkeypatch
):
    # The failure may be in what every page's context needs (the database, the session): the
    # 500 page does not use it.
    def broken(request):
        raise RuntimeError("context processor down")

    monkeypatch.setattr("eds_portal.context_processors.portal", broken)
    request = RequestFactory().get("/anything/")
    response = server_error(request)
    assert response.status_code == 500
    _layout(response.content.decode())


def test_the_server_error_page_is_in_french_by_default(settings, client):
    """Needs the French catalogue with this change's messages (locale/pending) compiled."""
    settings.ROOT_URLCONF = "tests.eds_portal.error_urls"
    client.raise_request_exception = False
    html = client.get("/boom/").content.decode()
    assert '<html lang="fr">' in html
    assert "Un problème est survenu de notre côté" in html
