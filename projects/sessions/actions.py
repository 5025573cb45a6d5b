"""Writes of the commission's sessions: agenda, convocation, attendance, opening, votes, closing.

Keyword-only functions with an explicit actor (``by=``), one transaction each, each writing its
audit event. The session row is locked where its state is checked, so that two clicks (or a
click and an attendance change) cannot both pass the same check.

Votes are independent (``visible_tally``): while the vote on an item is open, a member sees
their own vote and nothing of the others' (neither the counts nor who has voted), before and
after casting theirs; the chair, who votes too, sees only how many have voted, to know when to
close; the secretariat, who votes on nothing, also sees who has not voted yet, to call them.
When the chair closes the vote (``close_vote``; recording the decision, deferring the item or
closing the session closes it too), the counts appear to everyone who may see the item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission, is_commission
from eds_portal.notifications import Message, notify
from projects.conflicts import automatic_conflict, declaration_of, is_conflicted, may_read_file
from projects.models import (
    AgendaItem,
    Attendance,
    CommissionSession,
    ConflictDeclaration,
    Project,
    ProjectStatus,
    SessionStatus,
    Vote,
    VoteChoice,
    review_stage_q,
)
from projects.sessions.quorum import commission_members, present_members, quorum_reasons
from projects.workflow import TransitionRefused


class Refused(TransitionRefused):
    """The action cannot happen now; ``reasons`` says every why, for the page or the API."""


def _require(user: Any, permission: Permission) -> None:
    if not has_permission(user, permission):
        raise Refused([_("Your role does not allow it.")])


def _locked_session(session: CommissionSession) -> CommissionSession:
    return CommissionSession.objects.select_for_update().get(pk=session.pk)


# --- The session and its agenda -------------------------------------------------------------


@transaction.atomic
def create_session(*, by: Any, date: datetime, place: str = "") -> CommissionSession:
    _require(by, Permission.MANAGE_SESSIONS)
    session = CommissionSession.objects.create(date=date, place=place.strip(), created_by=by)
    record_event(
        action="session.created",
        actor=by,
        target=session,
        after={"date": session.date.isoformat(), "place": session.place},
    )
    return session


@transaction.atomic
def update_session(
    *, session: CommissionSession, by: Any, date: datetime, place: str = ""
) -> CommissionSession:
    _require(by, Permission.MANAGE_SESSIONS)
    locked = _locked_session(session)
    if locked.status != SessionStatus.PLANNED:
        raise Refused([_("Only a planned session can be rescheduled.")])
    before = {"date": locked.date.isoformat(), "place": locked.place}
    locked.date, locked.place = date, place.strip()
    locked.save(update_fields=["date", "place"])
    record_event(
        action="session.updated",
        actor=by,
        target=locked,
        before=before,
        after={"date": locked.date.isoformat(), "place": locked.place},
    )
    return locked


def agenda_candidates() -> list[Project]:
    """Projects under review that no planned or open session has on its agenda undecided."""
    pending = AgendaItem.objects.filter(
        session__status__in=[SessionStatus.PLANNED, SessionStatus.OPEN],
        decided_at__isnull=True,
        deferred_at__isnull=True,
    ).values("project_id")
    return list(
        Project.objects.filter(review_stage_q([ProjectStatus.UNDER_REVIEW]))
        .exclude(pk__in=pending)
        .order_by("reference")
    )


@transaction.atomic
def add_to_agenda(*, session: CommissionSession, project: Project, by: Any) -> AgendaItem:
    """Puts a project under review on the agenda, bound to its latest version."""
    _require(by, Permission.MANAGE_SESSIONS)
    locked = _locked_session(session)
    project = Project.objects.select_for_update().get(pk=project.pk)
    reasons = []
    if locked.status != SessionStatus.PLANNED:
        reasons.append(_("The agenda can change only while the session is planned."))
    if project.review_status != ProjectStatus.UNDER_REVIEW:
        reasons.append(_("Only a project under review can be put on the agenda."))
    if locked.items.filter(project=project).exists():
        reasons.append(_("This project is already on this session's agenda."))
    elif AgendaItem.objects.filter(
        project=project,
        session__status__in=[SessionStatus.PLANNED, SessionStatus.OPEN],
        decided_at__isnull=True,
        deferred_at__isnull=True,
    ).exists():
        reasons.append(_("This project is already on another session's agenda."))
    version = project.versions.order_by("-number").first()
    if version is None:
        reasons.append(_("Nothing was submitted."))
    if reasons:
        raise Refused(reasons)
    position = (locked.items.aggregate(p=Max("position"))["p"] or 0) + 1
    item = AgendaItem.objects.create(
        session=locked, project=project, version=version, position=position
    )
    record_event(
        action="session.agenda_added",
        actor=by,
        target=locked,
        after={"project": project.reference, "version": version.number, "position": position},
    )
    return item


def _planned_item(item: AgendaItem) -> tuple[CommissionSession, AgendaItem]:
    session = _locked_session(item.session)
    if session.status != SessionStatus.PLANNED:
        raise Refused([_("The agenda can change only while the session is planned.")])
    return session, AgendaItem.objects.select_related("project").get(pk=item.pk)


def _renumber(session: CommissionSession, ordered: list[AgendaItem]) -> None:
    for position, entry in enumerate(ordered, start=1):
        if entry.position != position:
            entry.position = position
            entry.save(update_fields=["position"])


@transaction.atomic
def remove_from_agenda(*, item: AgendaItem, by: Any) -> None:
    _require(by, Permission.MANAGE_SESSIONS)
    session, item = _planned_item(item)
    reference = item.project.reference
    item.delete()
    _renumber(session, list(session.items.order_by("position", "pk")))
    record_event(
        action="session.agenda_removed", actor=by, target=session, after={"project": reference}
    )


@transaction.atomic
def move_agenda_item(*, item: AgendaItem, by: Any, up: bool) -> None:
    _require(by, Permission.MANAGE_SESSIONS)
    session, item = _planned_item(item)
    ordered = list(session.items.order_by("position", "pk"))
    index = next(i for i, entry in enumerate(ordered) if entry.pk == item.pk)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(session, ordered)
    record_event(
        action="session.agenda_reordered",
        actor=by,
        target=session,
        after={"order": [entry.project.reference for entry in ordered]},
    )


@transaction.atomic
def convene_session(*, session: CommissionSession, by: Any) -> int:
    """Sends every member the convocation (date, place, number of files); returns how many.

    The research teams are not told: the agenda of a session is the commission's business.
    """
    _require(by, Permission.MANAGE_SESSIONS)
    locked = _locked_session(session)
    count = locked.items.count()
    reasons = []
    if locked.status != SessionStatus.PLANNED:
        reasons.append(_("Only a planned session can be convened."))
    if count == 0:
        reasons.append(_("Put at least one project on the agenda first."))
    if reasons:
        raise Refused(reasons)
    members = list(commission_members())
    repeated = locked.convened_at is not None
    subject = (
        gettext_lazy("Commission session of %(date)s: updated agenda")
        if repeated
        else gettext_lazy("Commission session of %(date)s: convocation")
    )
    # Messages: each member reads the date, the place and the count in their own language.
    notify(
        members,
        subject=Message(subject, date=locked.date),
        body=Message(
            ngettext_lazy(
                "You are convened to the commission session of %(date)s (%(place)s). "
                "%(count)s file on the agenda. Declare your interests in it before the "
                "session; the agenda and the file are on the portal.",
                "You are convened to the commission session of %(date)s (%(place)s). "
                "%(count)s files on the agenda. Declare your interests for each file before the "
                "session; the agenda and the files are on the portal.",
                "count",
            ),
            date=locked.date,
            place=locked.place or gettext_lazy("place to be confirmed"),
            count=count,
        ),
        url=reverse("session_detail", args=[locked.pk]),
    )
    locked.convened_at = timezone.now()
    locked.save(update_fields=["convened_at"])
    record_event(
        action="session.convened",
        actor=by,
        target=locked,
        after={"members": len(members), "items": count, "repeated": repeated},
    )
    return len(members)


# --- Attendance, opening, closing ----------------------------------------------------------


@transaction.atomic
def record_attendance(
    *, session: CommissionSession, by: Any, presence: dict[int, bool]
) -> list[Attendance]:
    """Present or absent, per member (by user id); members not named keep their record."""
    _require(by, Permission.MANAGE_SESSIONS)
    locked = _locked_session(session)
    if locked.status == SessionStatus.CLOSED:
        raise Refused([_("The session is closed: its attendance can no longer change.")])
    members = {m.pk: m for m in commission_members().filter(pk__in=list(presence))}
    unknown = sorted(set(presence) - set(members))
    if unknown:
        raise Refused([_("Only commission members can be recorded at a session.")])
    now = timezone.now()
    recorded = []
    for member_id, present in presence.items():
        attendance, _created = Attendance.objects.update_or_create(
            session=locked,
            member=members[member_id],
            defaults={"present": bool(present), "recorded_at": now, "recorded_by": by},
        )
        recorded.append(attendance)
    record_event(
        action="session.attendance_recorded",
        actor=by,
        target=locked,
        after={
            "present": sorted(m for m, p in presence.items() if p),
            "absent": sorted(m for m, p in presence.items() if not p),
        },
    )
    return recorded


@transaction.atomic
def open_session(*, session: CommissionSession, by: Any) -> CommissionSession:
    """The chair opens the session, only with its quorum (GOV-09)."""
    _require(by, Permission.OPEN_SESSION)
    locked = _locked_session(session)
    if locked.status != SessionStatus.PLANNED:
        raise Refused([_("Only a planned session can be opened.")])
    reasons = quorum_reasons(locked)
    if reasons:
        raise Refused(reasons)
    locked.status = SessionStatus.OPEN
    locked.opened_at = timezone.now()
    locked.opened_by = by
    locked.save(update_fields=["status", "opened_at", "opened_by"])
    record_event(
        action="session.opened",
        actor=by,
        target=locked,
        before={"status": SessionStatus.PLANNED},
        after={"status": locked.status, "present": present_members(locked).count()},
    )
    return locked


def close_reasons(session: CommissionSession) -> list[str]:
    reasons = []
    if session.status != SessionStatus.OPEN:
        reasons.append(_("Only an open session can be closed."))
    pending = session.items.filter(decided_at__isnull=True, deferred_at__isnull=True)
    if pending.exists():
        references = ", ".join(pending.values_list("project__reference", flat=True))
        reasons.append(
            _("Decide or defer every item first (still pending: %(refs)s).") % {"refs": references}
        )
    return reasons


@transaction.atomic
def close_session(*, session: CommissionSession, by: Any) -> CommissionSession:
    _require(by, Permission.OPEN_SESSION)
    locked = _locked_session(session)
    reasons = close_reasons(locked)
    if reasons:
        raise Refused(reasons)
    locked.status = SessionStatus.CLOSED
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "closed_at"])
    record_event(
        action="session.closed",
        actor=by,
        target=locked,
        before={"status": SessionStatus.OPEN},
        after={
            "status": locked.status,
            "decided": locked.items.filter(decided_at__isnull=False).count(),
            "deferred": locked.items.filter(deferred_at__isnull=False).count(),
        },
    )
    return locked


@transaction.atomic
def defer_item(*, item: AgendaItem, by: Any) -> AgendaItem:
    """The chair postpones an item to a later session: it may then go on another agenda."""
    _require(by, Permission.DECIDE)
    session = _locked_session(item.session)
    item = AgendaItem.objects.select_for_update().select_related("project").get(pk=item.pk)
    reasons = []
    if session.status != SessionStatus.OPEN:
        reasons.append(_("Only an item of an open session can be deferred."))
    if item.decided_at or item.deferred_at:
        reasons.append(_("This item is already decided or deferred."))
    if reasons:
        raise Refused(reasons)
    item.deferred_at = timezone.now()
    item.save(update_fields=["deferred_at"])
    record_event(
        action="session.item_deferred",
        actor=by,
        target=session,
        after={"project": item.project.reference, "version": item.version.number},
    )
    return item


# --- Votes ---------------------------------------------------------------------------------


def _conflicted_ids(project: Project, members: list[Any]) -> set[int]:
    """The members conflicted on the project (automatic or declared), in two queries."""
    declared = set(
        ConflictDeclaration.objects.filter(
            project=project, has_interest=True, member__in=members
        ).values_list("member_id", flat=True)
    )
    return {m.pk for m in members if m.pk in declared or automatic_conflict(m, project)}


def eligible_voters(item: AgendaItem) -> list[Any]:
    """Present members who are not conflicted on the item's project (GOV-10)."""
    project = Project.objects.prefetch_related("memberships__user").get(pk=item.project_id)
    present = list(present_members(item.session))
    conflicted = _conflicted_ids(project, present)
    return [member for member in present if member.pk not in conflicted]


def vote_is_closed(item: AgendaItem) -> bool:
    """No vote is cast any more: closed by the chair, decided, deferred, or the session over."""
    return bool(
        item.vote_closed_at
        or item.decided_at
        or item.deferred_at
        or item.session.status == SessionStatus.CLOSED
    )


def vote_refusals(item: AgendaItem, member: Any) -> list[str]:
    """Every reason this member cannot vote on this item now; empty when they can."""
    if not has_permission(member, Permission.VOTE) or not is_commission(member):
        return [_("Your role does not allow you to vote.")]
    session = item.session
    reasons: list[str] = []
    if session.status != SessionStatus.OPEN:
        reasons.append(_("Votes are cast only while the session is open."))
    else:
        reasons.extend(quorum_reasons(session))
    if item.decided_at is not None:
        reasons.append(_("This item is decided."))
    if item.deferred_at is not None:
        reasons.append(_("This item was deferred to a later session."))
    if item.vote_closed_at is not None and item.decided_at is None:
        reasons.append(_("The chair has closed the vote on this item."))
    if not session.attendance.filter(member=member, present=True).exists():
        reasons.append(_("You are not recorded present at this session."))
    automatic = automatic_conflict(member, item.project)
    declaration = declaration_of(member, item.project)
    if automatic:
        reasons.append(automatic + " " + _("You do not vote on this project."))
    elif declaration is None:
        reasons.append(_("Declare your interests for this project before voting."))
    elif declaration.has_interest:
        reasons.append(_("You declared an interest in this project: you do not vote on it."))
    if item.votes.filter(member=member).exists():
        reasons.append(_("You have already voted on this item; a vote is final."))
    return reasons


@transaction.atomic
def cast_vote(*, item: AgendaItem, by: Any, choice: str) -> Vote:
    """A present, unconflicted member's vote; one each, final once cast."""
    if choice not in VoteChoice.values:
        raise Refused([_("Choose one of the proposed votes.")])
    _locked_session(item.session)
    item = (
        AgendaItem.objects.select_for_update()
        .select_related("session", "project", "version")
        .get(pk=item.pk)
    )
    reasons = vote_refusals(item, by)
    # The same question the helper answered, asked of the reference function (no shortcut).
    if not reasons and is_conflicted(by, item.project):
        reasons = [_("You are conflicted on this project: you do not vote on it.")]
    if reasons:
        raise Refused(reasons)
    try:
        with transaction.atomic():
            vote = Vote.objects.create(item=item, member=by, choice=choice)
    except IntegrityError as exc:
        raise Refused([_("You have already voted on this item; a vote is final.")]) from exc
    record_event(
        action="vote.cast",
        actor=by,
        target=item.project,
        after={
            "session": item.session_id,
            "item": item.pk,
            "version": item.version.number,
            "choice": choice,
        },
    )
    return vote


def tally(item: AgendaItem) -> dict[str, Any]:
    """Counts per choice, eligible voters and who has not voted yet (names: commission only)."""
    counts = {choice.value: 0 for choice in VoteChoice}
    voted: set[int] = set()
    for member_id, choice in item.votes.values_list("member_id", "choice"):
        counts[choice] += 1
        voted.add(member_id)
    eligible = eligible_voters(item)
    not_voted = [member for member in eligible if member.pk not in voted]
    expressed = {k: v for k, v in counts.items() if k != VoteChoice.ABSTENTION and v}
    top = max(expressed.values(), default=0)
    leaders = [k for k, v in expressed.items() if v == top]
    return {
        "counts": counts,
        "rows": [
            {"choice": choice.value, "label": choice.label, "count": counts[choice.value]}
            for choice in VoteChoice
        ],
        "cast": sum(counts.values()),
        "eligible": len(eligible),
        "not_voted": not_voted,
        # The choice with most votes, abstentions aside; None on a tie or without votes.
        "leading": leaders[0] if len(leaders) == 1 else None,
    }


def visible_tally(item: AgendaItem, user: Any) -> dict[str, Any]:
    """What ``user`` may see of the votes on ``item`` (module docstring: independent votes).

    Hidden values are None (``not_voted``: None when hidden, a list when shown). Every viewer
    sees their own vote (``mine``): a member knows what they cast, and that it is final.
    """
    result = tally(item)
    closed = vote_is_closed(item)
    follows = has_permission(user, Permission.FOLLOW_VOTES)
    # Once closed, the counts go to whoever may read the file and to the secretariat: a member
    # who has not declared their interests yet may be conflicted without having said so.
    counts = closed and (follows or may_read_file(user, item.project))
    progress = counts or has_permission(user, Permission.MANAGE_SESSIONS)
    mine = (
        item.votes.filter(member=user).first() if getattr(user, "is_authenticated", False) else None
    )
    return {
        "closed": closed,
        "counts": result["counts"] if counts else None,
        "rows": result["rows"] if counts else [],
        "leading": result["leading"] if counts else None,
        "cast": result["cast"] if progress else None,
        "eligible": result["eligible"] if progress else None,
        "not_voted": result["not_voted"] if follows else None,
        "mine": mine,
    }


@transaction.atomic
def close_vote(*, item: AgendaItem, by: Any) -> AgendaItem:
    """The chair closes the vote on an item: no vote after it, and the tally is shown to all."""
    _require(by, Permission.DECIDE)
    session = _locked_session(item.session)
    item = (
        AgendaItem.objects.select_for_update()
        .select_related("session", "project", "version")
        .get(pk=item.pk)
    )
    reasons = []
    if session.status != SessionStatus.OPEN:
        reasons.append(_("Only the vote of an item of an open session can be closed."))
    if item.decided_at or item.deferred_at:
        reasons.append(_("This item is already decided or deferred."))
    elif item.vote_closed_at:
        reasons.append(_("The vote on this item is already closed."))
    if is_conflicted(by, item.project):
        reasons.append(_("You are conflicted on this project: you do not close its vote."))
    if reasons:
        raise Refused(reasons)
    close_locked_vote(item, by)
    return item


def close_locked_vote(item: AgendaItem, by: Any) -> None:
    """Closes the vote of a locked, open item and writes the event (with the counts, no names)."""
    item.vote_closed_at = timezone.now()
    item.vote_closed_by = by
    item.save(update_fields=["vote_closed_at", "vote_closed_by"])
    record_event(
        action="session.vote_closed",
        actor=by,
        target=item.session,
        after={
            "project": item.project.reference,
            "item": item.pk,
            "version": item.version.number,
            **tally_record(tally(item)),
        },
    )


def tally_record(result: dict[str, Any]) -> dict[str, Any]:
    """What a decision keeps of the tally: counts only, never who voted what."""
    return {
        "counts": dict(result["counts"]),
        "cast": result["cast"],
        "eligible": result["eligible"],
    }
