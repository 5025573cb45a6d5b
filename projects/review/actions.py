"""Writes of the review: rapporteurs, reviews, reminders.

Keyword-only functions with an explicit actor (``by=``), one transaction each, the project row
locked where its state is checked, each writing its audit event (ids and choices, never the
texts of a review). Views, the API and the beat task call them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission, is_commission
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.conflicts import declaration_of, may_read_file
from projects.models import (
    Project,
    ProtocolVersion,
    RapporteurAssignment,
    Recommendation,
    Review,
    VariableReview,
    VariableVerdict,
    review_stage_q,
)
from projects.review.selectors import (
    ASSIGNABLE_STATUSES,
    REVIEWABLE_STATUSES,
    active_assignments,
    conflict_reason,
    latest_version,
    requested_variables,
)

TEXT_FIELDS = (
    "scientific_quality",
    "public_interest",
    "methodology",
    "information_of_persons",
    "ethics",
)
MAX_TEXT_LENGTH = 20_000
MAX_REASON_LENGTH = 5_000


class ReviewRefused(Refused):
    """The step is not possible now; ``reasons`` say why, for the user."""

    def __init__(self, reasons: list[str], *, detail=None):
        super().__init__([str(reason) for reason in reasons], detail=detail)


class ReviewInvalid(Exception):
    """What was typed cannot be stored or submitted; ``errors`` by field name."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(str(errors))
        self.errors = errors


# Formatted when rendered: ``notify`` writes it in each recipient's language.
_Message = Message


def _day(value: datetime.date) -> datetime.date:
    # A date, not a text: the message writes it the reader's way when it is rendered.
    return value


def _today(today: datetime.date | None) -> datetime.date:
    return today or timezone.localdate()


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _member_url(member: Any, project: Project) -> str:
    """Where a rapporteur starts: the declaration of interests until they made it."""
    declaration = declaration_of(member, project)
    if declaration is None:
        return reverse("project_interests", args=[project.pk])
    return reverse("review_mine", args=[project.pk])


# --- Rapporteurs ------------------------------------------------------------------------------


def assignment_refusals(
    project: Project, member: Any, *, due_date: datetime.date | None, by: Any, today=None
) -> list[str]:
    """Every reason this member cannot be made rapporteur of this file now."""
    reasons = []
    if not has_permission(by, Permission.ASSIGN_RAPPORTEURS):
        reasons.append(_("Your role does not allow assigning rapporteurs."))
    if project.review_status not in ASSIGNABLE_STATUSES:
        reasons.append(_("Rapporteurs are assigned only to a file under review."))
    if member is None or not member.is_active or not is_commission(member):
        reasons.append(_("Only an active commission member can be rapporteur."))
    else:
        declaration = declaration_of(member, project)
        conflict = conflict_reason(
            member, project, declared_interest=declaration is not None and declaration.has_interest
        )
        if conflict:
            reasons.append(conflict)
        if RapporteurAssignment.objects.filter(
            project=project, member=member, removed_at__isnull=True
        ).exists():
            reasons.append(_("%(name)s is already rapporteur.") % {"name": member.full_name})
    if due_date is None or due_date <= _today(today):
        reasons.append(_("The due date must be in the future."))
    return reasons


@transaction.atomic
def assign_rapporteur(
    *,
    project: Project,
    member: Any,
    due_date: datetime.date,
    by: Any,
    today: datetime.date | None = None,
) -> RapporteurAssignment:
    """Makes a commission member rapporteur of a file under review, and tells them."""
    locked = _lock(project)
    reasons = assignment_refusals(locked, member, due_date=due_date, by=by, today=today)
    if reasons:
        raise ReviewRefused(reasons)
    assignment = RapporteurAssignment.objects.create(
        project=locked, member=member, due_date=due_date, assigned_by=by
    )
    record_event(
        action="review.rapporteur_assigned",
        actor=by,
        target=locked,
        after={"assignment": assignment.pk, "member": member.pk, "due_date": due_date},
    )
    declared = declaration_of(member, locked) is not None
    notify(
        [member],
        subject=_Message(gettext_lazy("[%(ref)s] You are rapporteur"), ref=locked.reference),
        body=_Message(
            gettext_lazy(
                "The secretariat asks you to report on the file %(ref)s “%(title)s”; your "
                "review is due on %(due)s. %(next)s"
            ),
            ref=locked.reference,
            title=locked.title,
            due=_day(due_date),
            next=gettext_lazy("Open the file and write your review.")
            if declared
            else gettext_lazy(
                "First declare your interests in this file: you will read it once you have "
                "declared that you have none."
            ),
        ),
        url=_member_url(member, locked),
    )
    return assignment


def _locked_assignment(assignment: RapporteurAssignment) -> tuple[Project, RapporteurAssignment]:
    locked = _lock(assignment.project)
    current = RapporteurAssignment.objects.select_for_update().get(pk=assignment.pk)
    if current.removed_at is not None:
        raise ReviewRefused([_("This assignment was already removed.")])
    return locked, current


@transaction.atomic
def remove_rapporteur(*, assignment: RapporteurAssignment, by: Any) -> RapporteurAssignment:
    """Ends an assignment; the member's review, if any, stays with the version."""
    if not has_permission(by, Permission.ASSIGN_RAPPORTEURS):
        raise ReviewRefused([_("Your role does not allow assigning rapporteurs.")])
    locked, current = _locked_assignment(assignment)
    current.removed_at = timezone.now()
    current.removed_by = by
    current.save(update_fields=["removed_at", "removed_by"])
    record_event(
        action="review.rapporteur_removed",
        actor=by,
        target=locked,
        before={"assignment": current.pk, "member": current.member_id},
    )
    notify(
        [current.member],
        subject=_Message(
            gettext_lazy("[%(ref)s] You are no longer rapporteur"), ref=locked.reference
        ),
        body=_Message(
            gettext_lazy("The secretariat has ended your assignment as rapporteur on %(ref)s."),
            ref=locked.reference,
        ),
    )
    return current


@transaction.atomic
def change_due_date(
    *,
    assignment: RapporteurAssignment,
    due_date: datetime.date,
    by: Any,
    today: datetime.date | None = None,
) -> RapporteurAssignment:
    """A new due date; its reminders will be sent again."""
    if not has_permission(by, Permission.ASSIGN_RAPPORTEURS):
        raise ReviewRefused([_("Your role does not allow assigning rapporteurs.")])
    if due_date is None or due_date <= _today(today):
        raise ReviewRefused([_("The due date must be in the future.")])
    locked, current = _locked_assignment(assignment)
    before = current.due_date
    current.due_date = due_date
    current.reminded_before_at = None
    current.reminded_after_at = None
    current.save(update_fields=["due_date", "reminded_before_at", "reminded_after_at"])
    record_event(
        action="review.due_date_changed",
        actor=by,
        target=locked,
        before={"assignment": current.pk, "due_date": before},
        after={"assignment": current.pk, "due_date": due_date},
    )
    notify(
        [current.member],
        subject=_Message(gettext_lazy("[%(ref)s] New due date"), ref=locked.reference),
        body=_Message(
            gettext_lazy("Your review of %(ref)s is now due on %(due)s."),
            ref=locked.reference,
            due=_day(due_date),
        ),
        url=_member_url(current.member, locked),
    )
    return current


def reopen_assignments(*, project: Project, version: ProtocolVersion, by: Any) -> int:
    """A new version is submitted: each active rapporteur reviews it (reviews are per version).

    Called by the submission, in its transaction, with the project row locked.
    """
    assignments = list(active_assignments(project))
    if not assignments:
        return 0
    RapporteurAssignment.objects.filter(pk__in=[a.pk for a in assignments]).update(
        completed_at=None, reminded_before_at=None, reminded_after_at=None
    )
    record_event(
        action="review.assignments_reopened",
        actor=by,
        target=project,
        after={"version": version.number, "assignments": [a.pk for a in assignments]},
    )
    notify(
        [a.member for a in assignments],
        subject=_Message(
            gettext_lazy("[%(ref)s] Version %(n)s to review"),
            ref=project.reference,
            n=version.number,
        ),
        body=_Message(
            gettext_lazy(
                "The team submitted version %(n)s of %(ref)s. As rapporteur, you review this "
                "new version; your previous review stays with the previous version."
            ),
            ref=project.reference,
            n=version.number,
        ),
        url=reverse("review_mine", args=[project.pk]),
    )
    return len(assignments)


# --- Reviews ------------------------------------------------------------------------------------


def review_refusals(project: Project, user: Any) -> list[str]:
    """Why this user cannot write a review of this file now."""
    from projects.review.experts import expert_may_read, is_expert_on

    reasons = []
    rapporteur = RapporteurAssignment.objects.filter(
        project=project, member=user, removed_at__isnull=True
    ).exists()
    # An external expert reviews through their grant on this one file, without a role.
    expert = not rapporteur and is_expert_on(user, project)
    if not expert and not has_permission(user, Permission.REVIEW_PROJECT):
        return [_("Your role does not allow reviewing.")]
    if not rapporteur and not expert:
        reasons.append(_("You are not rapporteur of this file."))
    elif not (may_read_file(user, project) if rapporteur else expert_may_read(user, project)):
        reasons.append(_("Declare your interests in this file before reading it."))
    if project.review_status not in REVIEWABLE_STATUSES:
        reasons.append(_("This file is not waiting for reviews."))
    return reasons


def empty_review_data() -> dict[str, Any]:
    return {
        **dict.fromkeys(TEXT_FIELDS, ""),
        "recommendation": "",
        "private_notes": "",
        "variables": {},
    }


def review_data(review: Review | None) -> dict[str, Any]:
    """A stored review in the shape ``save_review`` takes."""
    data = empty_review_data()
    if review is None:
        return data
    for name in (*TEXT_FIELDS, "recommendation", "private_notes"):
        data[name] = getattr(review, name)
    data["variables"] = {
        item.variable: {
            "verdict": item.verdict,
            "generalisation": item.generalisation,
            "reason": item.reason,
        }
        for item in review.variables.all()
    }
    return data


def structural_errors(version: ProtocolVersion, data: dict[str, Any]) -> dict[str, list[str]]:
    """What cannot even be kept as a draft: unknown variables or choices, texts too long."""
    errors: dict[str, list[str]] = {}
    for name in (*TEXT_FIELDS, "private_notes"):
        if len(data.get(name) or "") > MAX_TEXT_LENGTH:
            errors[name] = [_("At most %(n)s characters.") % {"n": MAX_TEXT_LENGTH}]
    recommendation = data.get("recommendation") or ""
    if recommendation and recommendation not in Recommendation.values:
        errors["recommendation"] = [_("Choose one of the proposed recommendations.")]
    codes = {item.code for item in requested_variables(version)}
    for code, verdict in (data.get("variables") or {}).items():
        if code not in codes:
            errors[f"verdict__{code}"] = [_("This variable is not requested by this version.")]
            continue
        if (verdict.get("verdict") or "") not in ("", *VariableVerdict.values):
            errors[f"verdict__{code}"] = [_("Choose one of the proposed verdicts.")]
        if len(verdict.get("reason") or "") > MAX_REASON_LENGTH:
            errors[f"reason__{code}"] = [_("At most %(n)s characters.") % {"n": MAX_REASON_LENGTH}]
    return errors


def submission_errors(version: ProtocolVersion, data: dict[str, Any]) -> dict[str, list[str]]:
    """Everything a submitted review must hold: every text, a recommendation, every verdict."""
    errors = structural_errors(version, data)
    for name in TEXT_FIELDS:
        if not (data.get(name) or "").strip():
            errors.setdefault(name, []).append(_("This part of the review is required."))
    if not data.get("recommendation"):
        errors.setdefault("recommendation", []).append(_("Choose a recommendation."))
    verdicts = data.get("variables") or {}
    for item in requested_variables(version):
        verdict = verdicts.get(item.code) or {}
        choice = verdict.get("verdict") or ""
        reason = (verdict.get("reason") or "").strip()
        if not choice:
            errors.setdefault(f"verdict__{item.code}", []).append(
                _("Give a verdict on this variable.")
            )
        if choice == VariableVerdict.COARSER:
            allowed = [g.value for g in item.coarser]
            if not allowed:
                errors.setdefault(f"verdict__{item.code}", []).append(
                    _("No generalisation coarser than the requested one exists for this variable.")
                )
            elif verdict.get("generalisation") not in allowed:
                errors.setdefault(f"generalisation__{item.code}", []).append(
                    _("Choose a generalisation coarser than the requested one.")
                )
        if choice in (VariableVerdict.COARSER, VariableVerdict.REFUSE) and not reason:
            errors.setdefault(f"reason__{item.code}", []).append(
                _("Give the reason for this verdict.")
            )
    return errors


def _locked_review_context(project: Project, by: Any) -> tuple[Project, ProtocolVersion]:
    locked = _lock(project)
    reasons = review_refusals(locked, by)
    version = latest_version(locked)
    if version is None:
        reasons.append(_("Nothing was submitted."))
    if reasons:
        raise ReviewRefused(reasons)
    return locked, version


def _verdict_counts(review: Review) -> dict[str, int]:
    counts = dict.fromkeys(VariableVerdict.values, 0)
    for item in review.variables.all():
        if item.verdict in counts:
            counts[item.verdict] += 1
    return counts


@transaction.atomic
def save_review(*, project: Project, by: Any, data: dict[str, Any]) -> Review:
    """Stores the rapporteur's review of the latest version as typed, complete or not."""
    locked, version = _locked_review_context(project, by)
    errors = structural_errors(version, data)
    if errors:
        raise ReviewInvalid(errors)
    review, created = Review.objects.select_for_update().get_or_create(
        version=version, reviewer=by, defaults={"project": locked}
    )
    if review.submitted_at is not None:
        raise ReviewRefused(
            [_("Your review of this version was submitted: it can no longer change.")]
        )
    for name in (*TEXT_FIELDS, "private_notes"):
        setattr(review, name, data.get(name) or "")
    review.recommendation = data.get("recommendation") or ""
    review.save()
    review.variables.all().delete()
    VariableReview.objects.bulk_create(
        VariableReview(
            review=review,
            variable=code,
            verdict=verdict.get("verdict") or "",
            generalisation=(verdict.get("generalisation") or "")
            if verdict.get("verdict") == VariableVerdict.COARSER
            else "",
            reason=verdict.get("reason") or "",
        )
        for code, verdict in sorted((data.get("variables") or {}).items())
        if verdict.get("verdict") or verdict.get("reason") or verdict.get("generalisation")
    )
    record_event(
        action="review.saved",
        actor=by,
        target=locked,
        after={"review": review.pk, "version": version.number, "first": created},
    )
    return review


@transaction.atomic
def submit_review(*, project: Project, by: Any) -> Review:
    """Submits the stored review once complete; it becomes read-only, the assignment done."""
    locked, version = _locked_review_context(project, by)
    review = (
        Review.objects.select_for_update()
        .filter(version=version, reviewer=by)
        .prefetch_related("variables")
        .first()
    )
    if review is None:
        raise ReviewInvalid(submission_errors(version, empty_review_data()))
    if review.submitted_at is not None:
        raise ReviewRefused([_("Your review of this version was already submitted.")])
    errors = submission_errors(version, review_data(review))
    if errors:
        raise ReviewInvalid(errors)
    now = timezone.now()
    review.submitted_at = now
    review.save(update_fields=["submitted_at", "updated_at"])
    RapporteurAssignment.objects.filter(project=locked, member=by, removed_at__isnull=True).update(
        completed_at=now
    )
    # An external expert's work is done: their grant on the file ends (audited).
    from projects.models import ExpertGrantEnd
    from projects.review.experts import end_expert_grant

    end_expert_grant(project=locked, expert=by, reason=ExpertGrantEnd.REVIEW_SUBMITTED, by=by)
    record_event(
        action="review.submitted",
        actor=by,
        target=locked,
        after={
            "review": review.pk,
            "version": version.number,
            "recommendation": review.recommendation,
            "verdicts": _verdict_counts(review),
        },
    )
    if not active_assignments(locked).filter(completed_at__isnull=True).exists():
        User = get_user_model()
        notify(
            User.objects.filter(groups__name=Role.SECRETARIAT.value, is_active=True),
            subject=_Message(gettext_lazy("[%(ref)s] All reviews are in"), ref=locked.reference),
            body=_Message(
                gettext_lazy(
                    "Every rapporteur of %(ref)s has submitted a review of version %(n)s: the "
                    "file can go on a session's agenda."
                ),
                ref=locked.reference,
                n=version.number,
            ),
            url=reverse("review_list", args=[locked.pk]),
        )
    return review


# --- Reminders ----------------------------------------------------------------------------------


def send_review_reminders(*, today: datetime.date | None = None) -> dict[str, int]:
    """Once before the due date and once after it, per open assignment of a file in review.

    Each reminder is its own transaction, claimed with SKIP LOCKED and marked as sent: a second
    run, or two beats at once, send nothing twice.
    """
    today = _today(today)
    days = settings.EDS_REVIEW_REMINDER_DAYS
    sent = {"before": 0, "after": 0}
    candidates = list(
        RapporteurAssignment.objects.filter(
            removed_at__isnull=True,
            completed_at__isnull=True,
            due_date__lte=today + datetime.timedelta(days=days),
        )
        .filter(reminded_after_at__isnull=True)
        .filter(review_stage_q(REVIEWABLE_STATUSES, prefix="project__"))
        .values_list("pk", flat=True)
    )
    for pk in candidates:
        kind = _remind(pk, today=today, days=days)
        if kind:
            sent[kind] += 1
    return sent


@transaction.atomic
def _remind(pk: int, *, today: datetime.date, days: int) -> str | None:
    assignment = (
        RapporteurAssignment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("project", "member")
        .filter(pk=pk, removed_at__isnull=True, completed_at__isnull=True)
        .first()
    )
    if assignment is None:
        return None
    project = assignment.project
    due = assignment.due_date
    if today > due and assignment.reminded_after_at is None:
        kind = "after"
        assignment.reminded_after_at = timezone.now()
        subject = _Message(gettext_lazy("[%(ref)s] Your review is overdue"), ref=project.reference)
        body = _Message(
            gettext_lazy(
                "Your review of %(ref)s “%(title)s” was due on %(due)s. Please submit it, or "
                "tell the secretariat if you cannot."
            ),
            ref=project.reference,
            title=project.title,
            due=_day(due),
        )
    elif (
        today <= due
        and today >= due - datetime.timedelta(days=days)
        and assignment.reminded_before_at is None
    ):
        kind = "before"
        assignment.reminded_before_at = timezone.now()
        subject = _Message(
            gettext_lazy("[%(ref)s] Your review is due on %(due)s"),
            ref=project.reference,
            due=_day(due),
        )
        body = _Message(
            gettext_lazy("Reminder: your review of %(ref)s “%(title)s” is due on %(due)s."),
            ref=project.reference,
            title=project.title,
            due=_day(due),
        )
    else:
        return None
    assignment.save(update_fields=[f"reminded_{kind}_at"])
    record_event(
        action="review.reminder_sent",
        target=project,
        after={"assignment": assignment.pk, "kind": kind, "due_date": due},
    )
    notify(
        [assignment.member], subject=subject, body=body, url=_member_url(assignment.member, project)
    )
    return kind
