"""An invitee with no account follows the e-mail's link, chooses a password, accepts the charter
and sees the project (issue 13). Fields are found by their ids: their French labels arrive with
the next translation merge."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import Page, expect

from eds_portal.accounts.actions import publish_charter
from eds_portal.models import AuditEvent, User
from eds_portal.roles import Role
from projects.actions import create_project
from projects.models import TeamMembership, TeamRole
from projects.team_actions import invite_member

# The project page reads the warehouse's concept table (the data request's choices).
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]

NEWCOMER = "nina.newcomer@chu.example"
PASSWORD = "Correct-Horse-Battery-77"


def test_an_invitee_with_no_account_joins_the_project_from_the_email_link(
    page: Page, live_server, researcher, dpo, assert_accessible, assert_no_csp_violation
):
    project = create_project(by=researcher, title="Bronchiolites à domicile")
    publish_charter(
        text_fr="Je respecte le secret professionnel.",
        text_en="I keep professional secrecy.",
        by=dpo,
    )
    mail.outbox.clear()
    invite_member(project=project, email=NEWCOMER, role=TeamRole.ANALYST, by=researcher)
    [message] = [m for m in mail.outbox if m.to == [NEWCOMER]]
    [link] = re.findall(r"https?://\S+", message.body)
    path = link.removeprefix(settings.EDS_PUBLIC_URL)

    page.goto(path)
    expect(page).to_have_url(re.compile(re.escape(path) + "new-account/$"))
    expect(page.locator("#id_email")).to_have_value(NEWCOMER)
    expect(page.locator("[data-charter-text]")).to_contain_text("secret professionnel")
    assert_no_csp_violation(page)
    assert_accessible(page)

    page.locator("#id_full_name").fill("Nina Newcomer")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_accept_charter").check()
    page.locator("main form button[type=submit]").first.click()

    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(project.title)
    assert_no_csp_violation(page)
    assert_accessible(page)

    user = User.objects.get(email=NEWCOMER)
    assert user.roles == {Role.RESEARCHER}
    assert TeamMembership.objects.get(project=project, user=user).role == TeamRole.ANALYST
    assert AuditEvent.objects.filter(action="charter.accepted", actor=user).exists()
