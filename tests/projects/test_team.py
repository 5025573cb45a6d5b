"""A project's team: invitations by e-mail with an expiring link, joining, removal, roles."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from eds_portal.authz import Permission, has_permission
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.actions import create_project
from projects.models import Invitation, Project, ProjectStatus, TeamMembership, TeamRole
from projects.team_actions import (
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationForAnotherAccount,
    InvitationRevoked,
    TeamError,
    accept_invitation,
    change_member_role,
    invite_member,
    remove_member,
    revoke_invitation,
)
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=["default"])

INVITEE_EMAIL = "alice@univ.example"


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites à domicile")


@pytest.fixture
def invitee(make_user):
    return make_user(Role.RESEARCHER, full_name="Alice Analyste", email=INVITEE_EMAIL)


def _team_url(project: Project) -> str:
    return f"/projects/{project.pk}/team/"


def _accept_url(token: str) -> str:
    return f"/projects/invitations/{token}/"


def _client_for(user) -> Client:
    return login(Client(), user)


def _member(project: Project, user, role: TeamRole) -> TeamMembership:
    _invitation, token = invite_member(
        project=project, email=user.email, role=role, by=project.created_by
    )
    return accept_invitation(token=token, by=user)


def _fresh(project: Project) -> Project:
    # A new instance: the permission rules cache the team on the instance they are given.
    return Project.objects.get(pk=project.pk)


# --- Invitations --------------------------------------------------------------------------


def test_the_lead_invites_by_email_and_the_link_lets_the_invitee_join(
    client, researcher, invitee, project, django_capture_on_commit_callbacks
):
    login(client, researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _team_url(project),
            {"action": "invite", "email": INVITEE_EMAIL, "role": TeamRole.ANALYST},
        )
    assert response.status_code == 302
    assert response.url == _team_url(project)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [INVITEE_EMAIL]
    assert project.reference in message.subject
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1
    link = links[0]
    assert link.startswith(settings.EDS_PUBLIC_URL + "/projects/invitations/")
    path = link.removeprefix(settings.EDS_PUBLIC_URL)

    guest = _client_for(invitee)
    page = guest.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert project.reference in html
    assert project.title in html
    assert 'type="submit"' in html

    joined = guest.post(path)
    assert joined.status_code == 302
    assert joined.url == f"/projects/{project.pk}/"
    membership = TeamMembership.objects.get(project=project, user=invitee)
    assert membership.role == TeamRole.ANALYST


def test_no_email_is_sent_when_the_invitation_rolls_back(
    researcher, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(TeamError):
        invite_member(project=project, email=researcher.email, role="analyst", by=researcher)
    assert mail.outbox == []


def test_only_the_hash_of_the_token_is_stored(researcher, project):
    invitation, token = invite_member(
        project=project, email=INVITEE_EMAIL, role=TeamRole.CO_INVESTIGATOR, by=researcher
    )
    assert len(token) >= 43  # 32 random bytes, base64
    invitation.refresh_from_db()
    assert invitation.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    stored = json.dumps(list(Invitation.objects.values()), default=str)
    assert token not in stored
    trail = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert token not in trail
    assert invitation.token_sha256 not in trail


def test_the_invitation_is_audited_without_the_email_address(researcher, project):
    invitation, _token = invite_member(
        project=project, email=INVITEE_EMAIL, role=TeamRole.ANALYST, by=researcher
    )
    event = AuditEvent.objects.get(action="project.member_invited")
    assert event.actor == researcher
    assert (event.target_type, event.target_id) == ("projects.project", str(project.pk))
    assert event.after["invitation"] == invitation.pk
    assert event.after["role"] == "analyst"
    assert INVITEE_EMAIL not in json.dumps([event.before, event.after])


def test_the_link_expires_after_the_configured_number_of_days(settings, researcher, project):
    settings.EDS_INVITATION_DAYS = 3
    before = timezone.now()
    invitation, _token = invite_member(
        project=project, email=INVITEE_EMAIL, role=TeamRole.ANALYST, by=researcher
    )
    assert timedelta(days=3) <= invitation.expires_at - before < timedelta(days=3, minutes=1)


@pytest.mark.usefixtures("english")
def test_inviting_a_member_or_an_address_with_a_pending_invitation_is_refused(
    client, researcher, invitee, project
):
    with pytest.raises(TeamError, match="already a member"):
        invite_member(project=project, email="RITA@inserm.example", role="analyst", by=researcher)
    invite_member(project=project, email=INVITEE_EMAIL, role="analyst", by=researcher)
    with pytest.raises(TeamError, match="pending invitation"):
        invite_member(project=project, email="Alice@Univ.example", role="analyst", by=researcher)

    login(client, researcher)
    response = client.post(
        _team_url(project), {"action": "invite", "email": INVITEE_EMAIL, "role": "analyst"}
    )
    assert response.status_code == 400
    assert response.context["invite_form"].non_field_errors()
    assert Invitation.objects.count() == 1


def test_an_expired_invitation_does_not_block_a_new_one(researcher, project):
    first, _token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    Invitation.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    second, _token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    assert second.pk != first.pk


def test_the_lead_cannot_give_the_lead_role(researcher, project):
    with pytest.raises(TeamError):
        invite_member(project=project, email=INVITEE_EMAIL, role=TeamRole.LEAD, by=researcher)


# --- Accepting --------------------------------------------------------------------------------


def test_accepting_with_the_matching_account_joins_with_the_role_and_is_audited(
    researcher, invitee, project
):
    # Addresses match whatever their case.
    invitation, token = invite_member(
        project=project, email="Alice@UNIV.example", role=TeamRole.CO_INVESTIGATOR, by=researcher
    )
    membership = accept_invitation(token=token, by=invitee)
    assert membership.role == TeamRole.CO_INVESTIGATOR
    invitation.refresh_from_db()
    assert invitation.accepted_by == invitee
    assert invitation.accepted_at is not None
    event = AuditEvent.objects.get(action="project.member_joined")
    assert event.actor == invitee
    assert event.target_id == str(project.pk)
    assert event.after == {
        "user": invitee.pk,
        "role": "co_investigator",
        "invitation": invitation.pk,
    }
    assert has_permission(invitee, Permission.EDIT_PROJECT, _fresh(project))


def test_another_account_cannot_accept(make_user, researcher, invitee, project):
    _invitation, token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    someone = make_user(Role.RESEARCHER, email="bob@univ.example")
    with pytest.raises(InvitationForAnotherAccount):
        accept_invitation(token=token, by=someone)

    other = _client_for(someone)
    page = other.get(_accept_url(token))
    assert page.status_code == 403
    # The project is not named to an account it was not meant for.
    assert project.title not in page.content.decode()
    assert other.post(_accept_url(token)).status_code == 403
    assert not TeamMembership.objects.filter(user=someone).exists()
    assert not AuditEvent.objects.filter(action="project.member_joined").exists()


def test_an_expired_link_gives_410_and_no_membership(researcher, invitee, project):
    invitation, token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    guest = _client_for(invitee)
    page = guest.get(_accept_url(token))
    assert page.status_code == 410
    assert page.context["refusal"]
    assert guest.post(_accept_url(token)).status_code == 410
    with pytest.raises(InvitationExpired):
        accept_invitation(token=token, by=invitee)
    assert not TeamMembership.objects.filter(user=invitee).exists()


def test_a_revoked_link_is_refused(client, researcher, invitee, project):
    invitation, token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    login(client, researcher)
    response = client.post(
        _team_url(project), {"action": "revoke", "invitation": str(invitation.pk)}
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    event = AuditEvent.objects.get(action="project.invitation_revoked")
    assert event.before == {"invitation": invitation.pk, "role": "analyst"}

    with pytest.raises(InvitationRevoked):
        accept_invitation(token=token, by=invitee)
    guest = _client_for(invitee)
    assert guest.get(_accept_url(token)).status_code == 410
    assert guest.post(_accept_url(token)).status_code == 410
    assert not TeamMembership.objects.filter(user=invitee).exists()
    with pytest.raises(TeamError):
        revoke_invitation(invitation=invitation, by=researcher)


def test_an_accepted_link_cannot_be_used_again(make_user, researcher, invitee, project):
    _invitation, token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    guest = _client_for(invitee)
    assert guest.post(_accept_url(token)).status_code == 302
    with pytest.raises(InvitationAlreadyAccepted):
        accept_invitation(token=token, by=invitee)
    again = guest.post(_accept_url(token))
    assert again.status_code == 410
    assert again.context["is_member"] is True
    assert TeamMembership.objects.filter(user=invitee).count() == 1
    assert AuditEvent.objects.filter(action="project.member_joined").count() == 1


def test_an_unknown_token_is_404(client, invitee):
    login(client, invitee)
    assert client.get(_accept_url("not-a-token-anyone-issued")).status_code == 404
    assert client.post(_accept_url("not-a-token-anyone-issued")).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, researcher, invitee, project):
    # The invited address has an account (``invitee``); without one, the link leads to the
    # page creating it (tests/eds_portal/test_accounts.py).
    _invitation, token = invite_member(
        project=project, email=INVITEE_EMAIL, role="analyst", by=researcher
    )
    for url in (_team_url(project), _accept_url(token)):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/?next=")
            assert url.replace("/", "%2F") in response.url or url in response.url
    assert not TeamMembership.objects.exclude(role="lead").exists()


# --- The team page and who may change the team ----------------------------------------------


def test_the_team_page_lists_members_and_pending_invitations(client, researcher, invitee, project):
    _member(project, invitee, TeamRole.ANALYST)
    invite_member(
        project=project, email="carol@univ.example", role="co_investigator", by=researcher
    )
    login(client, researcher)
    response = client.get(_team_url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert invitee.full_name in html
    assert "carol@univ.example" in html
    assert 'name="action" value="invite"' in html
    assert 'name="action" value="remove"' in html
    assert 'name="action" value="revoke"' in html
    assert 'name="action" value="change_role"' in html
    assert "<script>" not in html
    assert "style=" not in html


@pytest.mark.parametrize("role", [TeamRole.CO_INVESTIGATOR, TeamRole.ANALYST])
def test_members_other_than_the_lead_see_the_team_but_cannot_change_it(
    make_user, researcher, invitee, project, role
):
    colleague = make_user(Role.RESEARCHER, email="colleague@univ.example")
    _member(project, colleague, role)
    other = _member(project, invitee, TeamRole.ANALYST)
    invitation, _token = invite_member(
        project=project, email="carol@univ.example", role="analyst", by=researcher
    )
    lead_membership = project.memberships.get(role="lead")

    browser = _client_for(colleague)
    page = browser.get(_team_url(project))
    assert page.status_code == 200
    html = page.content.decode()
    assert "carol@univ.example" not in html  # pending invitees: for the lead only
    assert 'name="action"' not in html

    attempts = [
        {"action": "invite", "email": "dave@univ.example", "role": "analyst"},
        {"action": "remove", "membership": str(other.pk)},
        {"action": "remove", "membership": str(lead_membership.pk)},
        {"action": "change_role", "membership": str(other.pk), "role": "co_investigator"},
        {"action": "revoke", "invitation": str(invitation.pk)},
    ]
    for data in attempts:
        assert browser.post(_team_url(project), data).status_code == 403, data
    assert TeamMembership.objects.filter(project=project).count() == 3
    assert Invitation.objects.filter(project=project, revoked_at__isnull=True).count() == 3
    with pytest.raises(PermissionDenied):
        invite_member(project=project, email="dave@univ.example", role="analyst", by=colleague)


def test_an_outsider_researcher_gets_404_on_the_team_page(client, make_user, project):
    stranger = make_user(Role.RESEARCHER, email="eve@univ.example")
    login(client, stranger)
    assert client.get(_team_url(project)).status_code == 404
    response = client.post(
        _team_url(project), {"action": "invite", "email": "eve@univ.example", "role": "analyst"}
    )
    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_the_lead_cannot_be_removed(client, researcher, project):
    lead_membership = project.memberships.get(role="lead")
    with pytest.raises(TeamError):
        remove_member(membership=lead_membership, by=researcher)
    with pytest.raises(TeamError):
        change_member_role(membership=lead_membership, role="analyst", by=researcher)
    login(client, researcher)
    response = client.post(
        _team_url(project), {"action": "remove", "membership": str(lead_membership.pk)}
    )
    assert response.status_code == 302
    assert project.memberships.filter(role="lead", user=researcher).exists()
    assert not AuditEvent.objects.filter(action="project.member_removed").exists()


def test_removing_a_member_is_audited_and_ends_their_access(client, researcher, invitee, project):
    membership = _member(project, invitee, TeamRole.CO_INVESTIGATOR)
    guest = _client_for(invitee)
    assert guest.get(_team_url(project)).status_code == 200

    login(client, researcher)
    response = client.post(
        _team_url(project), {"action": "remove", "membership": str(membership.pk)}
    )
    assert response.status_code == 302
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()
    event = AuditEvent.objects.get(action="project.member_removed")
    assert event.actor == researcher
    assert event.target_id == str(project.pk)
    assert event.before == {"user": invitee.pk, "role": "co_investigator"}

    assert guest.get(f"/projects/{project.pk}/").status_code == 404
    assert guest.get(_team_url(project)).status_code == 404


def test_a_role_change_is_audited_and_takes_effect(client, researcher, invitee, project):
    membership = _member(project, invitee, TeamRole.CO_INVESTIGATOR)
    assert has_permission(invitee, Permission.EDIT_PROJECT, _fresh(project))
    login(client, researcher)
    response = client.post(
        _team_url(project),
        {"action": "change_role", "membership": str(membership.pk), "role": "analyst"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == TeamRole.ANALYST
    event = AuditEvent.objects.get(action="project.member_role_changed")
    assert event.actor == researcher
    assert event.before == {"user": invitee.pk, "role": "co_investigator"}
    assert event.after == {"user": invitee.pk, "role": "analyst"}
    assert not has_permission(invitee, Permission.EDIT_PROJECT, _fresh(project))
    with pytest.raises(TeamError):
        change_member_role(membership=membership, role="lead", by=researcher)


def test_an_unknown_action_or_row_of_another_project_is_refused(
    client, researcher, invitee, project
):
    other_project = create_project(by=researcher, title="Autre")
    elsewhere = _member(other_project, invitee, TeamRole.ANALYST)
    login(client, researcher)
    assert client.post(_team_url(project), {"action": "dance"}).status_code == 400
    response = client.post(
        _team_url(project), {"action": "remove", "membership": str(elsewhere.pk)}
    )
    assert response.status_code == 404
    assert TeamMembership.objects.filter(pk=elsewhere.pk).exists()
    for junk in ("", "abc", "²", "-1", str(2**70)):
        response = client.post(_team_url(project), {"action": "remove", "membership": junk})
        assert response.status_code == 404, junk


@pytest.mark.parametrize("status", [ProjectStatus.WITHDRAWN, ProjectStatus.CLOSED])
def test_the_team_of_a_withdrawn_or_closed_project_no_longer_changes(
    make_user, researcher, invitee, project, status
):
    membership = _member(project, invitee, TeamRole.ANALYST)
    carol = make_user(Role.RESEARCHER, email="carol@univ.example")
    invitation, token = invite_member(
        project=project, email="carol@univ.example", role="analyst", by=researcher
    )
    Project.objects.filter(pk=project.pk).update(
        status=status,
        withdrawn_at=timezone.now() if status == ProjectStatus.WITHDRAWN else None,
    )
    project = _fresh(project)
    membership.project = project
    # A closed project's team holds no right on it (issue 12): the lead is refused before the
    # status is even looked at.
    refused = (TeamError, PermissionDenied) if status == ProjectStatus.CLOSED else TeamError
    with pytest.raises(refused):
        invite_member(project=project, email="dave@univ.example", role="analyst", by=researcher)
    with pytest.raises(refused):
        remove_member(membership=membership, by=researcher)
    with pytest.raises(refused):
        change_member_role(membership=membership, role="co_investigator", by=researcher)
    with pytest.raises(refused):
        revoke_invitation(invitation=invitation, by=researcher)
    with pytest.raises(refused):
        accept_invitation(token=token, by=carol)
    assert project.memberships.count() == 2


def test_a_member_of_a_suspended_project_can_still_be_removed(researcher, invitee, project):
    membership = _member(project, invitee, TeamRole.ANALYST)
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.SUSPENDED)
    membership.project = _fresh(project)
    remove_member(membership=membership, by=researcher)
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()


def test_team_page_query_count_is_pinned(
    client, make_user, researcher, project, django_assert_num_queries
):
    for index in range(4):
        member = make_user(Role.RESEARCHER, email=f"member{index}@univ.example")
        _member(project, member, TeamRole.ANALYST if index % 2 else TeamRole.CO_INVESTIGATOR)
    for index in range(3):
        invite_member(
            project=project, email=f"guest{index}@univ.example", role="analyst", by=researcher
        )
    login(client, researcher)
    client.get(_team_url(project))
    # Measured: session, user, the user's roles, project (with its draft), the team's roles for
    # the permission rules, members with their accounts, pending invitations, then the idle
    # timeout's session save (savepoint, update, release). The same with 4 or 40 members.
    with django_assert_num_queries(10):
        assert client.get(_team_url(project)).status_code == 200


def test_pending_invitees_are_shown_to_the_lead_only(client, researcher, make_user):
    from projects.actions import create_project
    from projects.models import TeamMembership
    from projects.team_actions import invite_member

    project = create_project(by=researcher, title="Invitations")
    invite_member(
        project=project, email="pending.person@example.org", role="analyst", by=researcher
    )
    colleague = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=project, user=colleague, role="co_investigator")
    login(client, colleague)
    assert (
        "pending.person@example.org"
        not in client.get(f"/projects/{project.pk}/team/").content.decode()
    )
    login(client, researcher)
    assert (
        "pending.person@example.org" in client.get(f"/projects/{project.pk}/team/").content.decode()
    )
