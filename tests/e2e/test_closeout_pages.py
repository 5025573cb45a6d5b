"""Closeout and named output checkers (issue 12), in the browser: the lead's final report
(refused without the confirmation, then given), the secretariat's pipeline with the projects due
for closeout, the page where the data office names output checkers, and the named checker's
home. Every page goes through axe-core and the CSP console check. Fields are found by their
names: their labels are being translated."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from access.models_outputs import ClosingReport
from eds_portal.roles import Role
from projects.models import ProjectStatus
from tests.access.provisioning_helpers import published
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]


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


def test_final_report_pipeline_and_named_checkers(
    sign_in_as, make_user, settings, assert_accessible, assert_no_csp_violation
):
    settings.EDS_RESULTS_REMINDER_DAYS = 365 * 5  # the project's results are due "soon"
    lead = make_user(Role.RESEARCHER, full_name="Rita Lead", email="rita@inserm.example")
    secretariat = make_user(Role.SECRETARIAT, full_name="Sam Secrétariat")
    chair = make_user(Role.CHAIR, Role.COMMISSION_MEMBER, full_name="Charlotte Chair")
    project = published(lead, secretariat, chair)
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    checker = make_user(
        Role.RESEARCHER, full_name="Olga Statisticienne", organisation="Insee", device=True
    )

    def check(page: Page) -> None:
        assert_accessible(page)
        assert_no_csp_violation(page)

    team = sign_in_as(lead)
    team.goto(reverse("project_closeout", args=[project.pk]))
    expect(team.locator("#results-due")).to_be_visible()
    check(team)
    form = team.locator("form:has(textarea[name=results_summary])")
    form.locator("textarea[name=results_summary]").fill("Les visites culminent en décembre.")
    form.locator("textarea[name=no_results_reason]").fill("Résultats négatifs, non publiés.")
    form.locator("button[type=submit]").click()
    expect(team.locator("[data-error-summary]")).to_be_visible()
    expect(team.locator("textarea[name=results_summary]")).to_have_value(
        "Les visites culminent en décembre."
    )
    check(team)
    team.locator("input[name=copies_destroyed]").check()
    team.locator("form:has(textarea[name=results_summary]) button[type=submit]").click()
    expect(team.locator("#report-title")).to_be_visible()
    check(team)
    assert ClosingReport.objects.filter(project=project).exists()

    office = sign_in_as(secretariat)
    office.goto(reverse("pipeline"))
    section = office.locator("section:has(#closeout-due-title)")
    expect(section).to_contain_text(project.reference)
    check(office)

    office.goto(reverse("output_checkers"))
    check(office)
    office.locator("input[name=email]").fill("nobody@example.org")
    office.locator("input[name=validated_by]").fill("Marie Cheffe")
    office.locator("input[name=valid_until]").fill("2099-12-31")
    office.locator("form:has(input[name=email]) button[type=submit]").click()
    expect(office.locator("[data-error-summary]")).to_be_visible()
    check(office)
    office.locator("input[name=email]").fill(checker.email)
    office.locator("form:has(input[name=email]) button[type=submit]").click()
    expect(office.get_by_role("main")).to_contain_text("Olga Statisticienne")
    check(office)

    checker.forget_roles()
    named = sign_in_as(checker)
    expect(named.locator(f"#role-{Role.OUTPUT_CHECKER.value}")).to_be_visible()
    check(named)
    named.goto(reverse("output_queue"))
    check(named)
