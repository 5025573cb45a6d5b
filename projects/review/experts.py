"""External experts: someone outside the commission asked to review one file.

The secretariat invites an address (``invite_expert``); the link works for that address only,
and creates the account on the way when there is none (the invitation sign-up of
``projects/signup_views.py``: a researcher account, nothing more). Accepting it
(``accept_expert_invitation``) gives a per-object grant, django-guardian's
``projects.review_as_expert`` on that project only. Through the facade's object grants
(``eds_portal.authz.register_object_grant``) it lets the expert:

- declare their interests in that file, like any rapporteur (GOV-10);
- once they declared none and are not conflicted automatically (same team or organisation),
  read the file (its submitted versions) and write and submit a review of it.

Nothing else: no role is given, so every other project, the commission's pages, the sessions
and the votes stay closed. The grant is removed, audited, when the expert submits the review or
when the file is decided (``end_expert_grants``, called by the decision).
"""

from __future__ import annotations

import datetime
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm, remove_perm

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission, register_object_grant
from eds_portal.errors import Refused
from eds_portal.mail import queue_mail, register_kind
from projects.conflicts import REVIEW_STATUSES, automatic_conflict, declaration_of
from projects.models import ExpertGrantEnd, ExpertInvitation, Project
from projects.review.selectors import ASSIGNABLE_STATUSES
from projects.team_actions import token_digest

EXPERT_PERMISSION = "projects.review_as_expert"
EXPERT_MAIL = "review.expert_invitation"


class ExpertRefused(Refused):
    """Why an expert cannot be invited, or an invitation accepted, now."""


# --- Who the grant lets in --------------------------------------------------------------------


def is_expert_on(user: Any, project: Project) -> bool:
    """The user holds the expert grant on this project (whatever they declared)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return ObjectPermissionChecker(user).has_perm(EXPERT_PERMISSION, project)


def expert_may_declare(user: Any, project: Project) -> bool:
    return project.status in REVIEW_STATUSES


def expert_may_read(user: Any, project: Project) -> bool:
    """As for a commission member: the file in review, no automatic conflict, "no interest"
    declared."""
    if project.status not in REVIEW_STATUSES or automatic_conflict(user, project):
        return False
    declaration = declaration_of(user, project)
    return declaration is not None and not declaration.has_interest


def active_invitation(user: Any, project: Project) -> ExpertInvitation | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return ExpertInvitation.objects.filter(
        project=project, expert=user, accepted_at__isnull=False, ended_at__isnull=True
    ).first()


def register() -> None:
    register_object_grant(
        Permission.DECLARE_INTEREST,
        Project,
        codename=EXPERT_PERMISSION,
        condition=expert_may_declare,
    )
    register_object_grant(
        Permission.VIEW_PROJECT, Project, codename=EXPERT_PERMISSION, condition=expert_may_read
    )
    register_object_grant(
        Permission.REVIEW_PROJECT, Project, codename=EXPERT_PERMISSION, condition=expert_may_read
    )
    register_kind(
        EXPERT_MAIL, label=gettext_lazy("Invitation to review a file as an external expert")
    )
    from eds_portal.home import HomePanel, register_panel

    register_panel(
        HomePanel(
            key="expert_files",
            roles=frozenset(),
            title=gettext_lazy("Files you review as an external expert"),
            template_name="projects/review/panels/expert_files.html",
            context=lambda request: {"invitations": list(active_invitations(request.user))},
            shown_to=lambda user: active_invitations(user).exists(),
        )
    )


def active_invitations(user: Any):
    """The expert's open grants, oldest due date first."""
    if not getattr(user, "is_authenticated", False):
        return ExpertInvitation.objects.none()
    return (
        ExpertInvitation.objects.filter(
            expert=user, accepted_at__isnull=False, ended_at__isnull=True
        )
        .select_related("project")
        .order_by("due_date", "pk")
    )


# --- Invitations ------------------------------------------------------------------------------


def _normalised(email: str) -> str:
    return (email or "").strip().lower()


def invitation_for_token(token: str) -> ExpertInvitation | None:
    return (
        ExpertInvitation.objects.select_related("project", "invited_by")
        .filter(token_sha256=token_digest(token or ""))
        .first()
    )


def invitation_link(token: str) -> str:
    return settings.EDS_PUBLIC_URL + reverse("expert_invitation", args=[token])


def invitation_refusals(
    project: Project, email: str, *, due_date: datetime.date | None, by: Any
) -> list[str]:
    reasons: list[str] = []
    if not has_permission(by, Permission.ASSIGN_RAPPORTEURS, project):
        reasons.append(_("Your role does not allow inviting experts."))
    if project.review_status not in ASSIGNABLE_STATUSES:
        reasons.append(_("Experts are invited only to review a file under review."))
    try:
        validate_email(email)
    except ValidationError:
        reasons.append(_("Enter a valid e-mail address."))
    else:
        if project.memberships.filter(user__email__iexact=email).exists():
            reasons.append(_("This address belongs to a member of the project's team."))
        if ExpertInvitation.objects.filter(
            project=project, email__iexact=email, ended_at__isnull=True
        ).exists():
            reasons.append(_("This address was already invited to review this file."))
    if due_date is None or due_date <= timezone.localdate():
        reasons.append(_("The due date must be in the future."))
    return reasons


def _send_invitation(invitation: ExpertInvitation, token: str) -> None:
    project = invitation.project
    # The reference only: the title is shown once signed in with the invited address.
    subject = _("[%(ref)s] Invitation to review a file as an external expert") % {
        "ref": project.reference
    }
    body = _(
        "%(inviter)s, of the secretariat of %(portal)s, asks you to review the file %(ref)s as "
        "an external expert, by %(due)s.\n\n"
        "Open this link and sign in with this e-mail address (%(email)s), or create your "
        "account from it:\n%(link)s\n\n"
        "You will first declare your interests in the file, then read it and write your review. "
        "Your access to this file ends when you submit your review or when the commission "
        "decides. The link works once and expires on %(expiry)s."
    ) % {
        "inviter": invitation.invited_by.full_name or invitation.invited_by.email,
        "portal": settings.EDS_PORTAL_NAME,
        "ref": project.reference,
        "due": date_format(invitation.due_date, "DATE_FORMAT"),
        "email": invitation.email,
        "link": invitation_link(token),
        "expiry": date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT"),
    }
    queue_mail(
        kind=EXPERT_MAIL,
        reference=str(invitation.pk),
        to=[invitation.email],
        subject=subject,
        body=body,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )


@transaction.atomic
def invite_expert(
    *, project: Project, email: str, due_date: datetime.date | None, by: Any
) -> tuple[ExpertInvitation, str]:
    """The secretariat invites an address to review this file; returns the invitation and the
    token of its link (e-mailed after the commit; only its hash is stored)."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    address = _normalised(email)
    reasons = invitation_refusals(locked, address, due_date=due_date, by=by)
    if reasons:
        raise ExpertRefused(reasons)
    assert due_date is not None
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = ExpertInvitation.objects.create(
        project=locked,
        email=address,
        token_sha256=token_digest(token),
        due_date=due_date,
        invited_by=by,
        created_at=now,
        expires_at=now + timedelta(days=settings.EDS_INVITATION_DAYS),
    )
    # The invitation's id, never the address (LOG-04).
    record_event(
        action="review.expert_invited",
        actor=by,
        target=locked,
        after={"invitation": invitation.pk, "due_date": due_date.isoformat()},
    )
    _send_invitation(invitation, token)
    return invitation, token


def open_refusal(invitation: ExpertInvitation) -> str | None:
    """Why nobody may accept this invitation now, or None."""
    if invitation.ended_at is not None:
        return _("This invitation has ended: the review was submitted or the file decided.")
    if invitation.accepted_at is not None:
        return _("This invitation has already been used. A link works only once.")
    if invitation.expires_at <= timezone.now():
        return _("This invitation has expired. Ask the secretariat for a new one.")
    if invitation.project.review_status not in ASSIGNABLE_STATUSES:
        return _("This file is no longer under review.")
    return None


@transaction.atomic
def accept_expert_invitation(*, token: str, by: Any) -> ExpertInvitation:
    """The signed-in holder of the invited address becomes expert of that one file."""
    found = invitation_for_token(token)
    if found is None:
        raise ExpertRefused([_("This invitation link is not valid.")])
    project = Project.objects.select_for_update().get(pk=found.project_id)
    invitation = ExpertInvitation.objects.select_for_update().get(pk=found.pk)
    invitation.project = project
    refusal = open_refusal(invitation)
    if refusal:
        raise ExpertRefused([refusal])
    if not by.is_active or _normalised(by.email) != _normalised(invitation.email):
        raise ExpertRefused(
            [
                _(
                    "This invitation was sent to another e-mail address. Sign in with the "
                    "account of the address that received it."
                )
            ]
        )
    if project.memberships.filter(user=by).exists():
        raise ExpertRefused([_("You are a member of the project's team.")])
    invitation.expert = by
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["expert", "accepted_at"])
    assign_perm(EXPERT_PERMISSION, by, project)
    record_event(
        action="review.expert_granted",
        actor=by,
        target=project,
        after={"invitation": invitation.pk, "expert": by.pk, "permission": EXPERT_PERMISSION},
    )
    return invitation


def _end(invitation: ExpertInvitation, reason: ExpertGrantEnd, by: Any) -> None:
    invitation.ended_at = timezone.now()
    invitation.end_reason = reason.value
    invitation.save(update_fields=["ended_at", "end_reason"])
    if invitation.expert_id is not None:
        remove_perm(EXPERT_PERMISSION, invitation.expert, invitation.project)
    record_event(
        action="review.expert_grant_removed",
        actor=by,
        target=invitation.project,
        before={"invitation": invitation.pk, "expert": invitation.expert_id},
        after={"reason": reason.value},
    )


@transaction.atomic
def end_expert_grant(*, project: Project, expert: Any, reason: ExpertGrantEnd, by: Any) -> int:
    """Ends this expert's grant on this project (their review was submitted)."""
    ended = 0
    for invitation in ExpertInvitation.objects.select_for_update().filter(
        project=project, expert=expert, ended_at__isnull=True
    ):
        invitation.project = project
        _end(invitation, reason, by)
        ended += 1
    return ended


@transaction.atomic
def end_expert_grants(*, project: Project, reason: ExpertGrantEnd, by: Any) -> int:
    """Ends every expert grant and every unused expert invitation of this project (the file is
    decided): one audit event each."""
    ended = 0
    for invitation in (
        ExpertInvitation.objects.select_for_update(of=("self",))
        .filter(project=project, ended_at__isnull=True)
        .select_related("expert")
    ):
        invitation.project = project
        _end(invitation, reason, by)
        ended += 1
    return ended


@transaction.atomic
def withdraw_expert_grant(*, invitation: ExpertInvitation, by: Any) -> bool:
    """Ends one expert's grant (or unused invitation) before its time: the DPO's access review.
    Returns False when it had already ended."""
    locked = (
        ExpertInvitation.objects.select_for_update(of=("self",))
        .filter(pk=invitation.pk, ended_at__isnull=True)
        .select_related("project", "expert")
        .first()
    )
    if locked is None:
        return False
    _end(locked, ExpertGrantEnd.WITHDRAWN, by)
    return True
