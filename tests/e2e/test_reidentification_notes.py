"""The warnings on a requested time of day and the delivery format, in a real browser.

A file asks for the visit's start to the hour, delivered in the OMOP shape: the researcher's
form lists the warnings under the generalisation (described by them), the rapporteur's review
and the chair's decision page show the warning of the hour next to the variable. Every page goes
through axe-core and the CSP console check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from projects.actions import check_admissibility, create_project, save_section, submit_project
from projects.review.actions import assign_rapporteur
from projects.sessions import actions
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft
from tests.projects.sessions_helpers import declare, open_session_with
from warehouse import catalogue

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]

TIMED = "visit.start"


@pytest.fixture
def check(assert_accessible, assert_no_csp_violation):
    def run(page: Page) -> None:
        assert_no_csp_violation(page)
        assert_accessible(page)

    return run


@pytest.fixture
def sign_in_as(
    browser: Browser, live_server, django_db_serialized_rollback, console_messages
) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_as(user) -> Page:
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()

        def record(message: ConsoleMessage) -> None:
            console_messages.append(message)

        page.on("console", record)
        page.goto(reverse("login"))
        sign_in(page, user.email)
        if user.requires_two_factor:
            submit_token(page, current_code(user.totpdevice_set.get()), button="Vérifier")
        expect(page).to_have_url(f"{live_server.url}/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def _note(generalisation: str) -> str:
    with translation.override("fr"):
        return str(catalogue.reidentification_note(generalisation))


def test_the_note_of_the_hour_is_read_where_it_is_chosen_and_decided(
    sign_in_as,
    check,
    researcher,
    secretariat,
    rapporteur,
    chair,
    commission_member,
    patient_representative,
):
    project = create_project(by=researcher, title="Délais des visites de nuit")
    fill_draft(project, researcher)
    raw = {
        **VALID_SECTIONS["data_request"],
        f"var__{TIMED}": "on",
        f"just__{TIMED}": "Mesurer les délais de visite la nuit.",
        f"gen__{TIMED}": "shifted_hour",
        "delivery_shape": "omop",
    }
    save_section(project=project, section_key="data_request", raw=raw, by=researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    declare(project, rapporteur, chair, commission_member, patient_representative)
    assign_rapporteur(
        project=project,
        member=rapporteur,
        due_date=timezone.localdate() + timedelta(days=14),
        by=secretariat,
    )
    session = actions.create_session(
        by=secretariat, date=timezone.now() + timedelta(days=7), place="Salle du conseil"
    )
    item = actions.add_to_agenda(session=session, project=project, by=secretariat)
    open_session_with(
        session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )

    # The researcher (a draft of the same request): the warnings describe the select.
    draft = create_project(by=researcher, title="Délais des visites de nuit, suite")
    save_section(project=draft, section_key="data_request", raw=raw, by=researcher)
    page = sign_in_as(researcher)
    page.goto(f"/projects/{draft.pk}/sections/data_request/")
    select = page.locator(f'select[name="gen__{TIMED}"]')
    expect(select).to_be_visible()  # its group is open: the variable is ticked
    described = select.get_attribute("aria-describedby")
    expect(page.locator(f'[id="{described}"]')).to_contain_text(_note("shifted_minute"))
    expect(page.locator(f'[id="{described}"]')).to_contain_text(_note("shifted_hour"))
    expect(page.locator('input[name="delivery_shape"][value="omop"]')).to_be_checked()
    check(page)

    # The rapporteur: the warning is the verdict's description.
    page = sign_in_as(rapporteur)
    page.goto(f"/projects/{project.pk}/review/")
    expect(page.locator("main")).to_contain_text(_note("shifted_hour"))
    check(page)

    # The chair: the warning sits with the variable to decide.
    page = sign_in_as(chair)
    page.goto(f"/commission/sessions/{session.pk}/items/{item.pk}/decide/")
    expect(page.locator(".reidentification-note")).to_contain_text(_note("shifted_hour"))
    expect(page.locator("main")).to_contain_text("OMOP CDM v5.4")
    check(page)
