"""External experts (django-guardian per-object grants through the facade): the secretariat
invites an address to review one file; the expert (a new account, no role) declares their
interests, reads that file and reviews it, and nothing else; the grant ends when the review is
submitted or the file decided, audited."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from guardian.shortcuts import get_perms

from eds_portal.authz import Permission, has_permission
from eds_portal.models import AuditEvent, User
from projects.models import ExpertInvitation, Review
from projects.review.experts import (
    ExpertRefused,
    accept_expert_invitation,
    invite_expert,
)
from tests.conftest import login
from tests.projects.review_helpers import COMPLETE_REVIEW, in_days, review_post
from tests.projects.sessions_helpers import decide, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

NEW_PASSWORD = "Vraiment-Solide-Phrase-2026"


def _token_from_mail() -> str:
    [message] = [m for m in mail.outbox if "expert" in m.subject.lower()]
    return re.search(r"/experts/invitations/([^/\s]+)/", message.body).group(1)


def _invite(project, secretariat, email="expert@labo.example", days=14):
    return invite_expert(project=project, email=email, due_date=in_days(days), by=secretariat)


def _expert(project, secretariat, make_user, email="expert@labo.example", declare=True):
    """An existing account accepting an invitation to ``project``, declared if asked."""
    user = User.objects.filter(email=email).first() or make_user(email=email)
    _invitation, token = _invite(project, secretariat, email=email)
    accept_expert_invitation(token=token, by=user)
    client = login(Client(), user)
    if declare:
        response = client.post(f"/projects/{project.pk}/interests/", {"has_interest": "no"})
        assert response.status_code == 302
    return user, client


@pytest.fixture
def in_review(researcher, secretariat):
    return project_in_review(researcher, secretariat)


@pytest.fixture
def other_project(researcher, secretariat):
    return project_in_review(researcher, secretariat, title="Otites de l'enfant")


# --- The whole path, from the secretariat's invitation to the submitted review ------------------


def test_an_unknown_address_becomes_an_expert_reviews_the_file_and_loses_the_grant(
    client, in_review, secretariat, django_capture_on_commit_callbacks
):
    staff = login(Client(), secretariat)
    assert staff.get(f"/projects/{in_review.pk}/experts/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            f"/projects/{in_review.pk}/experts/",
            {"email": "Nouvelle.Experte@Labo.example", "due_date": in_days(10).isoformat()},
        )
    assert response.status_code == 302
    invitation = ExpertInvitation.objects.get(project=in_review)
    assert invitation.email == "nouvelle.experte@labo.example"
    invited = AuditEvent.objects.get(action="review.expert_invited")
    assert (invited.actor, invited.after["invitation"]) == (secretariat, invitation.pk)
    assert "labo.example" not in str(invited.after)
    token = _token_from_mail()

    # The link, for an address with no account: the sign-up form.
    link = f"/experts/invitations/{token}/"
    assert client.get(link).status_code == 200
    response = client.post(
        link,
        {
            "full_name": "Nadia Experte",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "accept_charter": "on",
        },
    )
    assert response.status_code == 302
    assert response.url == f"/projects/{in_review.pk}/interests/"
    expert = User.objects.get(email="nouvelle.experte@labo.example")
    assert expert.roles == frozenset()  # no role: only the grant on this file
    assert get_perms(expert, in_review) == ["review_as_expert"]
    granted = AuditEvent.objects.get(action="review.expert_granted")
    assert (granted.actor, granted.after["expert"]) == (expert, expert.pk)

    # Before declaring: the review sends to the declaration, the file is not shown.
    assert client.get(f"/projects/{in_review.pk}/review/").url == (
        f"/projects/{in_review.pk}/interests/"
    )
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    assert client.get(f"/projects/{in_review.pk}/interests/").status_code == 200
    response = client.post(f"/projects/{in_review.pk}/interests/", {"has_interest": "no"})
    assert response.url == f"/projects/{in_review.pk}/review/"

    # The file, its submitted version and the review; the home page lists it.
    assert f'href="/projects/{in_review.pk}/review/"' in client.get("/").content.decode()
    assert client.get(f"/projects/{in_review.pk}/").status_code == 200
    assert client.get(f"/projects/{in_review.pk}/versions/1/").status_code == 200
    assert client.get(f"/projects/{in_review.pk}/review/").status_code == 200
    response = client.post(f"/projects/{in_review.pk}/review/", review_post(COMPLETE_REVIEW))
    assert response.status_code == 302
    response = client.post(
        f"/projects/{in_review.pk}/review/", review_post(COMPLETE_REVIEW, "submit")
    )
    assert response.status_code == 302
    assert response.url == "/"
    review = Review.objects.get(project=in_review, reviewer=expert)
    assert review.submitted_at is not None

    # The grant is gone with the submission, audited; the secretariat reads the review.
    assert get_perms(expert, in_review) == []
    invitation.refresh_from_db()
    assert (invitation.end_reason, invitation.ended_at is not None) == ("review_submitted", True)
    removed = AuditEvent.objects.get(action="review.expert_grant_removed")
    assert (removed.actor, removed.after, removed.before["expert"]) == (
        expert,
        {"reason": "review_submitted"},
        expert.pk,
    )
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    assert client.get(f"/projects/{in_review.pk}/review/").status_code in (403, 404)
    assert f"/projects/{in_review.pk}/review/" not in client.get("/").content.decode()
    reviews = staff.get(f"/projects/{in_review.pk}/reviews/").content.decode()
    assert "Nadia Experte" in reviews
    # The used link gives nothing more.
    assert client.get(link).status_code == 410


def test_an_existing_account_signs_in_then_accepts(in_review, secretariat, make_user):
    known = make_user(email="known@labo.example")
    _invitation, token = _invite(in_review, secretariat, email="known@labo.example")
    link = f"/experts/invitations/{token}/"
    anonymous = Client().get(link)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith("/accounts/login/")
    client = login(Client(), known)
    assert client.get(link).status_code == 200
    assert client.post(link).url == f"/projects/{in_review.pk}/interests/"
    assert has_permission(known, Permission.DECLARE_INTEREST, in_review)
    # Once accepted, the link leads back to the review.
    assert client.get(link).url == f"/projects/{in_review.pk}/review/"


# --- Nothing but that one file ------------------------------------------------------------------


def test_the_expert_reaches_nothing_else(in_review, other_project, secretariat, make_user):
    expert, client = _expert(in_review, secretariat, make_user)
    assert has_permission(expert, Permission.REVIEW_PROJECT, in_review)
    assert has_permission(expert, Permission.VIEW_PROJECT, in_review)
    for permission in (Permission.VIEW_PROJECT, Permission.REVIEW_PROJECT):
        assert not has_permission(expert, permission, other_project)
    for permission in (
        Permission.READ_REVIEWS,
        Permission.VOTE,
        Permission.ASSIGN_RAPPORTEURS,
        Permission.EDIT_PROJECT,
    ):
        assert not has_permission(expert, permission, in_review)
    other = other_project.pk
    assert client.get(f"/projects/{other}/").status_code == 404
    assert client.get(f"/projects/{other}/versions/1/").status_code == 404
    assert client.get(f"/projects/{other}/review/").status_code in (403, 404)
    assert client.get(f"/projects/{other}/interests/").status_code == 403
    for url in (
        "/projects/",
        "/commission/my-files/",
        "/commission/sessions/",
        f"/projects/{in_review.pk}/reviews/",
        f"/projects/{in_review.pk}/rapporteurs/",
        f"/projects/{in_review.pk}/experts/",
        f"/api/v1/projects/{in_review.pk}/reviews/",
    ):
        assert client.get(url).status_code in (403, 404), url


def test_an_expert_from_the_teams_organisation_is_conflicted(
    in_review, secretariat, make_user, researcher
):
    User.objects.filter(pk=researcher.pk).update(organisation="Inserm U1234")
    colleague = make_user(email="colleague@labo.example", organisation="INSERM u1234")
    _invitation, token = _invite(in_review, secretariat, email=colleague.email)
    accept_expert_invitation(token=token, by=colleague)
    client = login(Client(), colleague)
    client.post(f"/projects/{in_review.pk}/interests/", {"has_interest": "no"})
    assert not has_permission(colleague, Permission.VIEW_PROJECT, in_review)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404


def test_nobody_else_can_use_the_invitation_or_the_grant(
    in_review, other_project, secretariat, make_user, researcher, commission_member
):
    _invitation, token = _invite(in_review, secretariat, email="expert@labo.example")
    link = f"/experts/invitations/{token}/"
    # Another account holding the link: refused, nothing granted.
    intruder = make_user(email="intruder@labo.example")
    client = login(Client(), intruder)
    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    assert get_perms(intruder, in_review) == []
    with pytest.raises(ExpertRefused):
        accept_expert_invitation(token=token, by=researcher)
    # The expert of another file reaches nothing of this one.
    other_expert, other_client = _expert(
        other_project, secretariat, make_user, email="other@labo.example"
    )
    assert not has_permission(other_expert, Permission.VIEW_PROJECT, in_review)
    assert other_client.get(f"/projects/{in_review.pk}/").status_code == 404
    assert other_client.get(f"/projects/{in_review.pk}/review/").status_code in (403, 404)
    # The team's researcher and a commission member who is not rapporteur cannot review.
    for person in (researcher, commission_member):
        assert not has_permission(person, Permission.REVIEW_PROJECT, in_review)
    # A disabled expert loses everything at once.
    expert, _client = _expert(in_review, secretariat, make_user, email="third@labo.example")
    assert has_permission(expert, Permission.VIEW_PROJECT, in_review)
    User.objects.filter(pk=expert.pk).update(is_active=False)
    expert.refresh_from_db()
    assert not has_permission(expert, Permission.VIEW_PROJECT, in_review)


@pytest.mark.parametrize(
    "persona", ["researcher", "commission_member", "chair", "dpo", "outsider"], indirect=True
)
def test_only_the_secretariat_invites_experts(persona, in_review, secretariat):
    client = login(Client(), persona)
    response = client.post(
        f"/projects/{in_review.pk}/experts/",
        {"email": "expert@labo.example", "due_date": in_days(10).isoformat()},
    )
    assert response.status_code in (403, 404)
    assert not ExpertInvitation.objects.exists()
    with pytest.raises(ExpertRefused):
        _invite(in_review, persona)


def test_invitations_refused_for_the_team_a_past_date_or_twice(
    in_review, secretariat, researcher, english
):
    for email, days in ((researcher.email, 10), ("x@labo.example", -1), ("not an address", 10)):
        with pytest.raises(ExpertRefused):
            _invite(in_review, secretariat, email=email, days=days)
    _invite(in_review, secretariat)
    with pytest.raises(ExpertRefused, match="already"):
        _invite(in_review, secretariat)
    staff = login(Client(), secretariat)
    response = staff.post(
        f"/projects/{in_review.pk}/experts/", {"email": "expert@labo.example", "due_date": "x"}
    )
    assert response.status_code == 400
    assert b'value="expert@labo.example"' in response.content


# --- The decision ends the grants ---------------------------------------------------------------


def test_the_decision_ends_every_expert_grant_and_unused_invitation(
    voting, chair, commission_member, secretariat, make_user
):
    from projects.sessions.actions import cast_vote

    project = voting.project
    expert, client = _expert(project, secretariat, make_user)
    pending, token = _invite(project, secretariat, email="late@labo.example")
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    cast_vote(item=voting, by=commission_member, choice="favourable")
    decide(voting, chair)
    assert get_perms(expert, project) == []
    assert not has_permission(expert, Permission.VIEW_PROJECT, project)
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    ended = AuditEvent.objects.filter(action="review.expert_grant_removed")
    assert {(e.actor, e.after["reason"]) for e in ended} == {(chair, "file_decided")}
    assert ended.count() == 2
    pending.refresh_from_db()
    assert pending.end_reason == "file_decided"
    late = make_user(email="late@labo.example")
    with pytest.raises(ExpertRefused):
        accept_expert_invitation(token=token, by=late)


# --- The DPO's access review ----------------------------------------------------------------


def test_the_access_review_lists_expert_grants_and_revokes_them(
    in_review, secretariat, make_user, dpo, researcher
):
    expert, client = _expert(in_review, secretariat, make_user)
    invitation = ExpertInvitation.objects.get(expert=expert)
    review = login(Client(), dpo)
    html = review.get("/projects/access-review/").content.decode()
    assert f'data-expert-grant="{invitation.pk}"' in html
    # Another account's grant id with this account: nothing changes.
    response = review.post(
        "/projects/access-review/",
        {"action": "end_expert", "user": researcher.pk, "invitation": invitation.pk},
    )
    assert response.status_code == 404
    assert get_perms(expert, in_review) == ["review_as_expert"]
    response = review.post(
        "/projects/access-review/",
        {"action": "end_expert", "user": expert.pk, "invitation": invitation.pk},
    )
    assert response.status_code == 302
    assert get_perms(expert, in_review) == []
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    event = AuditEvent.objects.get(action="review.expert_grant_removed")
    assert (event.actor, event.after) == (dpo, {"reason": "withdrawn"})
    assert (
        f'data-expert-grant="{invitation.pk}"'
        not in review.get("/projects/access-review/").content.decode()
    )
