"""Withdrawing a declared interest (GOV-10): the member asks, the secretariat answers.

A member who declared an interest in a file is conflicted: they neither read it, nor review
it, nor vote on it. Were they able to declare "no interest" again on their own, a conflict would
last only as long as they wished. So the withdrawal is a request to the commission's
secretariat, who accepts it (the declaration then says "no interest": the member reads the file
again) or refuses it, saying why (the interest stands). Until the secretariat accepts, the
declaration, hence the conflict, stands. Each step is audited; the member is told the outcome.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.conflicts import REVIEW_STATUSES, automatic_conflict
from projects.models import ConflictDeclaration, InterestWithdrawal, Project, WithdrawalStatus

MAX_TEXT_LENGTH = 5000


def pending_withdrawal(member: Any, project: Project) -> InterestWithdrawal | None:
    return InterestWithdrawal.objects.filter(
        project=project, member=member, status=WithdrawalStatus.PENDING
    ).first()


def withdrawal_refusals(member: Any, project: Project) -> list[str]:
    """Every reason the member cannot ask to withdraw an interest in this project now."""
    if not has_permission(member, Permission.DECLARE_INTEREST):
        return [_("Your role does not allow it.")]
    reasons: list[str] = []
    if project.status not in REVIEW_STATUSES:
        reasons.append(_("This project is not in the commission's hands."))
    automatic = automatic_conflict(member, project)
    declaration = ConflictDeclaration.objects.filter(project=project, member=member).first()
    if automatic:
        reasons.append(automatic + " " + _("This conflict cannot be withdrawn."))
    elif declaration is None or not declaration.has_interest:
        reasons.append(_("You have declared no interest in this project."))
    if pending_withdrawal(member, project) is not None:
        reasons.append(_("Your request to withdraw this interest already awaits the secretariat."))
    return reasons


def _secretariat() -> list[Any]:
    User = get_user_model()
    return list(User.objects.filter(groups__name=Role.SECRETARIAT.value, is_active=True))


@transaction.atomic
def request_interest_withdrawal(*, project: Project, by: Any, reason: str) -> InterestWithdrawal:
    """The member asks the secretariat to withdraw the interest they declared; it still stands."""
    reason = (reason or "").strip()
    locked = Project.objects.select_for_update().get(pk=project.pk)
    reasons = withdrawal_refusals(by, locked)
    if not reason:
        reasons.append(_("Say why the interest no longer stands."))
    elif len(reason) > MAX_TEXT_LENGTH:
        reasons.append(
            _("Ensure this text has at most %(max)s characters.") % {"max": MAX_TEXT_LENGTH}
        )
    if reasons:
        raise Refused(reasons)
    declaration = ConflictDeclaration.objects.get(project=locked, member=by)
    withdrawal = InterestWithdrawal.objects.create(
        project=locked, member=by, interest=declaration.description, reason=reason
    )
    record_event(
        action="project.interest_withdrawal_requested",
        actor=by,
        target=locked,
        after={"withdrawal": withdrawal.pk, "member": by.pk},
    )
    # Messages, not texts: each reader gets them in their own language.
    subject = Message(
        gettext_lazy("[%(ref)s] A member asks to withdraw a declared interest"),
        ref=locked.reference,
    )
    body = Message(
        gettext_lazy(
            "A commission member asks to withdraw the interest they declared in project "
            "%(ref)s. Until you accept, they remain conflicted on it: they neither read the "
            "file nor vote on it. Accept or refuse the request on the portal."
        ),
        ref=locked.reference,
    )
    notify(_secretariat(), subject=subject, body=body, url=reverse("interest_withdrawals"))
    return withdrawal


@transaction.atomic
def answer_interest_withdrawal(
    *, withdrawal: InterestWithdrawal, by: Any, accept: bool, answer: str = ""
) -> InterestWithdrawal:
    """The secretariat accepts (the member is no longer conflicted) or refuses (saying why)."""
    if not has_permission(by, Permission.DECIDE_INTEREST_WITHDRAWAL):
        raise Refused([_("Your role does not allow it.")])
    answer = (answer or "").strip()
    locked = (
        InterestWithdrawal.objects.select_for_update()
        .select_related("project", "member")
        .get(pk=withdrawal.pk)
    )
    project = Project.objects.select_for_update().get(pk=locked.project_id)
    reasons: list[str] = []
    if locked.status != WithdrawalStatus.PENDING:
        reasons.append(_("This request has already been answered."))
    if not accept and not answer:
        reasons.append(_("Say why the request is refused: the member reads the answer."))
    if len(answer) > MAX_TEXT_LENGTH:
        reasons.append(
            _("Ensure this text has at most %(max)s characters.") % {"max": MAX_TEXT_LENGTH}
        )
    declaration = ConflictDeclaration.objects.filter(project=project, member=locked.member).first()
    if accept and (declaration is None or not declaration.has_interest):
        reasons.append(_("The member no longer declares an interest in this project."))
    if reasons:
        raise Refused(reasons)
    now = timezone.now()
    locked.status = WithdrawalStatus.ACCEPTED if accept else WithdrawalStatus.REFUSED
    locked.decided_at, locked.decided_by, locked.answer = now, by, answer
    locked.save(update_fields=["status", "decided_at", "decided_by", "answer"])
    if accept:
        declaration.has_interest = False
        declaration.description = ""
        declaration.declared_at = now
        declaration.save(update_fields=["has_interest", "description", "declared_at"])
    record_event(
        action="project.interest_withdrawal_accepted"
        if accept
        else "project.interest_withdrawal_refused",
        actor=by,
        target=project,
        before={"has_interest": True},
        after={"withdrawal": locked.pk, "member": locked.member_id, "has_interest": not accept},
    )
    if accept:
        subject = Message(
            gettext_lazy("[%(ref)s] Your declared interest is withdrawn"), ref=project.reference
        )
        body = Message(
            gettext_lazy(
                "The secretariat accepted your request: you no longer declare an interest in "
                "project %(ref)s. You may read the file and vote on it."
            ),
            ref=project.reference,
        )
    else:
        subject = Message(
            gettext_lazy("[%(ref)s] Your declared interest stands"), ref=project.reference
        )
        body = Message(
            gettext_lazy(
                "The secretariat refused your request to withdraw the interest you declared in "
                "project %(ref)s; you remain conflicted on it. Its answer is on the portal."
            ),
            ref=project.reference,
        )
    notify(
        [locked.member],
        subject=subject,
        body=body,
        url=reverse("project_interests", args=[project.pk]),
    )
    return locked
