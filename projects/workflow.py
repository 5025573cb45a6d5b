"""The protocol's state machine: the only module that changes ``Project.status``.

Each transition names who may fire it and its guard (every reason it cannot happen now).
``fire`` runs in one transaction: it locks the project row, checks, changes the status,
writes the audit event and the team's notification; e-mails leave after commit.

Every transition of the protocol's life is declared here, so that the whole machine stays in
one place; the actions that record what a transition needs fire it: decisions
(projects/sessions/decisions.py), formalities and publication (access/formalities/), delivery
(access/provisioning/). Apps add guards with ``register_guard`` (access cannot be imported
from here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from eds_portal.audit import record_event
from eds_portal.authz import has_role
from eds_portal.errors import Refused
from eds_portal.roles import Role
from projects.models import (
    AMENDABLE_STATUSES,
    AMENDMENT_EDITING_STATUSES,
    PENDING_AMENDMENT_STATUSES,
    Amendment,
    AmendmentStatus,
    Project,
    ProjectStatus,
    TeamMembership,
    TeamRole,
)

S = ProjectStatus


class TransitionRefused(Refused):
    """The transition is refused; ``reasons`` says every why."""


def is_lead(user: Any, project: Project) -> bool:
    return TeamMembership.objects.filter(project=project, user=user, role=TeamRole.LEAD).exists()


def is_secretariat(user: Any, project: Project) -> bool:
    return has_role(user, Role.SECRETARIAT)


def is_chair(user: Any, project: Project) -> bool:
    return has_role(user, Role.CHAIR)


def is_system_or_data_steward(user: Any, project: Project) -> bool:
    # None: the provisioning worker, when the project's first dataset is published.
    return user is None or has_role(user, Role.DATA_STEWARD)


def is_secretariat_or_dpo(user: Any, project: Project) -> bool:
    return has_role(user, Role.SECRETARIAT, Role.DPO)


def _no_guard(project: Project) -> list[str]:
    return []


def _complete(project: Project) -> list[str]:
    from projects.completeness import missing_items

    missing = missing_items(project)
    if missing:
        return [
            ngettext_lazy(
                "The protocol is not complete: %(count)s item missing.",
                "The protocol is not complete: %(count)s items missing.",
                "count",
            )
            % {"count": len(missing)}
        ]
    return []


def _decision_exists_unless_in_review(project: Project) -> list[str]:
    # From a decided state, only a correcting decision moves the project (GOV-11).
    if project.status != S.UNDER_REVIEW and not project.decisions.exists():
        return [_("There is no decision to correct.")]
    return []


def _favourable_decision(project: Project) -> list[str]:
    from projects.models import Recommendation

    latest = project.decisions.in_force().first()
    if latest is None or latest.opinion not in {
        Recommendation.FAVOURABLE,
        Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS,
    }:
        return [_("There is no favourable opinion of the commission.")]
    return []


# Guards that a higher app adds to a transition (access registers the formalities and the
# publication's conditions): projects does not import access.
_extra_guards: dict[str, list[Callable[[Project], list[str]]]] = {}


def register_guard(name: str, guard: Callable[[Project], list[str]]) -> None:
    _extra_guards.setdefault(name, [])
    if guard not in _extra_guards[name]:
        _extra_guards[name].append(guard)


# Reactions of a higher app to a transition, run after its commit with the project's id (access
# destroys the datasets of a closed or withdrawn project): projects does not import access.
_after_commit: dict[str, list[Callable[[int], None]]] = {}


def register_after_commit(name: str, hook: Callable[[int], None]) -> None:
    _after_commit.setdefault(name, [])
    if hook not in _after_commit[name]:
        _after_commit[name].append(hook)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[ProjectStatus]
    target: ProjectStatus
    allowed: Callable[[Any, Project], bool]
    guard: Callable[[Project], list[str]] = _no_guard
    label: str = ""


BEFORE_DELIVERY = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.INCOMPLETE,
        S.UNDER_REVIEW,
        S.CHANGES_REQUESTED,
        S.APPROVED,
        S.FORMALITIES,
        S.PUBLISHED,
    }
)

# A decision is taken on a file under review; a correcting decision on a decided one.
DECIDABLE = frozenset({S.UNDER_REVIEW, S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED})

TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(
        "submit", frozenset({S.DRAFT, S.INCOMPLETE}), S.SUBMITTED, is_lead, _complete, _("Submit")
    ),
    # A revision asked by the commission goes straight back to it (docs/architecture.md).
    "resubmit": Transition(
        "resubmit",
        frozenset({S.CHANGES_REQUESTED}),
        S.UNDER_REVIEW,
        is_lead,
        _complete,
        _("Submit the revised version"),
    ),
    "withdraw": Transition("withdraw", BEFORE_DELIVERY, S.WITHDRAWN, is_lead, label=_("Withdraw")),
    "accept_for_review": Transition(
        "accept_for_review",
        frozenset({S.SUBMITTED}),
        S.UNDER_REVIEW,
        is_secretariat,
        label=_("Accept for review"),
    ),
    "return_incomplete": Transition(
        "return_incomplete",
        frozenset({S.SUBMITTED}),
        S.INCOMPLETE,
        is_secretariat,
        label=_("Return as incomplete"),
    ),
    # The commission's decisions (projects/sessions/decisions.py fires them with the decision
    # it records). A correction is a new decision: from a decided state to the corrected one.
    "approve": Transition(
        "approve",
        DECIDABLE,
        S.APPROVED,
        is_chair,
        _decision_exists_unless_in_review,
        _("Approve"),
    ),
    "request_changes": Transition(
        "request_changes",
        DECIDABLE,
        S.CHANGES_REQUESTED,
        is_chair,
        _decision_exists_unless_in_review,
        _("Request changes"),
    ),
    "reject": Transition(
        "reject",
        DECIDABLE,
        S.REJECTED,
        is_chair,
        _decision_exists_unless_in_review,
        _("Reject"),
    ),
    # After a favourable opinion (GOV-02): the secretariat records the CNIL formality and the
    # directory registration, then publishes the page (access.formalities fires both).
    "record_formalities": Transition(
        "record_formalities",
        frozenset({S.APPROVED}),
        S.FORMALITIES,
        is_secretariat,
        _favourable_decision,
        _("Record the formalities"),
    ),
    "publish": Transition(
        "publish",
        frozenset({S.FORMALITIES}),
        S.PUBLISHED,
        is_secretariat,
        _favourable_decision,
        _("Publish the project page"),
    ),
    # After delivery (docs/architecture.md): the first published dataset makes the project active
    # (access.provisioning fires it inside the publication's transaction, as the system).
    "activate": Transition(
        "activate",
        frozenset({S.PUBLISHED}),
        S.ACTIVE,
        is_system_or_data_steward,
        label=_("Mark as receiving data"),
    ),
    # A suspension stops new deliveries (the gates refuse a suspended project) until resumed.
    "suspend": Transition(
        "suspend",
        frozenset({S.ACTIVE}),
        S.SUSPENDED,
        is_secretariat_or_dpo,
        label=_("Suspend"),
    ),
    "resume": Transition(
        "resume",
        frozenset({S.SUSPENDED}),
        S.ACTIVE,
        is_secretariat_or_dpo,
        label=_("Resume"),
    ),
    "close": Transition(
        "close",
        frozenset({S.ACTIVE, S.SUSPENDED}),
        S.CLOSED,
        is_secretariat,
        label=_("Close the project"),
    ),
}

# Transitions that only an action recording a decision may fire (not offered as buttons).
DECISION_TRANSITIONS = frozenset({"approve", "request_changes", "reject"})
# Fired by the formalities pages with what they record, not offered as bare buttons.
FORMALITY_TRANSITIONS = frozenset({"record_formalities", "publish"})
# After delivery: fired by provisioning (activate) or by a form that asks for the reason.
LIFECYCLE_TRANSITIONS = frozenset({"activate", "suspend", "resume", "close"})
# The reason is required, and kept in the audit event: it says why deliveries stop or restart
# (LOG-06), so the forms ask for the grounds, not for names.
REASON_REQUIRED = frozenset({"suspend", "resume"})


def available(project: Project, user: Any) -> list[Transition]:
    """Transitions this user may fire now (guards aside: the page shows their reasons)."""
    return [
        t
        for t in TRANSITIONS.values()
        if t.name not in DECISION_TRANSITIONS | FORMALITY_TRANSITIONS | LIFECYCLE_TRANSITIONS
        and project.status in t.sources
        and t.allowed(user, project)
    ]


# Changes after delivery that a person makes from the lifecycle page, with their grounds.
MANUAL_LIFECYCLE = ("suspend", "resume", "close")


def lifecycle_available(project: Project, user: Any) -> list[Transition]:
    """Suspend, resume or close, as this user may now (``available`` leaves them out)."""
    return [
        TRANSITIONS[name]
        for name in MANUAL_LIFECYCLE
        if project.status in TRANSITIONS[name].sources and TRANSITIONS[name].allowed(user, project)
    ]


def reasons_against(project: Project, name: str, user: Any) -> list[str]:
    if name in AMENDMENT_TRANSITIONS:
        return amendment_reasons_against(project, name, user)
    transition = TRANSITIONS[name]
    reasons: list[str] = []
    if project.status not in transition.sources:
        reasons.append(
            _("Not possible while the project is “%(status)s”.")
            % {"status": ProjectStatus(project.status).label}
        )
    if not transition.allowed(user, project):
        reasons.append(_("Your role on this project does not allow it."))
    if not reasons:
        reasons.extend(transition.guard(project))
        for guard in _extra_guards.get(name, ()):
            reasons.extend(guard(project))
    return reasons


def fire(
    project: Project,
    name: str,
    *,
    by: Any,
    details: dict | None = None,
    reason: str = "",
    team_note: Any = "",
) -> Project:
    """Applies a transition, or raises ``TransitionRefused`` with every reason.

    The team is notified of the new status in the same transaction (e-mails after commit);
    ``team_note`` adds what only the caller knows (the version, the missing items...) to that
    one message, so that a team member gets one message per event. A ``Message`` is written in
    each member's language.
    """
    transition = TRANSITIONS[name]
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        reasons = reasons_against(locked, name, by)
        if not reasons and name in REASON_REQUIRED and not reason.strip():
            reasons = [_("Give the reason.")]
        if reasons:
            raise TransitionRefused(reasons)
        before = locked.status
        locked.status = transition.target
        update = ["status", "updated_at"]
        keeps_amendments = AMENDABLE_STATUSES | {S.SUSPENDED}
        if before in keeps_amendments and transition.target not in keeps_amendments:
            # A project that stops (closed, withdrawn) or goes back to the commission takes no
            # amendment with it; a suspended one keeps it, frozen, for its resumption.
            update += _end_pending_amendment(locked)
        if transition.target == S.WITHDRAWN:
            locked.withdrawn_at = timezone.now()
            # The reason stays on the project, not in the append-only trail: it is free text
            # and may name people (LOG-04).
            locked.withdrawal_reason = reason
            update += ["withdrawn_at", "withdrawal_reason"]
        locked.save(update_fields=update)
        record_event(
            action=f"project.{name}",
            actor=by,
            target=locked,
            before={"status": before},
            after={
                "status": locked.status,
                **({"reason": reason.strip()} if name in REASON_REQUIRED else {}),
                **(details or {}),
            },
        )
        if name in REASON_REQUIRED:
            from eds_portal.notifications import Message, Paragraphs

            team_note = Paragraphs(
                Message(_("Reason: %(reason)s"), reason=reason.strip()), team_note
            )
        _notify_team(locked, note=team_note)
        for hook in _after_commit.get(name, []):
            transaction.on_commit(lambda hook=hook, pk=locked.pk: hook(pk))
    project.refresh_from_db()
    return project


def _notify_team(project: Project, *, note: Any = "") -> None:
    """Every state change reaches the team on their home page and by e-mail."""
    from django.urls import reverse

    from eds_portal.notifications import Message, Paragraphs, notify
    from projects.next_steps import awaited as awaited_from_team

    status = ProjectStatus(project.status)
    # Messages, not texts: each member reads them in their own language.
    subject = Message(_("%(ref)s — %(status)s"), ref=project.reference, status=status.label)
    # After a decision, the same sentence as its letter (the opinion says what comes next).
    awaited = awaited_from_team(project)
    body = Paragraphs(
        Message(
            _("The project “%(title)s” (%(ref)s) is now “%(status)s”."),
            title=project.title,
            ref=project.reference,
            status=status.label,
        ),
        Message(_("Awaited from you: %(awaited)s"), awaited=awaited)
        if awaited
        else _("Nothing is awaited from you."),
        note,
    )
    members = [
        membership.user
        for membership in project.memberships.select_related("user").filter(user__is_active=True)
    ]
    # A closed project's team holds no right on it (projects.permissions): no link to its page.
    url = "" if project.status == S.CLOSED else reverse("project_detail", args=[project.pk])
    notify(members, subject=subject, body=body, url=url)


# --- Amendments after approval (GOV-13) -------------------------------------------------------
# An amendment has its own small machine: opening, submitting, cancelling it, and the
# commission's decision on it change ``Amendment.status``, never ``Project.status``. The project
# keeps its access and its delivered-data lifecycle meanwhile: no transition here suspends,
# closes or reopens anything, and a suspended project neither opens, submits nor has decided an
# amendment (it may only give it up).

A = AmendmentStatus


def _favourable_in_force(project: Project) -> list[str]:
    reasons = _favourable_decision(project)
    return [_("Only an approved project can be amended.")] if reasons else []


@dataclass(frozen=True)
class AmendmentTransition:
    name: str
    # ``None``: no amendment pending.
    sources: frozenset[AmendmentStatus | None]
    target: AmendmentStatus
    allowed: Callable[[Any, Project], bool]
    guard: Callable[[Project], list[str]] = _no_guard
    label: str = ""
    # The project statuses it may happen in.
    project_statuses: frozenset[ProjectStatus] = AMENDABLE_STATUSES


# A decision on an amendment: from "under review", or a correcting decision on an approved one.
AMENDMENT_DECIDABLE = frozenset({A.UNDER_REVIEW, A.APPROVED})

AMENDMENT_TRANSITIONS: dict[str, AmendmentTransition] = {
    "open_amendment": AmendmentTransition(
        "open_amendment",
        frozenset({None}),
        A.OPEN,
        is_lead,
        _favourable_in_force,
        _("Open an amendment"),
    ),
    "submit_amendment": AmendmentTransition(
        "submit_amendment",
        frozenset({A.OPEN, A.CHANGES_REQUESTED}),
        A.UNDER_REVIEW,
        is_lead,
        _complete,
        _("Submit the amendment"),
    ),
    # The lead gives it up; also possible while suspended (it restores nothing).
    "cancel_amendment": AmendmentTransition(
        "cancel_amendment",
        frozenset({A.OPEN, A.CHANGES_REQUESTED}),
        A.CANCELLED,
        is_lead,
        label=_("Cancel the amendment"),
        project_statuses=AMENDABLE_STATUSES | {S.SUSPENDED},
    ),
    # The commission's decisions (projects/sessions/decisions.py fires them with the decision).
    "approve_amendment": AmendmentTransition(
        "approve_amendment",
        AMENDMENT_DECIDABLE,
        A.APPROVED,
        is_chair,
        label=_("Approve the amendment"),
    ),
    "request_amendment_changes": AmendmentTransition(
        "request_amendment_changes",
        AMENDMENT_DECIDABLE,
        A.CHANGES_REQUESTED,
        is_chair,
        label=_("Request changes to the amendment"),
    ),
    "refuse_amendment": AmendmentTransition(
        "refuse_amendment",
        AMENDMENT_DECIDABLE,
        A.REFUSED,
        is_chair,
        label=_("Refuse the amendment"),
    ),
}
AMENDMENT_DECISION_TRANSITIONS = frozenset(
    {"approve_amendment", "request_amendment_changes", "refuse_amendment"}
)
# The audit actions kept from the first amendments (the trail's vocabulary does not change).
_AMENDMENT_AUDIT_ACTION = {"open_amendment": "project.amendment_opened"}


def amendment_reasons_against(
    project: Project, name: str, user: Any, *, amendment: Amendment | None = None
) -> list[str]:
    """Every reason the amendment transition cannot happen now (the project's row as given)."""
    transition = AMENDMENT_TRANSITIONS[name]
    amendment = amendment or project.pending_amendment()
    current = amendment.status if amendment is not None else None
    reasons: list[str] = []
    if project.status == S.SUSPENDED and S.SUSPENDED not in transition.project_statuses:
        reasons.append(_("The project is suspended: no amendment until it is resumed."))
    elif project.status not in transition.project_statuses:
        reasons.append(
            _("Only an approved project can be amended.")
            if name == "open_amendment"
            else _("Not possible while the project is “%(status)s”.")
            % {"status": ProjectStatus(project.status).label}
        )
    if current not in transition.sources:
        if current is None:
            reasons.append(_("Open an amendment first."))
        elif name == "open_amendment":
            reasons.append(_("An amendment is already in progress."))
        else:
            reasons.append(
                _("Not possible while the amendment is “%(status)s”.")
                % {"status": AmendmentStatus(current).label}
            )
    if not transition.allowed(user, project):
        reasons.append(_("Your role on this project does not allow it."))
    if not reasons:
        reasons.extend(transition.guard(project))
        for guard in _extra_guards.get(name, ()):
            reasons.extend(guard(project))
    return reasons


def _draft_content(version: Any) -> dict:
    """A version's content as a draft holds it (the frozen team and file lists aside)."""
    import copy

    return {k: copy.deepcopy(v) for k, v in version.content.items() if not k.startswith("_")}


def _restore_draft(project: Project, version: Any, by: Any) -> dict:
    """Puts the version's content back in the draft; returns what the draft held."""
    draft = project.draft
    previous = draft.content
    draft.content = _draft_content(version)
    draft.based_on = version
    draft.updated_by = by if getattr(by, "is_authenticated", False) else draft.updated_by
    draft.save(update_fields=["content", "based_on", "updated_by", "updated_at"])
    return previous


def open_amendment(project: Project, *, by: Any) -> Amendment:
    """The lead opens an amendment: the draft starts again from the version in force.

    The project's status, its access and its decision in force do not change; what the draft
    held, if it differed, is kept on the amendment.
    """
    from projects.models import Decision

    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        reasons = amendment_reasons_against(locked, "open_amendment", by)
        if reasons:
            raise TransitionRefused(reasons)
        decision = Decision.objects.filter(project=locked).in_force().select_related("version")[0]
        base = decision.version
        previous = _restore_draft(locked, base, by)
        last = locked.amendments.order_by("-number").values_list("number", flat=True).first()
        amendment = Amendment.objects.create(
            project=locked,
            number=(last or 0) + 1,
            base_decision=decision,
            base_version=base,
            kept_draft=previous if previous != _draft_content(base) else {},
            opened_by=by,
        )
        locked.amendment_opened_at = amendment.opened_at
        locked.save(update_fields=["amendment_opened_at", "updated_at"])
        _record_amendment_event(
            locked,
            amendment,
            "open_amendment",
            by=by,
            before=None,
            details={"base_version": base.number, "base_decision": decision.number},
        )
        from eds_portal.notifications import Message

        note = Message(
            _(
                "Amendment %(n)s was opened from version %(version)s, in force: edit the "
                "sections, then submit it. Access continues under decision %(decision)s "
                "meanwhile."
            ),
            n=amendment.number,
            version=base.number,
            decision=decision.number,
        )
        _notify_team_of_amendment(locked, amendment, note=note)
    project.refresh_from_db()
    return amendment


def cancel_amendment(project: Project, *, by: Any) -> Amendment:
    """The lead gives up the amendment being written; the draft goes back to the version in
    force, what it held is kept on the amendment."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        amendment = locked.pending_amendment()
        reasons = amendment_reasons_against(locked, "cancel_amendment", by, amendment=amendment)
        if reasons:
            raise TransitionRefused(reasons)
        _cancel(locked, amendment, by=by)
        locked.save(update_fields=["amendment_opened_at", "updated_at"])
        _notify_team_of_amendment(locked, amendment)
    project.refresh_from_db()
    return amendment


def _cancel(locked: Project, amendment: Amendment, *, by: Any) -> None:
    from projects.models import Decision

    before = amendment.status
    in_force = Decision.objects.filter(project=locked).in_force().select_related("version")
    decision = in_force.first()
    kept = _restore_draft(locked, decision.version if decision else amendment.base_version, by)
    amendment.status = A.CANCELLED
    amendment.closed_at = timezone.now()
    amendment.kept_draft = kept
    amendment.save(update_fields=["status", "closed_at", "kept_draft"])
    locked.amendment_opened_at = None
    _record_amendment_event(locked, amendment, "cancel_amendment", by=by, before=before)


def _end_pending_amendment(locked: Project) -> list[str]:
    """Inside ``fire``: the project stops or goes back to the commission; a pending amendment
    ends with it (by the system). Returns the project's fields to save."""
    amendment = locked.pending_amendment()
    if amendment is None:
        return []
    _cancel(locked, amendment, by=None)
    return ["amendment_opened_at"]


def fire_amendment(
    project: Project,
    name: str,
    *,
    by: Any,
    version: Any = None,
    decision: Any = None,
    details: dict | None = None,
    team_note: str = "",
) -> Amendment:
    """Submits an amendment (``version``: the version just frozen) or records the commission's
    decision on it (``decision``), or raises ``TransitionRefused`` with every reason.

    The project's status never changes here. Called inside the submission's or the decision's
    transaction; the higher apps' reactions (a new dataset, the public page) run after commit.
    """
    transition = AMENDMENT_TRANSITIONS[name]
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        amendment = locked.pending_amendment()
        if name in AMENDMENT_DECISION_TRANSITIONS and decision is not None and amendment is None:
            # A correcting decision on an approved amendment.
            amendment = locked.amendments.filter(version=decision.version).first()
        reasons = amendment_reasons_against(locked, name, by, amendment=amendment)
        if not reasons and name == "submit_amendment" and version is None:
            reasons = [_("Nothing was submitted.")]
        if not reasons and name in AMENDMENT_DECISION_TRANSITIONS:
            reasons = _decision_reasons(locked, amendment, decision)
        if reasons:
            raise TransitionRefused(reasons)
        before = amendment.status
        amendment.status = transition.target
        fields = ["status"]
        if version is not None:
            amendment.version = version
            fields.append("version")
        if decision is not None:
            amendment.decision = decision
            fields.append("decision")
        if transition.target in AMENDMENT_EDITING_STATUSES:
            # The commission asks for a revision: the draft is the team's again.
            amendment.closed_at = None
            locked.amendment_opened_at = timezone.now()
        elif transition.target == A.UNDER_REVIEW:
            locked.amendment_opened_at = None
        else:
            amendment.closed_at = timezone.now()
        fields.append("closed_at")
        amendment.save(update_fields=fields)
        locked.save(update_fields=["amendment_opened_at", "updated_at"])
        _record_amendment_event(locked, amendment, name, by=by, before=before, details=details)
        _notify_team_of_amendment(locked, amendment, note=team_note)
        for hook in _after_commit.get(name, []):
            transaction.on_commit(lambda hook=hook, pk=locked.pk: hook(pk))
    return amendment


def _decision_reasons(locked: Project, amendment: Amendment | None, decision: Any) -> list[str]:
    """A decision transition records a decision on the amendment's latest version; a
    correction (from "approved") supersedes the amendment's decision and no other amendment
    may be pending."""
    if amendment is None or decision is None or decision.version_id != amendment.version_id:
        return [_("Record the commission's decision on the amendment's version.")]
    if amendment.status == A.APPROVED:
        if decision.supersedes_id is None or decision.supersedes_id != amendment.decision_id:
            return [_("Only a decision that corrects the amendment's decision changes it.")]
        if locked.amendments.filter(status__in=PENDING_AMENDMENT_STATUSES).exists():
            return [_("Another amendment is in progress.")]
    return []


def _record_amendment_event(
    project: Project,
    amendment: Amendment,
    name: str,
    *,
    by: Any,
    before: str | None,
    details: dict | None = None,
) -> None:
    # "amendment_status", not "status": the project's own status did not change (the pipeline
    # reads "status" before and after as the project's).
    record_event(
        action=_AMENDMENT_AUDIT_ACTION.get(name, f"project.{name}"),
        actor=by,
        target=project,
        before={"amendment_status": before} if before else None,
        after={
            "amendment": amendment.number,
            "amendment_status": amendment.status,
            "project_status": project.status,
            **({"version": amendment.version.number} if amendment.version_id else {}),
            **(details or {}),
        },
    )


def _notify_team_of_amendment(project: Project, amendment: Amendment, *, note: Any = "") -> None:
    """Every change of an amendment reaches the team, as the project's own changes do; each
    member reads it in their own language (messages, not texts)."""
    from django.urls import reverse

    from eds_portal.notifications import Message, Paragraphs, notify

    status = AmendmentStatus(amendment.status)
    subject = Message(
        _("%(ref)s — amendment %(n)s: %(status)s"),
        ref=project.reference,
        n=amendment.number,
        status=status.label,
    )
    body = Paragraphs(
        Message(
            _("Amendment %(n)s of the project “%(title)s” (%(ref)s) is now “%(status)s”."),
            n=amendment.number,
            title=project.title,
            ref=project.reference,
            status=status.label,
        ),
        _(
            "Until the commission approves it, access continues under the decision in "
            "force: same data, same recipients, same access period."
        )
        if amendment.is_pending
        else "",
        note,
    )
    members = [
        membership.user
        for membership in project.memberships.select_related("user").filter(user__is_active=True)
    ]
    notify(members, subject=subject, body=body, url=reverse("project_detail", args=[project.pk]))
