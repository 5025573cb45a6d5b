"""From upload to release (issue 12), in the browser.

The researcher, lead of an active project, asks for the release of a table holding a cell of 4:
the automatic checks flag that cell on the request page; she uploads a corrected version, which
passes, and sends it to the checkers. Two checkers, each in a browser profile of their own,
give their verdict; the second one sees the first verdict only after giving theirs. The table
is then released with a number, and the researcher sees it. Every page goes through axe-core
and the CSP console check. Fields are found by their names: their labels are being translated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from access.models_outputs import OutputItem, OutputItemStatus
from eds_portal.roles import Role
from projects.models import Draft, TeamMembership, TeamRole
from tests.access.helpers import project as make_project
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WITH_FOUR = "age band;boys;girls\n0-4;4;120\n5-9;98;101\n"
FIXED = "age band;boys;girls\n0-9;102;221\n"


@pytest.fixture
def sign_in_as(
    browser: Browser,
    live_server,
    django_db_serialized_rollback,
    console_messages: list[ConsoleMessage],
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


def test_a_table_goes_from_upload_to_release(
    sign_in_as, make_user, tmp_path, assert_accessible, assert_no_csp_violation
):
    lead = make_user(Role.RESEARCHER, full_name="Rita Lead", email="rita@inserm.example")
    project = make_project(lead, status="active", reference="EDS-2026-0077")
    TeamMembership.objects.create(project=project, user=lead, role=TeamRole.LEAD)
    Draft.objects.create(project=project, updated_by=lead, content={})
    first = make_user(Role.SECRETARIAT, full_name="Alice Checker", email="alice@sos.example")
    second = make_user(Role.DATA_STEWARD, full_name="Bruno Checker", email="bruno@sos.example")

    def check(page: Page) -> None:
        assert_accessible(page)
        assert_no_csp_violation(page)

    team = sign_in_as(lead)
    team.goto(reverse("project_outputs", args=[project.pk]))
    check(team)
    team.locator("input[name=title]").fill("Article bronchiolite")
    team.locator("form:has(input[name=title]) button[type=submit]").click()
    expect(team.locator("h1")).to_have_text("Article bronchiolite")
    check(team)

    upload = tmp_path / "visites.csv"
    upload.write_text(WITH_FOUR)
    add = team.locator("form:has(input[name=action][value=add])")
    add.locator("select[name=kind]").select_option("table")
    add.locator("input[name=title]").fill("Visites par âge")
    add.locator("textarea[name=description]").fill("Visites à domicile par tranche d'âge, 2025.")
    add.locator("select[name=cell_unit]").select_option("persons")
    add.locator("input[name=variables_crossed]").fill("tranche d'âge, sexe")
    add.locator("input[name=file]").set_input_files(str(upload))
    add.locator("button[type=submit]").click()
    item = OutputItem.objects.get(request__project=project)
    findings = team.locator(f"#item-{item.pk} ~ table").first
    expect(findings).to_contain_text("0-4")
    expect(findings).to_contain_text("boys")
    check(team)

    upload.write_text(FIXED)
    version = team.locator(f"form:has(input[name=item][value='{item.pk}']):has(input[type=file])")
    version.locator("input[type=file]").set_input_files(str(upload))
    version.locator("button[type=submit]").click()
    expect(team.locator("table")).to_have_count(0)
    team.locator("form:has(input[name=action][value=submit]) button").click()
    item.refresh_from_db()
    assert item.status == OutputItemStatus.SUBMITTED
    check(team)

    checker = sign_in_as(first)
    checker.goto(reverse("output_queue"))
    check(checker)
    checker.get_by_role("link", name="Visites par âge").click()
    check(checker)
    checker.locator("input[name=verdict][value=approve]").check()
    checker.locator("textarea[name=comment]").fill("Bandes regroupées, rien sous 11.")
    checker.locator("form:has(input[name=verdict]) button[type=submit]").click()
    expect(checker.get_by_role("main")).to_contain_text("Bandes regroupées, rien sous 11.")

    other = sign_in_as(second)
    other.goto(reverse("output_check", args=[item.pk]))
    expect(other.get_by_role("main")).not_to_contain_text("Bandes regroupées")
    check(other)
    other.locator("input[name=verdict][value=approve]").check()
    other.locator("form:has(input[name=verdict]) button[type=submit]").click()
    expect(other.get_by_role("main")).to_contain_text("Bandes regroupées, rien sous 11.")
    check(other)

    item.refresh_from_db()
    assert item.status == OutputItemStatus.RELEASED
    team.goto(reverse("output_request", args=[item.request_id]))
    expect(team.get_by_role("main")).to_contain_text("EDS-2026-0077-R01")
    check(team)
