"""A named data recipient must be on the team: the approved specification names team members
only, so a recipient outside it would be dropped silently. Submission is refused instead."""

from __future__ import annotations

import pytest
from django.utils import translation

from projects.actions import save_section, submit_project
from projects.completeness import missing_items, recipients_not_on_team
from projects.models import Draft, TeamMembership, TeamRole
from projects.team_actions import accept_invitation, invite_member
from projects.workflow import TransitionRefused
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def project(researcher):
    from projects.actions import create_project

    project = create_project(by=researcher, title="Bronchiolites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    return project


def _recipients(project, researcher, text):
    save_section(
        project=project,
        section_key="actors",
        by=researcher,
        raw={**VALID_SECTIONS["actors"], "data_recipients": text},
    )


def _content(project):
    return Draft.objects.get(project=project).content


def test_a_recipient_who_is_not_on_the_team_blocks_submission_with_their_name(researcher, project):
    _recipients(project, researcher, "Rita Researcher, Inserm\nDr Paul Statisticien, Inserm")
    with translation.override("en"):
        items = [item for item in missing_items(project) if item.section == "team"]
    assert len(items) == 1
    message = str(items[0].message)
    # The person is named, and what to do is said.
    assert "Dr Paul Statisticien" in message
    assert "not a member of the project's team" in message
    assert "Invite them to the team" in message
    assert items[0].url == f"/projects/{project.pk}/team/"
    with pytest.raises(TransitionRefused):
        submit_project(project=project, by=researcher)
    assert not project.versions.exists()


def test_recipients_match_team_members_by_name_in_any_order_case_or_accents(
    researcher, make_user, project
):
    analyst = make_user(full_name="Hélène Dupré-Martin", email="helene@inserm.example")
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    _recipients(
        project,
        researcher,
        "- Rita Researcher, Inserm U1234\n\nDUPRE-MARTIN Helene (Inserm)\n",
    )
    assert recipients_not_on_team(project, _content(project)) == []
    submit_project(project=project, by=researcher)
    version = project.versions.get()
    # Every named recipient is among the members the specification will name.
    assert {member["user"] for member in version.content["_team"]} >= {researcher.pk, analyst.pk}


def test_a_recipient_may_be_named_by_the_address_of_a_member(researcher, make_user, project):
    analyst = make_user(full_name="Ana Analyst", email="ana@inserm.example")
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    _recipients(project, researcher, "Rita Researcher\nA. Analyst <ANA@inserm.example>")
    assert recipients_not_on_team(project, _content(project)) == []


def test_an_invited_recipient_counts_once_the_invitation_is_accepted(
    researcher, make_user, project, django_capture_on_commit_callbacks
):
    _recipients(project, researcher, "Rita Researcher\nAna Analyst, ana@inserm.example")
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = invite_member(
            project=project, email="ana@inserm.example", role=TeamRole.ANALYST, by=researcher
        )
    with translation.override("en"):
        (item,) = [item for item in missing_items(project) if item.section == "team"]
    assert "has not accepted the invitation" in str(item.message)
    assert "Ana Analyst" in str(item.message)
    analyst = make_user(full_name="Ana Analyst", email="ana@inserm.example")
    accept_invitation(token=token, by=analyst)
    assert [item for item in missing_items(project) if item.section == "team"] == []
