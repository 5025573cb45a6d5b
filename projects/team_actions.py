"""Writes of a project's team: invitations by e-mail, joining, removal and role changes.

Keyword-only functions with an explicit actor (``by=``), one transaction each, each writing its
audit event. Refusals raise ``TeamError`` (or one of its subclasses) with a message that can be
shown as is. The trail names members by user id and invitations by id, never by e-mail address
(LOG-04).

An invitation link carries a random token; only its SHA-256 is stored, so the database alone
does not let anyone join a team.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from eds_portal.mail import queue_mail, register_kind
from projects.models import Invitation, Project, ProjectStatus, TeamMembership, TeamRole

# The roles a lead can give; there is one lead, set when the project is created.
# The kind of e-mail an invitation is (eds_portal.mail); its link works only for that address.
INVITATION_MAIL = "project.invitation"
INVITABLE_ROLES = frozenset({TeamRole.CO_INVESTIGATOR, TeamRole.ANALYST})
# Once withdrawn or closed, who was on the team is part of the record and no longer moves.
TEAM_FROZEN_STATUSES = frozenset({ProjectStatus.WITHDRAWN, ProjectStatus.CLOSED})


class TeamError(Refused):
    """A refused team change; the message is meant for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__([message])
        self.message = message


class InvitationNotFound(TeamError):
    pass


class InvitationExpired(TeamError):
    pass


class InvitationRevoked(TeamError):
    pass


class InvitationAlreadyAccepted(TeamError):
    pass


class InvitationForAnotherAccount(TeamError):
    pass


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link points to, or None for a token nobody issued."""
    return (
        Invitation.objects.select_related("project", "invited_by")
        .filter(token_sha256=token_digest(token))
        .first()
    )


def team_changes_allowed(project: Project) -> bool:
    return project.status not in TEAM_FROZEN_STATUSES


def _normalised_email(email: str) -> str:
    # Accounts store their address in lower case (eds_portal.models.UserManager).
    return (email or "").strip().lower()


def _lock_project_for_team_change(project: Project, by: Any) -> Project:
    """The project row, locked, after checking that ``by`` may change its team now.

    The lock serialises team changes of one project, so two invitations to the same address
    cannot both pass the "no pending invitation" check.
    """
    locked = Project.objects.select_for_update().get(pk=project.pk)
    # Views check this too; actions are also called by the API and commands.
    if not has_permission(by, Permission.MANAGE_TEAM, locked):
        raise PermissionDenied
    _refuse_if_frozen(locked)
    return locked


def _refuse_if_frozen(project: Project) -> None:
    if not team_changes_allowed(project):
        raise TeamError(
            _("The team of a %(status)s project can no longer change.")
            % {"status": ProjectStatus(project.status).label.lower()}
        )


def _check_role(role: str) -> TeamRole:
    if role not in INVITABLE_ROLES:
        raise TeamError(_("Choose the role: co-investigator or analyst."))
    return TeamRole(role)


def _invitation_link(token: str) -> str:
    return settings.EDS_PUBLIC_URL + reverse("project_invitation_accept", args=[token])


def _send_invitation(invitation: Invitation, token: str) -> None:
    project = invitation.project
    # Only the reference and the inviter: the address may be mistyped, and the draft's title
    # is shown after signing in with the invited account.
    subject = _("[%(ref)s] Invitation to join a project team") % {"ref": project.reference}
    body = _(
        "%(inviter)s invites you to join the team of project %(ref)s on %(portal)s as "
        "%(role)s.\n\n"
        "To accept, open this link and sign in with this e-mail address (%(email)s):\n"
        "%(link)s\n\n"
        "The link works once and expires on %(expiry)s. If you did not expect this "
        "invitation, ignore this message."
    ) % {
        "inviter": invitation.invited_by.full_name or invitation.invited_by.email,
        "ref": project.reference,
        "portal": settings.EDS_PORTAL_NAME,
        "role": TeamRole(invitation.role).label.lower(),
        "email": invitation.email,
        "link": _invitation_link(token),
        "expiry": date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT"),
    }
    # Leaves after the commit through the mail queue (retried; listed for staff if refused).
    queue_mail(
        kind=INVITATION_MAIL,
        reference=str(invitation.pk),
        to=[invitation.email],
        subject=subject,
        body=body,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


@transaction.atomic
def invite_member(*, project: Project, email: str, role: str, by: Any) -> tuple[Invitation, str]:
    """Invites an address to the team; returns the invitation and the token of its link.

    The token is returned (for the caller to show or test) and e-mailed after commit; the
    invitation stores only its hash (the queued e-mail holds the link until it is sent, then
    drops its text).
    """
    locked = _lock_project_for_team_change(project, by)
    role = _check_role(role)
    address = _normalised_email(email)
    try:
        validate_email(address)
    except ValidationError as exc:
        raise TeamError(_("Enter a valid e-mail address.")) from exc
    if locked.memberships.filter(user__email__iexact=address).exists():
        raise TeamError(_("%(email)s is already a member of the team.") % {"email": address})
    now = timezone.now()
    pending = locked.invitations.filter(
        email__iexact=address, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    if pending.exists():
        raise TeamError(
            _("%(email)s already has a pending invitation. Revoke it first to send a new one.")
            % {"email": address}
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        project=locked,
        email=address,
        role=role,
        token_sha256=token_digest(token),
        invited_by=by,
        created_at=now,
        expires_at=now + timedelta(days=settings.EDS_INVITATION_DAYS),
    )
    record_event(
        action="project.member_invited",
        actor=by,
        target=locked,
        after={
            "invitation": invitation.pk,
            "role": invitation.role,
            "expires_at": invitation.expires_at.isoformat(),
        },
    )
    _send_invitation(invitation, token)
    return invitation, token


def check_acceptable(invitation: Invitation, user: Any) -> None:
    """Raises the reason why ``user`` may not accept ``invitation`` now, if there is one."""
    check_open(invitation)
    if _normalised_email(user.email) != _normalised_email(invitation.email):
        raise InvitationForAnotherAccount(
            _(
                "This invitation was sent to another e-mail address. Sign in with the account "
                "of the address that received it."
            )
        )
    if invitation.project.memberships.filter(user=user).exists():
        raise TeamError(_("You are already a member of this project's team."))


def check_open(invitation: Invitation) -> None:
    """Raises the reason why nobody may accept ``invitation`` now (revoked, used, expired, team
    frozen), if there is one; the page creating an account from the link asks this first."""
    if invitation.revoked_at is not None:
        raise InvitationRevoked(
            _("This invitation was revoked by the project lead. Ask them for a new one.")
        )
    if invitation.accepted_at is not None:
        raise InvitationAlreadyAccepted(
            _("This invitation has already been used. A link works only once.")
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationExpired(
            _("This invitation expired on %(date)s. Ask the project lead for a new one.")
            % {"date": date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT")}
        )
    _refuse_if_frozen(invitation.project)


@transaction.atomic
def accept_invitation(*, token: str, by: Any) -> TeamMembership:
    """The signed-in user joins the team with the invitation's role."""
    found = (
        Invitation.objects.filter(token_sha256=token_digest(token))
        .values_list("pk", "project_id")
        .first()
    )
    if found is None:
        raise InvitationNotFound(_("This invitation link is not valid."))
    # Same lock order as the lead's changes (the project, then its rows): no deadlock.
    project = Project.objects.select_for_update().get(pk=found[1])
    invitation = Invitation.objects.select_for_update().get(pk=found[0])
    invitation.project = project
    check_acceptable(invitation, by)
    now = timezone.now()
    membership = TeamMembership.objects.create(
        project=project, user=by, role=invitation.role, added_at=now
    )
    invitation.accepted_at = now
    invitation.accepted_by = by
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record_event(
        action="project.member_joined",
        actor=by,
        target=project,
        after={"user": by.pk, "role": membership.role, "invitation": invitation.pk},
    )
    return membership


@transaction.atomic
def revoke_invitation(*, invitation: Invitation, by: Any) -> Invitation:
    """The link stops working; the row stays, so the trail's invitation ids keep a meaning."""
    _lock_project_for_team_change(invitation.project, by)
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise TeamError(_("This invitation has already been accepted; remove the member instead."))
    if locked.revoked_at is not None:
        raise TeamError(_("This invitation has already been revoked."))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record_event(
        action="project.invitation_revoked",
        actor=by,
        target=locked.project,
        before={"invitation": locked.pk, "role": locked.role},
    )
    return locked


def _locked_membership(membership: TeamMembership, project: Project) -> TeamMembership:
    locked = (
        TeamMembership.objects.select_for_update().filter(pk=membership.pk, project=project).first()
    )
    if locked is None:
        raise TeamError(_("This person is no longer a member of the team."))
    if locked.role == TeamRole.LEAD:
        raise TeamError(_("The project lead cannot be removed from the team or change role."))
    return locked


@transaction.atomic
def remove_member(*, membership: TeamMembership, by: Any) -> None:
    """The member loses access to the project at once."""
    project = _lock_project_for_team_change(membership.project, by)
    locked = _locked_membership(membership, project)
    before = {"user": locked.user_id, "role": locked.role}
    locked.delete()
    record_event(action="project.member_removed", actor=by, target=project, before=before)


@transaction.atomic
def change_member_role(*, membership: TeamMembership, role: str, by: Any) -> TeamMembership:
    """Co-investigator (edits the draft) <-> analyst (receives data only)."""
    project = _lock_project_for_team_change(membership.project, by)
    role = _check_role(role)
    locked = _locked_membership(membership, project)
    if locked.role == role:
        raise TeamError(
            _("This member is already %(role)s.") % {"role": TeamRole(role).label.lower()}
        )
    before = {"user": locked.user_id, "role": locked.role}
    locked.role = role
    locked.save(update_fields=["role"])
    record_event(
        action="project.member_role_changed",
        actor=by,
        target=project,
        before=before,
        after={"user": locked.user_id, "role": locked.role},
    )
    return locked


def register_mail() -> None:
    """What the staff's list of unsent mails calls an invitation (``ProjectsConfig.ready``)."""
    from django.utils.translation import gettext_lazy

    register_kind(INVITATION_MAIL, label=gettext_lazy("Invitation to a project team"))
