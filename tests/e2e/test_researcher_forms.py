"""The researcher's forms in a real browser: error summaries that take the focus and lead to each
field, the warning before leaving unsaved changes, the variable picker's search, attestation
checkboxes on the row of their label, and the code fields flagged by the live count.

Every page goes through axe-core and the CSP console check. Messages added with these changes are
matched in French or, while their translation is not compiled yet, in English.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from projects.actions import create_project, save_section
from tests.e2e.helpers import labelled_field, sign_in
from tests.projects.helpers import VALID_SECTIONS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]

SAVE = "Enregistrer"


def _either(french: str, english: str) -> re.Pattern[str]:
    return re.compile(f"{re.escape(french)}|{re.escape(english)}")


@pytest.fixture
def check(assert_accessible, assert_no_csp_violation):
    def run(page: Page) -> None:
        assert_no_csp_violation(page)
        assert_accessible(page)

    return run


@pytest.fixture
def draft(researcher):
    return create_project(by=researcher, title="Bronchiolites du nourrisson")


@pytest.fixture
def signed_in(page: Page, researcher) -> Page:
    page.goto("/accounts/login/")
    sign_in(page, researcher.email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


def _section(page: Page, draft, key: str) -> None:
    page.goto(f"/projects/{draft.pk}/sections/{key}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(signed_in, draft, check):
    page = signed_in
    # A first visit shows no error, not even for the title taken from the new project.
    _section(page, draft, "identification")
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    expect(page.locator("[aria-invalid='true']")).to_have_count(0)
    check(page)

    _section(page, draft, "methodology")
    labelled_field(page, "Méthodologie").fill("Étude rétrospective.")
    page.get_by_role("button", name=SAVE, exact=True).click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(3)  # population, planned start, planned end
    hrefs = [links.nth(index).get_attribute("href") for index in range(3)]
    assert hrefs == ["#id_population", "#id_planned_start", "#id_planned_end"]
    check(page)

    links.nth(2).click()
    planned_end = page.locator("#id_planned_end")
    expect(planned_end).to_be_focused()
    expect(planned_end).to_have_attribute("aria-invalid", "true")
    # Keyboard: back to the summary's first link, Enter.
    summary.focus()
    page.keyboard.press("Tab")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#id_population")).to_be_focused()

    # A group of radios: the link leads to its first radio.
    _section(page, draft, "route")
    page.get_by_role("button", name=SAVE, exact=True).click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    page.locator("[data-error-summary] a[href='#id_internal_use_0']").click()
    expect(page.locator("#id_internal_use_0")).to_be_focused()
    check(page)


def test_the_public_objection_form_has_the_same_summary(page: Page, live_server, check):
    page.goto("/opposition/")
    page.get_by_role("button", name="Envoyer mon opposition").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    first = summary.get_by_role("link").first
    target = first.get_attribute("href")
    assert target.startswith("#id_")
    first.click()
    expect(page.locator(target)).to_be_focused()
    check(page)


def test_leaving_a_section_with_unsaved_changes_asks_first(signed_in, draft, check):
    page = signed_in
    dialogs: list[str] = []

    def stay(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", stay)
    _section(page, draft, "purpose")
    # Nothing typed: leaving asks nothing.
    page.get_by_role("link", name="Retour au projet").click()
    expect(page).to_have_url(re.compile(rf"/projects/{draft.pk}/$"))
    assert dialogs == []

    _section(page, draft, "purpose")
    labelled_field(page, "Objectifs").fill("Décrire l'incidence des bronchiolites.")
    page.get_by_role("link", name="Retour au projet").click()
    for _attempt in range(50):  # the dialog comes asynchronously
        if dialogs:
            break
        page.wait_for_timeout(100)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(re.compile(r"/sections/purpose/$"))
    expect(labelled_field(page, "Objectifs")).to_have_value(
        "Décrire l'incidence des bronchiolites."
    )

    # Saving is not leaving: no question.
    page.get_by_role("button", name=SAVE, exact=True).click()
    expect(page.locator(".messages")).to_be_visible()
    assert dialogs == ["beforeunload"]
    check(page)


def test_the_variable_search_filters_as_one_types_and_says_how_many(signed_in, draft, check):
    page = signed_in
    _section(page, draft, "data_request")
    search = page.get_by_role(
        "searchbox", name=_either("Rechercher parmi les variables", "Search the variables")
    )
    expect(search).to_be_visible()
    status = page.locator("#variable-search-status")
    expect(status).to_have_attribute("role", "status")

    search.fill("tempér")
    temperature = page.locator('[id="variable-vitals.temperature"]')
    expect(temperature).to_be_visible()
    expect(status).to_have_text(
        _either("1 variable correspond à cette recherche.", "1 variable matches this search.")
    )
    expect(page.locator('[id="variable-person.sex"]')).to_be_hidden()
    expect(page.locator("details[data-variable-group]:visible")).to_have_count(1)
    expect(page.locator('details[data-variable-group="vital_signs"]')).to_have_attribute("open", "")
    check(page)

    search.fill("date")
    expect(status).to_have_text(re.compile(r"^\d+ variables"))
    shown = int(re.match(r"\d+", status.inner_text()).group(0))
    expect(page.locator("[data-variable]:visible")).to_have_count(shown)
    assert shown > 3

    search.fill("zzzz")
    expect(status).to_have_text(
        _either("Aucune variable ne correspond à cette recherche.", "No variable matches")
    )
    expect(page.locator("details[data-variable-group]:visible")).to_have_count(0)

    # Enter does not send the section; clearing shows every group again, folded as before.
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/sections/data_request/$"))
    search.fill("")
    expect(page.locator("details[data-variable-group]:visible")).to_have_count(7)
    expect(page.locator("details[data-variable-group][open]")).to_have_count(0)
    expect(status).to_have_text("")

    # The catalogue opens beside the form, in a new tab.
    catalogue = page.get_by_role("link", name=re.compile("catalogue des données|data catalogue"))
    expect(catalogue).to_have_attribute("target", "_blank")
    with page.context.expect_page() as opened:
        catalogue.click()
    opened.value.wait_for_load_state()
    assert opened.value.url.endswith("/warehouse/catalogue/")
    assert page.url.endswith("/sections/data_request/")


def test_an_attestation_checkbox_is_on_the_row_of_its_label(signed_in, draft, check):
    page = signed_in
    _section(page, draft, "purpose")
    box = page.locator("#id_prohibited_purposes")
    label = page.locator("label[for='id_prohibited_purposes']")
    box_area, label_area = box.bounding_box(), label.bounding_box()
    # Before the label, on its first line, close to it, and large enough to hit.
    assert box_area["x"] + box_area["width"] <= label_area["x"]
    assert label_area["x"] - (box_area["x"] + box_area["width"]) < 16
    assert box_area["y"] < label_area["y"] + 24  # within the label's first line
    assert box_area["y"] + box_area["height"] > label_area["y"]
    assert box_area["width"] >= 18
    assert box_area["height"] >= 18
    label.click()
    expect(box).to_be_checked()

    # The same for the confirmation of the route, once its box appears.
    save_section(
        project=draft,
        section_key="route",
        raw={
            k: v
            for k, v in VALID_SECTIONS["route"].items()
            if k not in {"route_confirmed", "confirmed_route"}
        },
        by=draft.created_by,
    )
    _section(page, draft, "route")
    box = page.locator("#id_route_confirmed")
    label = page.locator("label[for='id_route_confirmed']")
    box_area, label_area = box.bounding_box(), label.bounding_box()
    assert box_area["x"] + box_area["width"] <= label_area["x"]
    assert box_area["y"] < label_area["y"] + 24
    # Not confirmed yet, but not an error either: the box was not shown before.
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    check(page)


def test_the_live_count_flags_a_code_field(signed_in, draft, check):
    page = signed_in
    page.goto("/warehouse/feasibility/")
    codes = labelled_field(page, "Codes CIM-10")
    codes.fill("Q99.9")
    page.get_by_role("button", name="Compter", exact=True).click()
    absent = _either("Absent de l'entrepôt", "Not present in the warehouse")
    expect(page.locator("#id_icd10_codes_error")).to_contain_text(absent)
    expect(codes).to_have_attribute("aria-invalid", "true")
    expect(codes).to_have_attribute("aria-describedby", re.compile(r"\bid_icd10_codes_error\b"))
    expect(page.locator("#feasibility-result")).to_contain_text(absent)
    check(page)
    codes.fill("QQ9")
    page.get_by_role("button", name="Compter", exact=True).click()
    expect(page.locator("#id_icd10_codes_error")).to_contain_text(
        _either("Code CIM-10 non valide : QQ9", "Not a valid ICD-10 code: QQ9")
    )
    codes.fill("")
    page.get_by_role("button", name="Compter", exact=True).click()
    expect(page.locator("#feasibility-result dd").first).to_be_visible()
    expect(codes).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_icd10_codes_error")).to_be_empty()
    check(page)


def test_a_missing_item_of_the_project_page_leads_into_its_field(signed_in, draft, check):
    page = signed_in
    save_section(
        project=draft,
        section_key="methodology",
        raw={"methodology": "Étude rétrospective."},
        by=draft.created_by,
    )
    page.goto(f"/projects/{draft.pk}/")
    missing = page.get_by_role("region", name="Avant la soumission")
    missing.get_by_role("link", name=re.compile("Population étudiée")).click()
    expect(page.locator("#id_population")).to_be_focused()
    check(page)
