"""The team is told of every state change, once per event, on its home page and by e-mail."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core import mail

from eds_portal.models import Notification
from eds_portal.roles import Role
from projects import workflow
from projects.actions import (
    check_admissibility,
    create_project,
    submit_project,
    withdraw_project,
)
from projects.models import ProjectStatus, TeamMembership, TeamRole
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def team(researcher, make_user):
    project = create_project(by=researcher, title="Otites moyennes")
    co = make_user(Role.RESEARCHER, full_name="Colette Co")
    analyst = make_user(Role.RESEARCHER, full_name="Anna Analyst")
    gone = make_user(Role.RESEARCHER, full_name="Gaston Gone", is_active=False)
    TeamMembership.objects.create(project=project, user=co, role=TeamRole.CO_INVESTIGATOR)
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    TeamMembership.objects.create(project=project, user=gone, role=TeamRole.ANALYST)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    return project, [researcher, co, analyst], gone


def _mails_per_address() -> Counter:
    return Counter(address for message in mail.outbox for address in message.to)


def test_a_submission_tells_each_member_once_and_the_secretariat(
    team, researcher, secretariat, django_capture_on_commit_callbacks
):
    project, members, gone = team
    with django_capture_on_commit_callbacks(execute=True):
        submit_project(project=project, by=researcher)
    per_address = _mails_per_address()
    assert {member.email: per_address[member.email] for member in members} == {
        member.email: 1 for member in members
    }
    assert per_address[secretariat.email] == 1
    assert gone.email not in per_address
    team_mail = next(m for m in mail.outbox if m.to == [researcher.email])
    assert "Version 1" in team_mail.body or "version 1" in team_mail.body.lower()
    assert project.reference in team_mail.subject
    assert team_mail.body.rstrip().endswith(f"/projects/{project.pk}/")
    secretariat_note = Notification.objects.get(recipient=secretariat)
    assert secretariat_note.url == f"/projects/{project.pk}/"
    assert Notification.objects.filter(recipient__in=members).count() == 3


def test_every_state_change_reaches_the_team_with_what_is_awaited(
    team, researcher, secretariat, django_capture_on_commit_callbacks
):
    from projects.panels import AWAITED

    project, members, _gone = team
    submit_project(project=project, by=researcher)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        check_admissibility(project=project, by=secretariat, accept=True)
    notes = list(Notification.objects.all())
    assert {n.recipient for n in notes} == set(members)
    assert _mails_per_address() == Counter({member.email: 1 for member in members})
    from django.utils import translation

    with translation.override("fr"):
        status = str(ProjectStatus.UNDER_REVIEW.label)
        awaited = str(AWAITED[ProjectStatus.UNDER_REVIEW])
    assert all(status in n.subject for n in notes)
    assert all(awaited in n.body for n in notes)
    assert all(n.url == f"/projects/{project.pk}/" for n in notes)


def test_a_return_lists_the_missing_items_in_the_one_message(
    team, researcher, secretariat, django_capture_on_commit_callbacks
):
    project, members, _gone = team
    submit_project(project=project, by=researcher)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        check_admissibility(
            project=project, by=secretariat, accept=False, missing_items="Le CV manque."
        )
    assert _mails_per_address() == Counter({member.email: 1 for member in members})
    assert all("Le CV manque." in message.body for message in mail.outbox)


def test_a_withdrawal_is_told_to_the_team(team, researcher, django_capture_on_commit_callbacks):
    project, members, _gone = team
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_project(project=project, by=researcher, reason="Financement perdu.")
    assert _mails_per_address() == Counter({member.email: 1 for member in members})
    # The reason may name people: it stays on the project.
    assert all("Financement" not in message.body for message in mail.outbox)


def test_a_refused_transition_notifies_nobody(
    team, secretariat, django_capture_on_commit_callbacks
):
    project, _members, _gone = team
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(workflow.TransitionRefused),
    ):
        workflow.fire(project, "accept_for_review", by=secretariat)
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_decision_transition_notifies_with_the_callers_note(
    team, researcher, secretariat, chair, django_capture_on_commit_callbacks
):
    project, members, _gone = team
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.fire(project, "request_changes", by=chair, team_note="Préciser la population.")
    notes = list(Notification.objects.all())
    assert {n.recipient for n in notes} == set(members)
    assert all("Préciser la population." in n.body for n in notes)
