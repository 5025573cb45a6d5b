"""A researcher browses the data catalogue and runs a feasibility count in a real browser."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in

# The warehouse takes part: its concept rows (loaded by a migration) are put back afterwards.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]


def test_researcher_searches_the_catalogue_and_counts(
    page: Page, live_server, researcher, assert_accessible, assert_no_csp_violation
):
    page.goto(reverse("login"))
    sign_in(page, researcher.email)
    page.get_by_role("link", name="Catalogue des données").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Catalogue des données")
    assert_no_csp_violation(page)
    assert_accessible(page)

    page.get_by_label("Mots recherchés").fill("température")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.locator("#var-vitals\\.temperature")).to_be_visible()
    expect(page.locator("#var-visit\\.start")).to_have_count(0)

    page.get_by_role("link", name="Comptages de faisabilité").click()
    assert_accessible(page)
    page.get_by_label("Codes CISP-2").fill("ZZ9")
    page.get_by_role("button", name="Compter", exact=True).click()
    # htmx swaps the result in place; the error names the unknown code.
    expect(page.locator("#feasibility-result")).to_contain_text("ZZ9")
    page.get_by_label("Codes CISP-2").fill("R74")
    page.get_by_role("button", name="Compter", exact=True).click()
    expect(page.locator("#feasibility-result dd").first).to_have_text("0")
    assert_no_csp_violation(page)
    assert_accessible(page)
