"""Steps shared by the browser tests: signing in, the second factor, finding a labelled field."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from tests.factories import TEST_PASSWORD


def sign_in(page: Page, email: str) -> None:
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def submit_token(page: Page, code: str, *, button: str) -> None:
    # One code per device and test: django-otp refuses a code whose time step was used already.
    page.get_by_label("Code à 6 chiffres").fill(code)
    page.get_by_role("button", name=button, exact=True).click()


def labelled_field(scope: Locator | Page, label: str) -> Locator:
    """The field with exactly this label; a required field's label ends with a hidden "*"."""
    return scope.get_by_label(re.compile(f"^{re.escape(label)}(?: \\*)?$"))
