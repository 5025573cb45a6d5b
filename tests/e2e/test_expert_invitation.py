"""An external expert with no account follows the e-mail's link, chooses a password, accepts the
charter, declares no interest and reaches the review of that one file (django-guardian grant).
Fields are found by their ids and values: their French labels arrive with the next translation
merge."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from guardian.shortcuts import get_perms
from playwright.sync_api import Page, expect

from eds_portal.accounts.actions import publish_charter
from eds_portal.models import User
from projects.review.experts import invite_expert
from tests.projects.review_helpers import in_days
from tests.projects.sessions_helpers import project_in_review

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]

EXPERT = "eva.experte@univ.example"
PASSWORD = "Correct-Horse-Battery-77"


def test_an_expert_with_no_account_reaches_the_review_of_one_file(
    page: Page,
    live_server,
    researcher,
    secretariat,
    dpo,
    assert_accessible,
    assert_no_csp_violation,
):
    project = project_in_review(researcher, secretariat)
    publish_charter(
        text_fr="Je respecte le secret professionnel.",
        text_en="I keep professional secrecy.",
        by=dpo,
    )
    mail.outbox.clear()
    invite_expert(project=project, email=EXPERT, due_date=in_days(12), by=secretariat)
    [message] = [m for m in mail.outbox if m.to == [EXPERT]]
    [link] = re.findall(r"https?://\S+", message.body)
    path = link.removeprefix(settings.EDS_PUBLIC_URL)

    page.goto(path)
    expect(page.locator("#id_email")).to_have_value(EXPERT)
    expect(page.locator("[data-charter-text]")).to_contain_text("secret professionnel")
    assert_no_csp_violation(page)
    assert_accessible(page)
    page.locator("#id_full_name").fill("Eva Experte")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.locator("#id_accept_charter").check()
    page.locator("main form button[type=submit]").first.click()

    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/interests/")
    assert_accessible(page)
    page.locator("input[name=has_interest][value=no]").check()
    page.locator("main form button[type=submit]").last.click()

    expect(page).to_have_url(f"{live_server.url}/projects/{project.pk}/review/")
    expect(page.locator("main")).to_contain_text(project.reference)
    assert_no_csp_violation(page)
    assert_accessible(page)

    expert = User.objects.get(email=EXPERT)
    assert expert.roles == frozenset()
    assert get_perms(expert, project) == ["review_as_expert"]
