"""Feasibility counts in a real browser: a count too close to an earlier one is refused in place
(htmx), and the DPO reads the log of counts; axe-core and CSP on both pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token
from tests.warehouse import factories as wf
from warehouse.models import CountOutcome, FeasibilityCountLog

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]


def _gironde() -> None:
    bordeaux = wf.care_site(1, "33")
    for i in range(30):
        person = wf.person(sex="F", born=1950 + i)
        wf.visit(person, on=date(2025, 3, 1 + i % 28), site=bordeaux, icpc2="R78")


def test_a_close_count_is_refused_then_the_dpo_sees_it(
    page: Page, live_server, researcher, dpo, assert_accessible, assert_no_csp_violation
):
    _gironde()
    page.goto(reverse("login"))
    sign_in(page, researcher.email)
    page.goto(reverse("feasibility"))
    page.get_by_label("Codes CISP-2").fill("R78")
    page.get_by_role("button", name="Compter", exact=True).click()
    # 30 persons, perturbed by their cell key and rounded to 5: 25, 30 or 35.
    expect(page.locator("#feasibility-result dd").first).to_have_text(re.compile(r"^(25|30|35)$"))
    # The three oldest left out: the difference would single them out.
    page.get_by_label("Âge maximum (ans)").fill(str(2025 - 1953))
    page.get_by_role("button", name="Compter", exact=True).click()
    expect(page.locator("#feasibility-result .message--warning")).to_be_visible()
    expect(page.locator("#feasibility-result dd")).to_have_count(0)
    assert_no_csp_violation(page)
    assert_accessible(page)
    assert list(FeasibilityCountLog.objects.values_list("outcome", flat=True)) == [
        CountOutcome.SHOWN,
        CountOutcome.REFUSED_DIFFERENCING,
    ]

    page.context.clear_cookies()
    page.goto(reverse("login"))
    sign_in(page, dpo.email)
    submit_token(page, current_code(dpo.totpdevice_set.get(confirmed=True)), button="Vérifier")
    page.locator(f"nav a[href='{reverse('feasibility_log')}']").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("table").first).to_contain_text(researcher.full_name)
    expect(page.locator("table").nth(1).locator("tbody tr")).to_have_count(1)
    assert_no_csp_violation(page)
    assert_accessible(page)
