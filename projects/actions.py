"""Writes of the researcher's side: projects, drafts, submission, withdrawal.

Keyword-only functions with an explicit actor (``by=``), one transaction each, each writing its
audit event. Views, the API and commands call them; they do not save models themselves.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.audit import record_event
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects import workflow
from projects.models import (
    AMENDABLE_STATUSES,
    Draft,
    Project,
    ProjectStatus,
    ProtocolVersion,
    TeamMembership,
    TeamRole,
)
from projects.regulatory_route import propose_route
from projects.sections import BY_KEY

TITLE_FALLBACK_LENGTH = 300


# Any constant: it serialises the numbering of new projects across processes.
_REFERENCE_LOCK = 0x45445350  # "EDSP"


def _next_reference() -> str:
    """EDS-<year>-<number>, in the caller's transaction.

    A row lock cannot protect "the next number" (there may be no row yet this year, and a
    waiting SELECT ... FOR UPDATE re-reads the row it had found, not the newest): on PostgreSQL
    an advisory lock held until commit serialises the creations; SQLite writes one at a time.
    """
    connection = connections["default"]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFERENCE_LOCK])
    year = timezone.now().year
    prefix = f"EDS-{year}-"
    last = (
        Project.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


@transaction.atomic
def create_project(*, by: Any, title: str) -> Project:
    """A new project in draft, with its author as lead."""
    project = Project.objects.create(
        reference=_next_reference(), created_by=by, title=title.strip()[:TITLE_FALLBACK_LENGTH]
    )
    # The draft holds only what the team typed: the working title is the identification
    # section's initial public title (projects.sections.initial_values), not a saved section,
    # so the section opens without errors until someone saves it.
    Draft.objects.create(project=project, updated_by=by, content={})
    TeamMembership.objects.create(project=project, user=by, role=TeamRole.LEAD)
    record_event(
        action="project.created",
        actor=by,
        target=project,
        after={"reference": project.reference, "status": project.status},
    )
    return project


class NotEditable(Refused):
    """The project is not editable in its status (``str()`` is the status)."""


@transaction.atomic
def save_section(*, project: Project, section_key: str, raw: dict[str, Any], by: Any) -> Draft:
    """Stores what was typed in a section, valid or not: nothing is ever lost."""
    section = BY_KEY[section_key]
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if not locked.is_editable:
        raise NotEditable(locked.status)
    draft = locked.draft
    before = draft.content.get(section.key)
    content = copy.deepcopy(draft.content)
    content[section.key] = raw
    draft.content = content
    draft.updated_by = by
    draft.save(update_fields=["content", "updated_by", "updated_at"])
    title = (content.get("identification") or {}).get("lay_title", "").strip()
    changes = ["updated_at"]
    if title and title != locked.title:
        locked.title = title[:TITLE_FALLBACK_LENGTH]
        changes.append("title")
    if section.key == "route":
        proposal = propose_route(raw)
        if proposal.requires_consent != locked.requires_consent:
            locked.requires_consent = proposal.requires_consent
            changes.append("requires_consent")
    locked.save(update_fields=changes)
    # The trail says which fields changed, not what was typed (it may be long or personal).
    changed = sorted(
        {*(before or {}).keys(), *raw.keys()}
        - {key for key in raw if (before or {}).get(key) == raw[key]}
    )
    record_event(
        action="project.section_saved",
        actor=by,
        target=locked,
        after={"section": section.key, "changed_fields": changed},
    )
    return draft


def _snapshot(project: Project) -> dict[str, Any]:
    """The frozen content of a version: the sections, the team and the attachment list."""
    content = copy.deepcopy(project.draft.content)
    content["_team"] = [
        {"user": m.user_id, "email": m.user.email, "name": m.user.full_name, "role": m.role}
        for m in project.memberships.select_related("user").order_by("role", "user__email")
    ]
    content["_attachments"] = [
        {"id": a.pk, "kind": a.kind, "name": a.original_name, "sha256": a.sha256}
        for a in project.attachments.filter(removed_at__isnull=True).order_by("kind", "pk")
    ]
    return content


def _notify_secretariat_of_submission(
    project: Project, version: ProtocolVersion, name: str
) -> None:
    """The data office hears of every submission; the team hears of it through the workflow."""
    User = get_user_model()
    secretariat = User.objects.filter(groups__name=Role.SECRETARIAT.value, is_active=True)
    subject = Message(
        gettext_lazy("%(ref)s — version %(n)s submitted"), ref=project.reference, n=version.number
    )
    if name == "submit":
        template = gettext_lazy(
            "The project “%(title)s” submitted its version %(n)s. It awaits your "
            "admissibility check."
        )
    elif name == "resubmit":
        template = gettext_lazy(
            "The project “%(title)s” submitted its revised version %(n)s, as the commission "
            "asked: it goes back to the commission's review."
        )
    else:
        template = gettext_lazy(
            "The project “%(title)s” submitted an amendment (version %(n)s): it goes back "
            "to the commission's review."
        )
    body = Message(template, title=project.title, n=version.number)
    url = reverse("project_detail", args=[project.pk])
    notify(secretariat, subject=subject, body=body, url=url)


def _submission_note(version: ProtocolVersion, by: Any) -> Message:
    return Message(
        gettext_lazy("Version %(n)s was submitted on %(when)s by %(who)s."),
        n=version.number,
        when=version.submitted_at,
        who=by.full_name,
    )


def submission_transition(project: Project) -> str:
    """Which transition a submission fires: first, revised, or amendment."""
    if project.status in AMENDABLE_STATUSES | {ProjectStatus.SUSPENDED} and (
        project.amendment_opened_at is not None or project.pending_amendment() is not None
    ):
        return "submit_amendment"
    if project.status == ProjectStatus.CHANGES_REQUESTED:
        return "resubmit"
    return "submit"


@transaction.atomic
def submit_project(*, project: Project, by: Any) -> ProtocolVersion:
    """Freezes the draft into a new immutable version and sends it on (GOV-12)."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    name = submission_transition(locked)
    reasons = workflow.reasons_against(locked, name, by)
    if reasons:
        raise workflow.TransitionRefused(reasons)
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ProtocolVersion.objects.create(
        project=locked,
        number=number,
        content=_snapshot(locked),
        submitted_at=timezone.now(),
        submitted_by=by,
        is_amendment=name == "submit_amendment",
    )
    version.attachments.set(locked.attachments.filter(removed_at__isnull=True))
    locked.draft.based_on = version
    locked.draft.save(update_fields=["based_on"])
    if name == "submit_amendment":
        # The project's status does not change: the amendment goes to the commission.
        workflow.fire_amendment(
            locked,
            name,
            by=by,
            version=version,
            details={"content_sha256": version.content_sha256},
            team_note=_submission_note(version, by),
        )
    else:
        workflow.fire(
            locked,
            name,
            by=by,
            details={"version": number, "content_sha256": version.content_sha256},
            team_note=_submission_note(version, by),
        )
    if name != "submit":
        # Reviews are per version: the rapporteurs in place review the new one.
        from projects.review.actions import reopen_assignments

        reopen_assignments(project=locked, version=version, by=by)
    _notify_secretariat_of_submission(locked, version, name)
    return version


@transaction.atomic
def withdraw_project(*, project: Project, by: Any, reason: str) -> Project:
    if not reason.strip():
        raise workflow.TransitionRefused([_("Give the reason for the withdrawal.")])
    return workflow.fire(
        project,
        "withdraw",
        by=by,
        reason=reason.strip(),
        details={"reason_length": len(reason.strip())},
    )


def _admissibility_note(check) -> Message:
    """What the team reads in the status message: the secretariat's list when it is returned."""
    if check.decision == "accepted":
        return Message(gettext_lazy("The secretariat found your file complete."))
    return Message(
        gettext_lazy(
            "The secretariat returned your file as incomplete. Missing items:\n\n%(items)s\n\n"
            "Complete the draft and submit it again."
        ),
        items=check.missing_items,
    )


@transaction.atomic
def check_admissibility(*, project: Project, by: Any, accept: bool, missing_items: str = ""):
    """The secretariat accepts a submitted version for review or returns it as incomplete."""
    from projects.models import AdmissibilityCheck

    missing_items = missing_items.strip()
    if not accept and not missing_items:
        raise workflow.TransitionRefused([_("List the missing items for the team.")])
    locked = Project.objects.select_for_update().get(pk=project.pk)
    version = locked.versions.order_by("-number").first()
    name = "accept_for_review" if accept else "return_incomplete"
    reasons = workflow.reasons_against(locked, name, by)
    if reasons or version is None:
        raise workflow.TransitionRefused(reasons or [_("Nothing was submitted.")])
    check = AdmissibilityCheck.objects.create(
        project=locked,
        version=version,
        decision="accepted" if accept else "returned",
        missing_items=missing_items,
        decided_by=by,
    )
    workflow.fire(
        locked,
        name,
        by=by,
        details={"version": version.number, "check": check.pk},
        team_note=_admissibility_note(check),
    )
    return check


@transaction.atomic
def declare_interest(*, project: Project, by: Any, has_interest: bool, description: str = ""):
    """A commission member's declaration for one project; a new one replaces the old (GOV-10).

    The trail keeps every declaration made; the description stays on the declaration. A
    declared interest is not undone by declaring "no interest": that is a request to the
    secretariat (``projects/interest_actions.py``), and while one awaits its answer the
    declaration does not change.
    """
    from projects.conflicts import REVIEW_STATUSES
    from projects.models import ConflictDeclaration, InterestWithdrawal, WithdrawalStatus

    description = description.strip()
    if has_interest and not description:
        raise workflow.TransitionRefused([_("Describe the interest.")])
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if locked.status not in REVIEW_STATUSES:
        raise workflow.TransitionRefused([_("This project is not in the commission's hands.")])
    previous = ConflictDeclaration.objects.filter(project=locked, member=by).first()
    if previous is not None and previous.has_interest and not has_interest:
        raise workflow.TransitionRefused(
            [
                _(
                    "You declared an interest in this project: to withdraw it, ask the "
                    "secretariat, who accepts or refuses; until then the conflict stands."
                )
            ]
        )
    if InterestWithdrawal.objects.filter(
        project=locked, member=by, status=WithdrawalStatus.PENDING
    ).exists():
        raise workflow.TransitionRefused(
            [_("Your request to withdraw this interest already awaits the secretariat.")]
        )
    declaration, created = ConflictDeclaration.objects.update_or_create(
        project=locked,
        member=by,
        defaults={
            "has_interest": has_interest,
            "description": description if has_interest else "",
            "declared_at": timezone.now(),
        },
    )
    record_event(
        action="project.interest_declared",
        actor=by,
        target=locked,
        after={"has_interest": has_interest, "first": created},
    )
    return declaration


@transaction.atomic
def change_lifecycle(*, project: Project, name: str, by: Any, reason: str) -> Project:
    """Suspends, resumes or closes a project receiving data (the secretariat, the DPO).

    A suspension stops every download at once (``access.provisioning.serving``); resuming
    restores them; closing destroys the datasets (``access`` reacts after the commit).
    """
    if name not in workflow.MANUAL_LIFECYCLE:
        raise workflow.TransitionRefused([_("This change is not made from this page.")])
    return workflow.fire(project, name, by=by, reason=reason.strip())
