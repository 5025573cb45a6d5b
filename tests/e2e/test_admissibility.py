"""The secretariat returns a submitted file as incomplete, in a real browser (axe-core, CSP)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from projects.actions import create_project, submit_project
from projects.models import ProjectStatus
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token
from tests.projects.helpers import attach_required, fill_draft

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]


def test_secretariat_returns_a_file_with_its_missing_items(
    page: Page, live_server, researcher, secretariat, assert_accessible, assert_no_csp_violation
):
    project = create_project(by=researcher, title="Otites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)

    page.goto(reverse("login"))
    sign_in(page, secretariat.email)
    submit_token(page, current_code(secretariat.totpdevice_set.get()), button="Vérifier")
    page.get_by_role("link", name=project.reference).first.click()
    page.get_by_role("link", name="Contrôler la recevabilité").click()
    assert_accessible(page)
    assert_no_csp_violation(page)

    page.get_by_label("Des éléments manquent : le renvoyer à l'équipe").check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.locator(".field__errors")).to_contain_text("éléments manquants")
    assert_accessible(page)
    page.get_by_label("Éléments manquants").fill("Le CV du porteur de projet manque.")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_role("status").first).to_contain_text("Décision enregistrée")
    project.refresh_from_db()
    assert project.status == ProjectStatus.INCOMPLETE
