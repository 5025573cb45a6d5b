"""Sessions: agenda, convocation, attendance, quorum (GOV-09) and votes (GOV-10)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.utils import DatabaseError

from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects.models import AgendaItem, ProjectStatus, SessionStatus, TeamMembership, Vote
from projects.sessions import actions
from projects.sessions.actions import Refused, cast_vote, tally
from projects.sessions.quorum import quorum_reasons
from tests.projects.sessions_helpers import declare, open_session_with, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


# --- Agenda and convocation ------------------------------------------------------------------


def test_the_agenda_binds_the_latest_version_of_a_project_under_review(item, in_review):
    assert item.version == in_review.versions.get()
    assert item.position == 1
    event = AuditEvent.objects.get(action="session.agenda_added")
    assert event.after == {"project": in_review.reference, "version": 1, "position": 1}


def test_only_projects_under_review_go_on_the_agenda(planned, researcher, secretariat, english):
    from projects.actions import create_project

    draft = create_project(by=researcher, title="Brouillon")
    with pytest.raises(Refused) as refused:
        actions.add_to_agenda(session=planned, project=draft, by=secretariat)
    assert "Only a project under review can be put on the agenda." in refused.value.reasons


def test_a_project_is_on_one_pending_agenda_at_a_time(item, secretariat, english):
    from django.utils import timezone

    other = actions.create_session(by=secretariat, date=timezone.now() + timezone.timedelta(9))
    with pytest.raises(Refused) as refused:
        actions.add_to_agenda(session=other, project=item.project, by=secretariat)
    assert "This project is already on another session's agenda." in refused.value.reasons


def test_reorder_and_remove_while_planned_only(
    item, planned, researcher, secretariat, chair, commission_member, patient_representative
):
    second = actions.add_to_agenda(
        session=planned,
        project=project_in_review(researcher, secretariat, "Second"),
        by=secretariat,
    )
    actions.move_agenda_item(item=second, by=secretariat, up=True)
    order = list(planned.items.order_by("position").values_list("pk", flat=True))
    assert order == [second.pk, item.pk]
    actions.remove_from_agenda(item=second, by=secretariat)
    assert list(planned.items.values_list("pk", "position")) == [(item.pk, 1)]
    declare(item.project, chair, commission_member, patient_representative)
    open_session_with(
        planned,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    with pytest.raises(Refused):
        actions.remove_from_agenda(item=item, by=secretariat)
    assert AgendaItem.objects.filter(pk=item.pk).exists()


def test_a_commission_member_cannot_manage_the_agenda(item, commission_member):
    with pytest.raises(Refused):
        actions.remove_from_agenda(item=item, by=commission_member)


def test_convocation_reaches_the_members_not_the_team(
    item,
    secretariat,
    researcher,
    chair,
    commission_member,
    patient_representative,
    dpo,
    django_capture_on_commit_callbacks,
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        count = actions.convene_session(session=item.session, by=secretariat)
    assert count == 3
    recipients = {m.to[0] for m in mail.outbox}
    assert recipients == {chair.email, commission_member.email, patient_representative.email}
    assert researcher.email not in recipients
    assert dpo.email not in recipients
    assert item.project.reference not in mail.outbox[0].body  # the agenda stays on the portal
    assert not Notification.objects.filter(recipient=researcher, url__contains="commission")
    item.session.refresh_from_db()
    assert item.session.convened_at is not None
    assert AuditEvent.objects.get(action="session.convened").after["members"] == 3


# --- Attendance and quorum -------------------------------------------------------------------


def test_quorum_needs_enough_members(
    planned, secretariat, chair, patient_representative, settings, english
):
    settings.EDS_QUORUM_MIN_MEMBERS = 3
    actions.record_attendance(
        session=planned, by=secretariat, presence={chair.pk: True, patient_representative.pk: True}
    )
    assert quorum_reasons(planned) == ["2 members present; the quorum needs at least 3."]
    with pytest.raises(Refused) as refused:
        actions.open_session(session=planned, by=chair)
    assert refused.value.reasons == ["2 members present; the quorum needs at least 3."]
    planned.refresh_from_db()
    assert planned.status == SessionStatus.PLANNED


def test_quorum_needs_a_patient_representative(
    planned, secretariat, chair, commission_member, rapporteur, patient_representative, english
):
    open_session_kwargs = {
        chair.pk: True,
        commission_member.pk: True,
        rapporteur.pk: True,
        patient_representative.pk: False,
    }
    actions.record_attendance(session=planned, by=secretariat, presence=open_session_kwargs)
    assert quorum_reasons(planned) == [
        "No patient representative is present; the quorum needs one."
    ]
    with pytest.raises(Refused):
        actions.open_session(session=planned, by=chair)


def test_quorum_exactly_reached_opens_the_session(
    planned, secretariat, chair, commission_member, patient_representative, settings
):
    settings.EDS_QUORUM_MIN_MEMBERS = 3
    open_session_with(
        planned,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    planned.refresh_from_db()
    assert planned.status == SessionStatus.OPEN
    assert planned.opened_by == chair
    assert AuditEvent.objects.get(action="session.opened").after["present"] == 3


def test_a_revoked_member_no_longer_counts(
    planned, secretariat, chair, commission_member, patient_representative
):
    from django.contrib.auth.models import Group

    open_kwargs = [chair, commission_member, patient_representative]
    actions.record_attendance(
        session=planned, by=secretariat, presence={m.pk: True for m in open_kwargs}
    )
    assert quorum_reasons(planned) == []
    commission_member.groups.remove(Group.objects.get(name=Role.COMMISSION_MEMBER.value))
    assert len(quorum_reasons(planned)) == 1


def test_only_commission_members_are_recorded(planned, secretariat, researcher):
    with pytest.raises(Refused):
        actions.record_attendance(session=planned, by=secretariat, presence={researcher.pk: True})


def test_only_the_chair_opens(planned, secretariat):
    with pytest.raises(Refused):
        actions.open_session(session=planned, by=secretariat)


# --- Votes -----------------------------------------------------------------------------------


def test_a_present_declared_member_votes_once(voting, commission_member, english):
    vote = cast_vote(item=voting, by=commission_member, choice="favourable")
    event = AuditEvent.objects.get(action="vote.cast")
    assert event.actor == commission_member
    assert event.after["choice"] == "favourable"
    assert event.after["item"] == voting.pk
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=commission_member, choice="unfavourable")
    assert "You have already voted on this item; a vote is final." in refused.value.reasons
    assert Vote.objects.get().choice == vote.choice == "favourable"


def test_an_absent_member_cannot_vote(voting, rapporteur, secretariat, english):
    declare(voting.project, rapporteur)
    actions.record_attendance(
        session=voting.session, by=secretariat, presence={rapporteur.pk: False}
    )
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=rapporteur, choice="favourable")
    assert "You are not recorded present at this session." in refused.value.reasons


def test_a_member_who_declared_an_interest_cannot_vote(voting, rapporteur, secretariat, english):
    declare(voting.project, rapporteur, interest=True)
    actions.record_attendance(
        session=voting.session, by=secretariat, presence={rapporteur.pk: True}
    )
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=rapporteur, choice="favourable")
    assert (
        "You declared an interest in this project: you do not vote on it." in refused.value.reasons
    )
    assert not Vote.objects.exists()


def test_a_colleague_of_the_team_is_conflicted_automatically(
    voting, researcher, secretariat, make_user, english
):
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    actions.record_attendance(session=voting.session, by=secretariat, presence={colleague.pk: True})
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=colleague, choice="favourable")
    assert any("same organisation" in r for r in refused.value.reasons)
    assert colleague not in tally(voting)["not_voted"]


def test_a_team_member_on_the_commission_cannot_vote(voting, secretariat, make_user, english):
    member = make_user(Role.COMMISSION_MEMBER, Role.RESEARCHER)
    TeamMembership.objects.create(project=voting.project, user=member, role="analyst")
    actions.record_attendance(session=voting.session, by=secretariat, presence={member.pk: True})
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=member, choice="favourable")
    assert any("member of the project's team" in r for r in refused.value.reasons)


def test_an_undeclared_member_must_declare_first(voting, rapporteur, secretariat, english):
    actions.record_attendance(
        session=voting.session, by=secretariat, presence={rapporteur.pk: True}
    )
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=rapporteur, choice="favourable")
    assert "Declare your interests for this project before voting." in refused.value.reasons


def test_no_vote_before_the_session_opens(item, chair, english):
    declare(item.project, chair)
    with pytest.raises(Refused) as refused:
        cast_vote(item=item, by=chair, choice="favourable")
    assert "Votes are cast only while the session is open." in refused.value.reasons


def test_no_vote_once_the_quorum_is_lost(voting, commission_member, secretariat, english):
    actions.record_attendance(
        session=voting.session, by=secretariat, presence={commission_member.pk: False}
    )
    with pytest.raises(Refused):
        cast_vote(item=voting, by=commission_member, choice="favourable")


def test_no_vote_in_a_closed_session(voting, chair, commission_member, english):
    actions.defer_item(item=voting, by=chair)
    actions.close_session(session=voting.session, by=chair)
    voting.refresh_from_db()
    with pytest.raises(Refused) as refused:
        cast_vote(item=voting, by=commission_member, choice="favourable")
    assert "Votes are cast only while the session is open." in refused.value.reasons


def test_an_unknown_choice_is_refused(voting, commission_member):
    with pytest.raises(Refused):
        cast_vote(item=voting, by=commission_member, choice="maybe")


def test_the_tally_counts_choices_and_who_has_not_voted(
    voting, chair, commission_member, patient_representative
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    cast_vote(item=voting, by=patient_representative, choice="abstention")
    result = tally(voting)
    assert result["counts"]["favourable"] == 1
    assert result["counts"]["abstention"] == 1
    assert result["counts"]["unfavourable"] == 0
    assert result["cast"] == 2
    assert result["eligible"] == 3
    assert result["not_voted"] == [chair]
    assert result["leading"] == "favourable"


def test_a_vote_is_final_in_the_model_and_in_postgresql(voting, commission_member):
    vote = cast_vote(item=voting, by=commission_member, choice="favourable")
    vote.choice = "unfavourable"
    with pytest.raises(PermissionError):
        vote.save()
    with pytest.raises(PermissionError):
        vote.delete()
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE projects_vote SET choice = 'unfavourable' WHERE id = %s", [vote.pk])
    assert Vote.objects.get(pk=vote.pk).choice == "favourable"


# --- Closing -------------------------------------------------------------------------------


def test_a_session_closes_once_every_item_is_decided_or_deferred(voting, chair, english):
    with pytest.raises(Refused) as refused:
        actions.close_session(session=voting.session, by=chair)
    assert voting.project.reference in refused.value.reasons[0]
    actions.defer_item(item=voting, by=chair)
    session = actions.close_session(session=voting.session, by=chair)
    assert session.status == SessionStatus.CLOSED
    assert AuditEvent.objects.get(action="session.closed").after["deferred"] == 1
    # A deferred project may go on another session's agenda.
    voting.project.refresh_from_db()
    assert voting.project.status == ProjectStatus.UNDER_REVIEW
    assert voting.project in actions.agenda_candidates()
