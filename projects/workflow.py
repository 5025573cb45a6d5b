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

from eds_portal.audit import record_event
from eds_portal.authz import has_role
from eds_portal.errors import Refused
from eds_portal.roles import Role
from projects.models import (
    AMENDABLE_STATUSES,
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
            _("The protocol is not complete: %(count)s item(s) missing.") % {"count": len(missing)}
        ]
    return []


def _amendment_open(project: Project) -> list[str]:
    if project.amendment_opened_at is None:
        return [_("Open an amendment first.")]
    return _complete(project)


def _no_amendment_open(project: Project) -> list[str]:
    if project.amendment_opened_at is not None:
        return [_("An amendment is already being written.")]
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
    # A modification after approval reopens review (GOV-13); the previous approval stays in
    # force for what was already delivered until the commission decides again.
    "submit_amendment": Transition(
        "submit_amendment",
        AMENDABLE_STATUSES,
        S.UNDER_REVIEW,
        is_lead,
        _amendment_open,
        _("Submit the amendment"),
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


def open_amendment(project: Project, *, by: Any) -> Project:
    """Makes the draft of an approved project editable again; the status does not change."""
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        reasons = []
        if locked.status not in AMENDABLE_STATUSES:
            reasons.append(_("Only an approved project can be amended."))
        if not is_lead(by, locked):
            reasons.append(_("Your role on this project does not allow it."))
        reasons.extend(_no_amendment_open(locked))
        if reasons:
            raise TransitionRefused(reasons)
        locked.amendment_opened_at = timezone.now()
        locked.save(update_fields=["amendment_opened_at", "updated_at"])
        record_event(
            action="project.amendment_opened",
            actor=by,
            target=locked,
            after={"status": locked.status},
        )
    project.refresh_from_db()
    return project


def fire(
    project: Project,
    name: str,
    *,
    by: Any,
    details: dict | None = None,
    reason: str = "",
    team_note: str = "",
) -> Project:
    """Applies a transition, or raises ``TransitionRefused`` with every reason.

    The team is notified of the new status in the same transaction (e-mails after commit);
    ``team_note`` adds what only the caller knows (the version, the missing items...) to that
    one message, so that a team member gets one message per event.
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
        if name == "submit_amendment":
            locked.amendment_opened_at = None
            update.append("amendment_opened_at")
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
            team_note = "\n\n".join(
                str(line)
                for line in [_("Reason: %(reason)s") % {"reason": reason.strip()}, team_note]
                if line
            )
        _notify_team(locked, note=team_note)
        for hook in _after_commit.get(name, []):
            transaction.on_commit(lambda hook=hook, pk=locked.pk: hook(pk))
    project.refresh_from_db()
    return project


def _notify_team(project: Project, *, note: str = "") -> None:
    """Every state change reaches the team on their home page and by e-mail."""
    from django.urls import reverse

    from eds_portal.notifications import in_portal_language, notify
    from projects.panels import AWAITED

    status = ProjectStatus(project.status)
    with in_portal_language():
        subject = _("%(ref)s — %(status)s") % {"ref": project.reference, "status": status.label}
        lines = [
            _("The project “%(title)s” (%(ref)s) is now “%(status)s”.")
            % {"title": project.title, "ref": project.reference, "status": status.label}
        ]
        awaited = AWAITED.get(status)
        lines.append(
            _("Awaited from you: %(awaited)s") % {"awaited": awaited}
            if awaited
            else _("Nothing is awaited from you.")
        )
        if note:
            lines.append(str(note))
        body = "\n\n".join(str(line) for line in lines)
    members = [
        membership.user
        for membership in project.memberships.select_related("user").filter(user__is_active=True)
    ]
    notify(members, subject=subject, body=body, url=reverse("project_detail", args=[project.pk]))
