"""The secretariat's admissibility check, and the revised version that follows a return."""

from __future__ import annotations

import pytest
from django.core import mail

from eds_portal.models import AuditEvent
from projects import workflow
from projects.actions import check_admissibility, create_project, save_section, submit_project
from projects.models import AdmissibilityCheck, ProjectStatus
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def submitted(researcher):
    project = create_project(by=researcher, title="Otites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    project.refresh_from_db()
    return project


def test_accepting_sends_the_file_to_review(
    client, secretariat, researcher, submitted, django_capture_on_commit_callbacks
):
    login(client, secretariat)
    assert "admissibility" in client.get(f"/projects/{submitted.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{submitted.pk}/admissibility/", {"decision": "accept"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ProjectStatus.UNDER_REVIEW
    assert AuditEvent.objects.get(action="project.accept_for_review").actor == secretariat
    assert [message.to for message in mail.outbox] == [[researcher.email]]


def test_returning_lists_the_missing_items_to_the_team(
    client, secretariat, researcher, submitted, django_capture_on_commit_callbacks
):
    login(client, secretariat)
    refused = client.post(f"/projects/{submitted.pk}/admissibility/", {"decision": "return"})
    assert refused.status_code == 400
    assert "missing_items" in refused.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/projects/{submitted.pk}/admissibility/",
            {"decision": "return", "missing_items": "Le CV du porteur manque."},
        )
    submitted.refresh_from_db()
    assert submitted.status == ProjectStatus.INCOMPLETE
    assert "Le CV du porteur manque." in mail.outbox[0].body
    event = AuditEvent.objects.get(action="project.return_incomplete")
    assert "CV" not in str(event.after)  # the list lives on the check, not in the trail
    login(client, researcher)
    page = client.get(f"/projects/{submitted.pk}/").content.decode()
    assert "Le CV du porteur manque." in page


def test_a_returned_file_comes_back_as_version_2_and_can_be_compared(
    client, secretariat, researcher, submitted
):
    check_admissibility(
        project=submitted, by=secretariat, accept=False, missing_items="Préciser la population."
    )
    submitted.refresh_from_db()
    save_section(
        project=submitted,
        section_key="methodology",
        by=researcher,
        raw={
            **VALID_SECTIONS["methodology"],
            "population": "Enfants de moins de 2 ans "
            "vus en visite à domicile ou en centre entre 2023 et 2025.",
        },
    )
    second = submit_project(project=submitted, by=researcher)
    submitted.refresh_from_db()
    assert second.number == 2
    assert submitted.status == ProjectStatus.SUBMITTED
    login(client, researcher)
    response = client.get(f"/projects/{submitted.pk}/compare/", {"old": 1, "new": 2})
    assert response.status_code == 200
    assert "<ins>" in response.content.decode()


@pytest.mark.parametrize(
    "persona", ["researcher", "dpo", "chair", "commission_member"], indirect=True
)
def test_only_the_secretariat_checks_admissibility(client, persona, submitted):
    login(client, persona)
    url = f"/projects/{submitted.pk}/admissibility/"
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"decision": "accept"}).status_code in (403, 404)
    submitted.refresh_from_db()
    assert submitted.status == ProjectStatus.SUBMITTED
    assert not AdmissibilityCheck.objects.exists()


def test_a_draft_cannot_be_checked(secretariat, researcher):
    project = create_project(by=researcher, title="Brouillon")
    with pytest.raises(workflow.TransitionRefused):
        check_admissibility(project=project, by=secretariat, accept=True)
