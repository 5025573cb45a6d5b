"""Rapporteurs: the secretariat assigns unconflicted members with a due date, sees their load."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import translation

from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects.actions import create_project, declare_interest
from projects.models import RapporteurAssignment
from projects.review.actions import (
    ReviewRefused,
    assign_rapporteur,
    change_due_date,
    remove_rapporteur,
)
from tests.conftest import login
from tests.projects.review_helpers import assign, in_days, overdue_assignment, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def in_review(researcher, secretariat):
    return project_in_review(researcher, secretariat)


def _url(project) -> str:
    return f"/projects/{project.pk}/rapporteurs/"


def test_the_secretariat_assigns_a_member_who_is_told(
    client, secretariat, rapporteur, in_review, django_capture_on_commit_callbacks
):
    login(client, secretariat)
    page = client.get(_url(in_review))
    assert page.status_code == 200
    assert rapporteur.full_name in page.content.decode()
    assert page.context["lacking"] == 2
    due = in_days(10)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url(in_review), {"member": rapporteur.pk, "due_date": due.isoformat()}
        )
    assert response.status_code == 302
    assignment = RapporteurAssignment.objects.get()
    assert (assignment.member, assignment.due_date, assignment.assigned_by) == (
        rapporteur,
        due,
        secretariat,
    )
    event = AuditEvent.objects.get(action="review.rapporteur_assigned")
    assert event.actor == secretariat
    assert event.after["member"] == rapporteur.pk
    assert [m.to for m in mail.outbox if in_review.reference in m.subject][-1] == [rapporteur.email]
    # Not declared yet: the notification leads to the declaration of interests first.
    notification = Notification.objects.get(recipient=rapporteur)
    assert notification.url == f"/projects/{in_review.pk}/interests/"


def test_the_page_says_when_rapporteurs_are_lacking(
    client, secretariat, rapporteur, commission_member, in_review
):
    login(client, secretariat)

    def section():
        response = client.get(f"/projects/{in_review.pk}/")
        return next(s for s in response.context["commission_sections"] if s["key"] == "review")

    assert client.get(_url(in_review)).context["lacking"] == 2
    assert 'role="status"' in client.get(_url(in_review)).content.decode()
    assert section()["lacking"]
    # The secretariat's home panel links the file to its rapporteurs page.
    assert f"/projects/{in_review.pk}/rapporteurs/" in client.get("/").content.decode()
    assign(in_review, rapporteur, secretariat)
    assert client.get(_url(in_review)).context["lacking"] == 1
    assign(in_review, commission_member, secretariat)
    assert client.get(_url(in_review)).context["lacking"] == 0
    assert not section()["lacking"]
    assert f"/projects/{in_review.pk}/rapporteurs/" not in client.get("/").content.decode()


def test_a_conflicted_member_is_neither_offered_nor_assigned(
    client, make_user, researcher, secretariat, commission_member, in_review
):
    colleague = make_user(
        Role.COMMISSION_MEMBER, full_name="Colette Colleague", organisation=researcher.organisation
    )
    declare_interest(
        project=in_review, by=commission_member, has_interest=True, description="Co-auteur."
    )
    login(client, secretariat)
    page = client.get(_url(in_review))
    offered = {value for value, _label in page.context["form"].fields["member"].choices}
    assert colleague.pk not in offered
    assert commission_member.pk not in offered
    # The table still shows them, with the reason.
    conflicts = {c.member.pk: c.conflict for c in page.context["candidates"]}
    assert conflicts[colleague.pk]
    assert conflicts[commission_member.pk]
    response = client.post(
        _url(in_review), {"member": colleague.pk, "due_date": in_days(5).isoformat()}
    )
    assert response.status_code == 400
    # The refusal says why (the request above left the thread in the portal's language).
    with translation.override("en"):
        with pytest.raises(ReviewRefused) as refused:
            assign_rapporteur(
                project=in_review, member=colleague, due_date=in_days(5), by=secretariat
            )
        assert refused.value.reasons == [
            "Colette Colleague belongs to the same organisation as a member of the team."
        ]
        with pytest.raises(ReviewRefused) as refused:
            assign_rapporteur(
                project=in_review, member=commission_member, due_date=in_days(5), by=secretariat
            )
        assert refused.value.reasons == [
            f"{commission_member.full_name} declared an interest in this file."
        ]
    assert not RapporteurAssignment.objects.exists()
    assert not AuditEvent.objects.filter(action="review.rapporteur_assigned").exists()


@pytest.mark.usefixtures("english")
def test_a_team_member_on_the_commission_cannot_be_rapporteur(make_user, secretariat, in_review):
    from projects.models import TeamMembership

    member = make_user(Role.COMMISSION_MEMBER)
    TeamMembership.objects.create(project=in_review, user=member, role="analyst")
    with pytest.raises(ReviewRefused) as refused:
        assign_rapporteur(project=in_review, member=member, due_date=in_days(5), by=secretariat)
    assert refused.value.reasons == [f"{member.full_name} is a member of the project's team."]


@pytest.mark.usefixtures("english")
def test_due_date_in_the_future_and_only_commission_members(
    client, secretariat, rapporteur, data_steward, in_review
):
    login(client, secretariat)
    response = client.post(
        _url(in_review), {"member": rapporteur.pk, "due_date": in_days(0).isoformat()}
    )
    assert response.status_code == 400
    assert "due_date" in response.context["form"].errors
    with pytest.raises(ReviewRefused) as refused:
        assign_rapporteur(
            project=in_review, member=data_steward, due_date=in_days(-1), by=secretariat
        )
    assert len(refused.value.reasons) == 2
    assert not RapporteurAssignment.objects.exists()


@pytest.mark.usefixtures("english")
def test_only_files_in_review_get_rapporteurs(researcher, secretariat, rapporteur):
    draft = create_project(by=researcher, title="Brouillon")
    with pytest.raises(ReviewRefused) as refused:
        assign_rapporteur(project=draft, member=rapporteur, due_date=in_days(5), by=secretariat)
    assert "under review" in refused.value.reasons[0]


def test_a_member_is_assigned_once(secretariat, rapporteur, in_review):
    assign(in_review, rapporteur, secretariat)
    with pytest.raises(ReviewRefused):
        assign_rapporteur(project=in_review, member=rapporteur, due_date=in_days(5), by=secretariat)


def test_removing_an_assignment_is_audited_and_told(
    client, secretariat, rapporteur, in_review, django_capture_on_commit_callbacks
):
    assignment = assign(in_review, rapporteur, secretariat)
    login(client, secretariat)
    url = f"{_url(in_review)}{assignment.pk}/remove/"
    assert client.get(url).status_code == 405
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assignment.refresh_from_db()
    assert assignment.removed_by == secretariat
    assert AuditEvent.objects.get(action="review.rapporteur_removed").before == {
        "assignment": assignment.pk,
        "member": rapporteur.pk,
    }
    assert [m.to for m in mail.outbox] == [[rapporteur.email]]
    # Removed: a second removal finds nothing; the member can be assigned again.
    assert client.post(url).status_code == 404
    assign(in_review, rapporteur, secretariat, declare=False)
    assert RapporteurAssignment.objects.filter(removed_at__isnull=True).count() == 1


def test_changing_the_due_date_resets_the_reminders(client, secretariat, rapporteur, in_review):
    assignment = overdue_assignment(in_review, rapporteur, secretariat)
    RapporteurAssignment.objects.filter(pk=assignment.pk).update(
        reminded_after_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    login(client, secretariat)
    url = f"{_url(in_review)}{assignment.pk}/due-date/"
    field = f"due-{assignment.pk}-due_date"
    refused = client.post(url, {field: in_days(-3).isoformat()})
    assert refused.status_code == 400
    assert client.post(url, {field: in_days(7).isoformat()}).status_code == 302
    assignment.refresh_from_db()
    assert assignment.due_date == in_days(7)
    assert assignment.reminded_after_at is None
    assert AuditEvent.objects.filter(action="review.due_date_changed").exists()
    with pytest.raises(ReviewRefused):
        change_due_date(assignment=assignment, due_date=in_days(0), by=secretariat)


def test_the_page_shows_each_members_load_and_overdue_work(
    client, researcher, secretariat, rapporteur, commission_member, in_review
):
    other = project_in_review(researcher, secretariat, title="Otites")
    overdue_assignment(other, rapporteur, secretariat)
    assign(in_review, rapporteur, secretariat)
    login(client, secretariat)
    candidates = {c.member.pk: c for c in client.get(_url(in_review)).context["candidates"]}
    assert (candidates[rapporteur.pk].open_count, candidates[rapporteur.pk].overdue_count) == (2, 1)
    assert candidates[rapporteur.pk].assigned
    assert (
        candidates[commission_member.pk].open_count,
        candidates[commission_member.pk].overdue_count,
    ) == (0, 0)


def test_an_assigned_member_reads_the_file_only_after_declaring(
    client, secretariat, rapporteur, in_review
):
    assign(in_review, rapporteur, secretariat, declare=False)
    login(client, rapporteur)
    response = client.get(f"/projects/{in_review.pk}/review/")
    assert response.status_code == 302
    assert response.url == f"/projects/{in_review.pk}/interests/"
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    client.post(f"/projects/{in_review.pk}/interests/", {"has_interest": "no"})
    assert client.get(f"/projects/{in_review.pk}/review/").status_code == 200


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "chair",
        "patient_representative",
        "dpo",
        "data_steward",
        "identity_officer",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_only_the_secretariat_manages_rapporteurs(
    client, persona, secretariat, rapporteur, in_review
):
    assignment = assign(in_review, rapporteur, secretariat)
    if persona.roles & {Role.COMMISSION_MEMBER, Role.CHAIR, Role.PATIENT_REPRESENTATIVE}:
        # Even a member who may read the file does not manage its rapporteurs.
        declare_interest(project=in_review, by=persona, has_interest=False)
    login(client, persona)
    base = _url(in_review)
    assert client.get(base).status_code in (403, 404)
    assert client.post(base, {"member": rapporteur.pk, "due_date": in_days(3)}).status_code in (
        403,
        404,
    )
    assert client.post(f"{base}{assignment.pk}/remove/").status_code in (403, 404)
    assert client.post(
        f"{base}{assignment.pk}/due-date/", {f"due-{assignment.pk}-due_date": in_days(9)}
    ).status_code in (403, 404)
    assignment.refresh_from_db()
    assert assignment.removed_at is None
    assert RapporteurAssignment.objects.count() == 1


def test_anonymous_is_sent_to_login(client, in_review):
    response = client.get(_url(in_review))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_an_assignment_of_another_project_is_not_found(
    client, researcher, secretariat, rapporteur, in_review
):
    other = project_in_review(researcher, secretariat, title="Otites")
    assignment = assign(other, rapporteur, secretariat)
    login(client, secretariat)
    assert client.post(f"{_url(in_review)}{assignment.pk}/remove/").status_code == 404
    assignment.refresh_from_db()
    assert assignment.removed_at is None


def test_removal_by_a_non_secretariat_is_refused_in_the_action(
    secretariat, rapporteur, commission_member, in_review
):
    assignment = assign(in_review, rapporteur, secretariat)
    with pytest.raises(ReviewRefused):
        remove_rapporteur(assignment=assignment, by=commission_member)
