"""The objection form on a phone, in a real browser: the 64 associations no longer make it six
screens long, typing filters them, the receipt number is copied with one button (and a live
region says so), and "follow my request" opens the status page already filled in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from access.models import OppositionRequest
from warehouse.reference import association_names

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse", "vault"], serialized_rollback=True
    ),
]

PHONE = {"width": 375, "height": 667}


@pytest.fixture
def phone(browser: Browser, live_server, django_db_serialized_rollback) -> Iterator[Page]:
    """A phone-sized browser profile, in French, allowed to use the clipboard."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.csp_reports = messages  # type: ignore[attr-defined]
    yield page
    context.close()


def _screens(page: Page) -> tuple[float, float]:
    """The page's height in screens now, and as the form was before: every field shown and the
    64 association checkboxes one under the other (measured, then put back)."""
    now, before = page.evaluate(
        """() => {
            const height = () => document.documentElement.scrollHeight;
            const now = height();
            const list = document.querySelector(".association-picker__list");
            const hidden = [...document.querySelectorAll("[data-hide-when][hidden]")];
            list.style.maxHeight = "none";
            hidden.forEach(block => { block.hidden = false; });
            const before = height();
            list.style.maxHeight = "";
            hidden.forEach(block => { block.hidden = true; });
            return [now, before];
        }"""
    )
    return now / PHONE["height"], before / PHONE["height"]


def _no_csp_violation(page: Page) -> None:
    reports = [text for text in page.csp_reports if "Content Security Policy" in text]
    assert not reports, reports


def test_a_patient_objects_on_a_phone(phone: Page, assert_accessible):
    page = phone
    page.goto(reverse("opposition_form"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "S’opposer à la réutilisation de vos données"
    )
    after, before = _screens(page)
    print(f"objection form on a phone: {before:.1f} screens before, {after:.1f} now")
    assert before >= 7, before  # what the list of checkboxes made it
    assert after <= before - 3, (before, after)
    assert after <= 5, after
    # The script hides what does not apply (without it, every field is shown).
    expect(page.locator("[data-hide-when='requester_role=self']")).to_be_hidden()
    assert_accessible(page)
    _no_csp_violation(page)

    # Type to filter: the script reveals the search box; accents and case do not matter.
    search = page.locator("#id_associations_search")
    expect(search).to_be_visible()
    options = page.locator("[data-picker-option]")
    expect(options.filter(visible=True)).to_have_count(len(association_names()))
    search.fill("lyon")
    lyon = [name for name in association_names().values() if "lyon" in name.lower()]
    assert lyon
    expect(options.filter(visible=True)).to_have_count(len(lyon))
    expect(page.locator(".association-picker__count")).not_to_have_text("")
    search.fill("RHÔNE")  # found by its département too
    expect(options.filter(visible=True)).to_have_count(len(lyon))
    first = options.filter(visible=True).first
    name = first.locator("label").inner_text().strip()
    first.locator("input").check()
    expect(page.locator("[data-picker-chosen]")).to_contain_text(name)
    search.fill("zzzz")
    expect(options.filter(visible=True)).to_have_count(0)
    search.press("Escape")
    expect(options.filter(visible=True)).to_have_count(len(association_names()))
    # Enter in the search box does not send the form.
    search.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(reverse("opposition_form")) + "$"))

    # The rest of the form, as a patient fills it for themselves.
    page.get_by_role("radio", name="La personne concernée", exact=True).check()
    page.get_by_role("textbox", name="Nom de naissance de la personne concernée").fill("Lefèvre")
    page.get_by_role("textbox", name="Prénoms", exact=True).fill("Anne-Marie")
    page.get_by_role("radio", name="Femme", exact=True).check()
    page.get_by_label("Date de naissance").fill("1961-05-02")
    page.get_by_role("textbox", name="Lieu de naissance", exact=True).fill("Bordeaux")
    page.get_by_role("radio", name="Par courriel", exact=True).check()
    page.get_by_role("textbox", name="Adresse électronique", exact=True).fill("anne@example.org")
    page.get_by_role("button", name="Envoyer mon opposition").click()

    # The receipt: the number on one line, within the screen, and a button that copies it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre opposition a bien été reçue")
    request = OppositionRequest.objects.get()
    number = page.locator("#receipt-number")
    expect(number).to_have_text(request.receipt_number)
    lines, right = page.evaluate(
        """() => {
            const el = document.getElementById("receipt-number");
            const line = parseFloat(getComputedStyle(el).lineHeight);
            return [Math.round(el.getBoundingClientRect().height / line),
                    el.getBoundingClientRect().right];
        }"""
    )
    assert lines == 1
    assert right <= PHONE["width"]
    copy = page.locator("button[data-copy='receipt-number']")
    expect(copy).to_be_visible()
    status = page.locator("#receipt-copied")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")
    copy.click()
    expect(status).to_have_text(copy.get_attribute("data-copied"))
    assert page.evaluate("navigator.clipboard.readText()") == request.receipt_number
    assert_accessible(page)
    _no_csp_violation(page)

    # "Follow my request": the status page with the number filled in; only the birth date left.
    page.locator(f"a[href$='?receipt={request.receipt_number}']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivre une demande d’opposition")
    expect(page.get_by_role("textbox", name="Numéro de récépissé")).to_have_value(
        request.receipt_number
    )
    page.get_by_label("Date de naissance de la personne concernée").fill("1961-05-02")
    page.get_by_role("button", name="Voir la demande").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(request.receipt_number)
    assert_accessible(page)
    _no_csp_violation(page)
