"""French first, English available; every catalogue complete."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FR_PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_french_catalogue_has_no_untranslated_or_fuzzy_entry():
    for flag in ("--untranslated", "--only-fuzzy"):
        result = subprocess.run(
            ["msgattrib", flag, "--no-wrap", str(FR_PO)], capture_output=True, text=True, check=True
        )
        entries = [line for line in result.stdout.splitlines() if line.startswith("msgid ")]
        # The header entry (msgid "") may appear in the fuzzy listing of an empty catalogue.
        assert [e for e in entries if e != 'msgid ""'] == [], flag


def test_catalogue_is_compiled_and_current():
    mo = FR_PO.with_suffix(".mo")
    assert mo.exists(), "run make (compilemessages) first"
    assert mo.stat().st_mtime >= FR_PO.stat().st_mtime - 1


def test_pages_are_in_french_by_default(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter" in html or "Connexion" in html


def test_english_is_available_with_the_language_switch(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    html = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in html
    assert "Sign in" in html


@pytest.mark.django_db
def test_french_labels_on_the_login_form(client):
    html = client.get("/accounts/login/").content.decode()
    assert "Adresse" in html
    assert "Mot de passe" in html
