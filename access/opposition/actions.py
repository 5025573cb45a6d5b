"""Writes of the opposition register: intake, identity matching, deadlines, answers, withdrawal.

Keyword-only functions with an explicit actor (``by=``; None for the public form and the
periodic tasks), one transaction each (the portal's database and the vault together), each
writing its audit event. The request row is locked (``select_for_update``) wherever its state
is checked. Identities go to the vault through ``warehouse.vault`` and nowhere else.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from access.models import (
    TO_MATCH_STATUSES,
    Answer,
    Channel,
    EntryEffect,
    Kind,
    ObjectionOverride,
    OppositionRequest,
    Outcome,
    PublicAttempt,
    RequestStatus,
    Scope,
    new_receipt_number,
)
from access.opposition import register
from eds_portal.addresses import address_hashes
from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from eds_portal.mail import queue_mail
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from warehouse import vault

LETTER_VERSION = "2026-1"
# The kinds of e-mail this register sends (eds_portal.mail; composers in access.opposition.mail).
RECEIPT_MAIL = "opposition.receipt"
ANSWER_MAIL = "opposition.answer"


class RefusedAction(Refused):
    """The request's state does not allow this step; ``str()`` is a message for the user."""


def birth_date_check(receipt_number: str, birth_date: date) -> str:
    return salted_hmac(
        "access.opposition.status", f"{receipt_number}|{birth_date.isoformat()}"
    ).hexdigest()


def source_hashes(address: str | None) -> list[str]:
    """The connection's address under the period's rotating key (LOG-04): floods are counted
    within a period; once the period's key is deleted, nobody can tell whose address it was.

    This period's hash first, then the previous period's while its key is kept: an hour's
    flood window that straddles the change of key still counts every attempt."""
    return address_hashes(address or "unknown")


def _users_with(role: Role):
    return get_user_model().objects.filter(groups__name=role.value, is_active=True).distinct()


def _locked(request: OppositionRequest) -> OppositionRequest:
    return OppositionRequest.objects.select_for_update().get(pk=request.pk)


def _detail_url(request: OppositionRequest) -> str:
    return reverse("opposition_detail", args=[request.receipt_number])


# --- Intake ------------------------------------------------------------------------------------

IDENTITY_KEYS = vault.OPPOSITION_FIELDS


@dataclass(frozen=True)
class Intake:
    """What a form gives an intake action (cleaned data)."""

    requester_role: str
    scope: str
    projects: list[Any]
    reply_by_email: bool
    identity: dict[str, Any]
    capacity_proof: str = ""
    capacity_proof_received_on: date | None = None


def _create_request(
    *,
    by: Any,
    intake: Intake,
    channel: str,
    received_at: datetime,
    receiving_association: int | None,
    origin: str,
    kind: str = Kind.OBJECTION,
    withdraws: OppositionRequest | None = None,
) -> OppositionRequest:
    birth_date = intake.identity["birth_date"]
    for _attempt in range(5):
        receipt = new_receipt_number(timezone.localdate(received_at).year)
        try:
            with transaction.atomic():
                request = OppositionRequest(
                    receipt_number=receipt,
                    kind=kind,
                    withdraws=withdraws,
                    received_at=received_at,
                    channel=channel,
                    receiving_association=receiving_association,
                    received_by=by,
                    requester_role=intake.requester_role,
                    capacity_proof=intake.capacity_proof,
                    capacity_proof_received_on=intake.capacity_proof_received_on,
                    scope=intake.scope,
                    reply_by_email=intake.reply_by_email,
                    birth_date_check=birth_date_check(receipt, birth_date),
                    source_hash=origin,
                    due_on=received_at.date(),  # replaced just below
                )
                request.due_on = request.computed_due_on()
                request.save()
            break
        except IntegrityError:
            continue  # the same receipt number drawn twice: draw again
    else:  # pragma: no cover - 887 million values a year
        raise RuntimeError("could not draw a free receipt number")
    if intake.scope == Scope.PROJECTS:
        request.projects.set(intake.projects)
    vault.store_opposition_identity(
        receipt_number=request.receipt_number, fields=intake.identity, by=by
    )
    record_event(
        action=f"opposition.{kind}_received",
        actor=by,
        target=request,
        after={
            "receipt": request.receipt_number,
            "channel": channel,
            "requester_role": intake.requester_role,
            "scope": intake.scope,
            "projects": sorted(p.reference for p in intake.projects),
            "due_on": request.due_on,
        },
    )
    notify(
        _users_with(Role.IDENTITY_OFFICER),
        subject=gettext_lazy("New opposition request to match"),
        body=gettext_lazy(
            "An opposition request was received; its identity is waiting to be checked."
        ),
        url=_detail_url(request),
    )
    contact_email = intake.identity.get("contact_email") or ""
    if intake.reply_by_email and contact_email and kind == Kind.OBJECTION:
        # Written and sent by a task after the commit, the address read from the vault then
        # (access.opposition.mail): a refusing mail server never loses the receipt page.
        queue_mail(
            kind=RECEIPT_MAIL,
            reference=request.receipt_number,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
    return request


def receipt_mail_text(request: OppositionRequest) -> tuple[str, str]:
    """Subject and body of the receipt e-mail, in the active language."""
    receipt, due_on = request.receipt_number, request.due_on
    # The status page with the receipt number filled in (the birth date is still asked).
    status_url = (
        settings.EDS_PUBLIC_URL
        + reverse("opposition_status")
        + "?"
        + urlencode({"receipt": receipt})
    )
    subject = _("[%(portal)s] Your opposition request %(receipt)s") % {
        "portal": settings.EDS_PORTAL_NAME,
        "receipt": receipt,
    }
    body = _(
        "We have received your objection to the reuse of your data. Keep this "
        "receipt number: %(receipt)s.\n\nWe will answer at the latest on "
        "%(due_on)s. You can follow your request at %(url)s with this number and "
        "the birth date of the person concerned.\n\nObjecting is free and has no "
        "consequence on your care."
    ) % {
        "receipt": receipt,
        "due_on": formats.date_format(due_on, "DATE_FORMAT"),
        "url": status_url,
    }
    return subject, body


@transaction.atomic
def submit_online_request(*, intake: Intake, origin: str) -> OppositionRequest:
    """The public form (OPP-01, OPP-02): no account, no staff member."""
    with transaction.atomic(using="vault"):
        request = _create_request(
            by=None,
            intake=intake,
            channel=Channel.ONLINE,
            received_at=timezone.now(),
            receiving_association=None,
            origin=origin,
        )
    PublicAttempt.objects.create(purpose=PublicAttempt.Purpose.SUBMISSION, source_hash=origin)
    return request


@transaction.atomic
def record_staff_request(
    *,
    by: Any,
    intake: Intake,
    channel: str,
    received_at: datetime,
    receiving_association: int | None = None,
) -> OppositionRequest:
    """A request received by post, e-mail, phone or at an association (OPP-02).

    The receiving staff member is recorded; the due date counts from the day it was received.
    """
    if channel == Channel.ONLINE:
        raise RefusedAction(_("The online channel is for the public form only."))
    with transaction.atomic(using="vault"):
        return _create_request(
            by=by,
            intake=intake,
            channel=channel,
            received_at=received_at,
            receiving_association=receiving_association,
            origin="",
        )


@transaction.atomic
def record_withdrawal(
    *, by: Any, objection: OppositionRequest, channel: str, received_at: datetime
) -> OppositionRequest:
    """The person withdraws an objection (OPP-13): a new entry, never an overwrite.

    If the objection was in the register, a withdrawal entry with the next number ends it.
    """
    objection = _locked(objection)
    if objection.kind != Kind.OBJECTION:
        raise RefusedAction(_("Only an objection can be withdrawn."))
    if objection.status in {RequestStatus.WITHDRAWN, RequestStatus.REFUSED}:
        raise RefusedAction(_("This objection is no longer in force."))
    now = timezone.now()
    withdrawal = OppositionRequest.objects.create(
        receipt_number=_free_receipt(),
        kind=Kind.WITHDRAWAL,
        withdraws=objection,
        received_at=received_at,
        channel=channel,
        received_by=by,
        requester_role=objection.requester_role,
        scope=objection.scope,
        reply_by_email=objection.reply_by_email,
        birth_date_check=objection.birth_date_check,
        status=RequestStatus.DONE,
        due_on=received_at.date(),
        effective_at=now,
        closed_at=now,
    )
    withdrawal.due_on = withdrawal.computed_due_on()
    withdrawal.save(update_fields=["due_on"])
    withdrawal.projects.set(objection.projects.all())
    ended = []
    for entry in objection.register_entries.filter(
        effect=EntryEffect.OBJECT, ended_by__isnull=True
    ):
        ended.append(
            register.append_entry(
                by=by,
                request=withdrawal,
                effect=EntryEffect.WITHDRAW,
                person_key=entry.person_key,
                scope=entry.scope,
                project_references=entry.project_references,
                ends=entry,
            ).number
        )
    # Counted again in feasibility counts, unless another warehouse-wide objection stays.
    from access.opposition.objection_flags import unflag_on_commit

    unflag_on_commit(list(objection.register_entries.filter(effect=EntryEffect.OBJECT)))
    objection.status = RequestStatus.WITHDRAWN
    objection.closed_at = now
    objection.suspended_since = None
    objection.save(update_fields=["status", "closed_at", "suspended_since"])
    record_event(
        action="opposition.withdrawn",
        actor=by,
        target=withdrawal,
        after={
            "receipt": withdrawal.receipt_number,
            "withdraws": objection.receipt_number,
            "channel": channel,
            "register_numbers": ended,
        },
    )
    return withdrawal


def _free_receipt() -> str:
    for _attempt in range(5):
        receipt = new_receipt_number()
        if not OppositionRequest.objects.filter(receipt_number=receipt).exists():
            return receipt
    raise RuntimeError("could not draw a free receipt number")  # pragma: no cover


# --- Identity matching (OPP-05, OPP-08, OPP-09, RET-05) ------------------------------------------


def _end_suspension(request: OppositionRequest, now: datetime) -> None:
    if request.suspended_since is not None:
        request.suspended_days += (
            timezone.localdate(now) - timezone.localdate(request.suspended_since)
        ).days
        request.suspended_since = None
        request.due_on = request.computed_due_on()


def _delete_id_copy(request: OppositionRequest, *, by: Any, now: datetime) -> None:
    """RET-05: the copy goes as soon as identity is established; the deletion is recorded."""
    if request.id_copy_received_at is None or request.id_copy_deleted_at is not None:
        return
    stored = vault.set_opposition_id_copy(
        by=by, receipt_number=request.receipt_number, stored_name=""
    )
    if stored:
        transaction.on_commit(lambda: default_storage.delete(stored))
    request.id_copy_deleted_at = now
    record_event(
        action="opposition.id_copy_deleted",
        actor=by,
        target=request,
        after={"receipt": request.receipt_number},
    )


def _take_effect(request: OppositionRequest, *, by: Any, person_key: str, now: datetime) -> int:
    entry = register.append_entry(
        by=by,
        request=request,
        effect=EntryEffect.OBJECT,
        person_key=person_key,
        scope=request.scope,
        project_references=[p.reference for p in request.projects.all()],
    )
    request.status = RequestStatus.APPLIED
    request.effective_at = now
    request.candidates_waiting = False
    # OPP-11: datasets already delivered that contain the person (after commit, by a worker).
    from access.provisioning.propagation import propagate_on_commit

    propagate_on_commit(entry)
    # Feasibility counts stop counting a warehouse-wide objector (warehouse flag, after commit).
    from access.opposition.objection_flags import flag_on_commit

    flag_on_commit(entry)
    return entry.number


@transaction.atomic
def confirm_match(
    *, by: Any, request: OppositionRequest, person_key: str, method: str
) -> OppositionRequest:
    """The identity officer names the warehouse person (OPP-08): the objection takes effect."""
    request = _locked(request)
    if request.kind != Kind.OBJECTION or request.status not in {
        RequestStatus.RECEIVED,
        RequestStatus.ID_REQUESTED,
        RequestStatus.NOT_MATCHED,
    }:
        raise RefusedAction(_("This request is not waiting for identity matching."))
    now = timezone.now()
    with transaction.atomic(using="vault"):
        vault.confirm_opposition_match(
            by=by, receipt_number=request.receipt_number, person_key_value=person_key
        )
        _delete_id_copy(request, by=by, now=now)
    _end_suspension(request, now)
    number = _take_effect(request, by=by, person_key=person_key, now=now)
    request.matched_at, request.matched_by, request.match_method = now, by, method[:200]
    request.save()
    record_event(
        action="opposition.matched",
        actor=by,
        target=request,
        after={"receipt": request.receipt_number, "register_number": number, "method": method},
    )
    notify(
        _users_with(Role.DPO),
        subject=gettext_lazy("An objection took effect: answer to send"),
        body=gettext_lazy("An objection was matched and is in the register; send the answer."),
        url=_detail_url(request),
    )
    return request


@transaction.atomic
def mark_not_matched(*, by: Any, request: OppositionRequest, method: str) -> OppositionRequest:
    """No warehouse person yet (OPP-09): the objection stays active and is matched again."""
    request = _locked(request)
    if request.kind != Kind.OBJECTION or request.status not in {
        RequestStatus.RECEIVED,
        RequestStatus.ID_REQUESTED,
    }:
        raise RefusedAction(_("This request is not waiting for identity matching."))
    now = timezone.now()
    with transaction.atomic(using="vault"):
        _delete_id_copy(request, by=by, now=now)
    _end_suspension(request, now)
    request.status = RequestStatus.NOT_MATCHED
    request.matched_by, request.matched_at = None, None
    request.match_method = method[:200]
    request.candidates_waiting = False
    request.last_rematch_at = now
    request.save()
    record_event(
        action="opposition.not_matched",
        actor=by,
        target=request,
        after={"receipt": request.receipt_number},
    )
    return request


@transaction.atomic
def request_id_copy(*, by: Any, request: OppositionRequest, reason: str) -> Answer:
    """Reasonable doubt (OPP-05): ask for an ID copy; the deadline is suspended meanwhile."""
    request = _locked(request)
    if request.kind != Kind.OBJECTION or request.status != RequestStatus.RECEIVED:
        raise RefusedAction(_("A copy can only be asked for a request waiting for matching."))
    if not reason.strip():
        raise RefusedAction(_("Say why there is a reasonable doubt."))
    now = timezone.now()
    request.status = RequestStatus.ID_REQUESTED
    request.doubt_reason = reason.strip()
    request.id_copy_requested_at = now
    request.suspended_since = now
    request.save()
    record_event(
        action="opposition.id_copy_requested",
        actor=by,
        target=request,
        after={"receipt": request.receipt_number, "suspended_since": now},
    )
    return _record_answer(
        request,
        by=by,
        outcome=Outcome.ID_COPY,
        reasons=reason.strip(),
        channel=Channel.EMAIL if request.reply_by_email else Channel.POST,
        now=now,
    )


ID_COPY_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\xff\xd8\xff": "jpg",
    b"\x89PNG\r\n\x1a\n": "png",
}


def id_copy_extension(head: bytes) -> str | None:
    for signature, extension in ID_COPY_SIGNATURES.items():
        if head.startswith(signature):
            return extension
    return None


@transaction.atomic
def receive_id_copy(*, by: Any, request: OppositionRequest, upload: Any) -> OppositionRequest:
    """The copy arrived: stored privately (name in the vault), the deadline runs again."""
    request = _locked(request)
    if request.status != RequestStatus.ID_REQUESTED:
        raise RefusedAction(_("No copy of an identity document was asked for this request."))
    upload.seek(0)
    extension = id_copy_extension(upload.read(16))
    upload.seek(0)
    if extension is None:
        raise RefusedAction(_("The copy must be a PDF, JPEG or PNG file."))
    name = default_storage.save(
        f"oppositions/id-copies/{secrets.token_hex(16)}.{extension}", upload
    )
    try:
        with transaction.atomic(using="vault"):
            vault.set_opposition_id_copy(
                by=by, receipt_number=request.receipt_number, stored_name=name
            )
        now = timezone.now()
        _end_suspension(request, now)
        request.status = RequestStatus.RECEIVED
        request.id_copy_received_at = now
        request.save()
        record_event(
            action="opposition.id_copy_received",
            actor=by,
            target=request,
            after={"receipt": request.receipt_number},
        )
    except Exception:
        default_storage.delete(name)
        raise
    return request


@dataclass(frozen=True)
class RematchSummary:
    checked: int
    matched: int
    with_candidates: int


def rematch_oppositions(*, by: Any = None) -> RematchSummary:
    """Matches again every objection without a warehouse person (OPP-09).

    A request whose own key now exists in the warehouse takes effect at once (the same key the
    loaders compute: no judgement is needed); one with only partial candidates is flagged for
    the identity officer, who is told.
    """
    pending = list(
        OppositionRequest.objects.filter(
            kind=Kind.OBJECTION, status=RequestStatus.NOT_MATCHED
        ).values_list("receipt_number", flat=True)
    )
    if not pending:
        return RematchSummary(0, 0, 0)
    with transaction.atomic(), transaction.atomic(using="vault"):
        results = vault.rematch_oppositions(pending)
        matched = flagged = 0
        now = timezone.now()
        for result in results:
            request = (
                OppositionRequest.objects.select_for_update()
                .filter(receipt_number=result.receipt_number, status=RequestStatus.NOT_MATCHED)
                .first()
            )
            if request is None:
                continue
            request.last_rematch_at = now
            if result.exact_key:
                number = _take_effect(request, by=by, person_key=result.exact_key, now=now)
                request.matched_at = now
                request.match_method = "automatic re-matching (same person key)"
                matched += 1
                record_event(
                    action="opposition.matched",
                    actor=by,
                    target=request,
                    after={
                        "receipt": request.receipt_number,
                        "register_number": number,
                        "method": "rematch",
                    },
                )
            elif result.candidates and not request.candidates_waiting:
                request.candidates_waiting = True
                flagged += 1
            request.save()
        if matched or flagged:
            notify(
                _users_with(Role.IDENTITY_OFFICER) | _users_with(Role.DPO),
                subject=gettext_lazy("Objections matched again"),
                body=gettext_lazy(
                    "New warehouse data was compared with the objections not matched yet: "
                    "some took effect or have candidates to review."
                ),
                url=reverse("opposition_list") + "?show=to_match",
            )
    return RematchSummary(len(results), matched, flagged)


# --- Deadlines (OPP-04) ------------------------------------------------------------------------


@transaction.atomic
def extend_deadline(
    *, by: Any, request: OppositionRequest, months: int, reason: str, channel: str
) -> Answer:
    """Up to two more months, with a reason told to the requester within the first month."""
    request = _locked(request)
    if not request.is_open and request.status != RequestStatus.APPLIED:
        raise RefusedAction(_("This request is closed."))
    if request.extension_months:
        raise RefusedAction(_("The deadline of this request was already extended."))
    if months not in (1, 2):
        raise RefusedAction(_("An extension is of one or two months."))
    if not reason.strip():
        raise RefusedAction(_("Give the reason for the extension; it is sent to the requester."))
    first_month_ends = request.base_due_on + timedelta(days=request.suspended_days)
    if timezone.localdate() > first_month_ends:
        raise RefusedAction(
            _("An extension must be notified within the first month (until %(day)s).")
            % {"day": formats.date_format(first_month_ends, "DATE_FORMAT")}
        )
    now = timezone.now()
    before = request.due_on
    request.extension_months = months
    request.extension_reason = reason.strip()
    request.extended_at = now
    request.due_on = request.computed_due_on()
    request.save()
    record_event(
        action="opposition.deadline_extended",
        actor=by,
        target=request,
        before={"due_on": before},
        after={"due_on": request.due_on, "months": months},
    )
    return _record_answer(
        request, by=by, outcome=Outcome.EXTENSION, reasons=reason.strip(), channel=channel, now=now
    )


def send_deadline_reminders(*, today: date | None = None) -> int:
    """Tells the DPO, once a day, which requests are due soon or overdue (OPP-04)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=settings.EDS_OPPOSITION_REMINDER_DAYS)
    with transaction.atomic():
        due = list(
            OppositionRequest.objects.select_for_update()
            .filter(due_on__lte=horizon)
            .exclude(Exists(Answer.objects.filter(request=OuterRef("pk"))))
            .exclude(status__in=[RequestStatus.WITHDRAWN, RequestStatus.DONE])
            .exclude(last_reminder_on=today)
        )
        if not due:
            return 0
        overdue = sum(1 for r in due if r.due_on < today)
        OppositionRequest.objects.filter(pk__in=[r.pk for r in due]).update(last_reminder_on=today)
        notify(
            _users_with(Role.DPO),
            subject=gettext_lazy("Opposition requests due soon or overdue"),
            body=Message(
                ngettext_lazy(
                    "%(count)s opposition request without an answer is due within %(days)s "
                    "days, %(overdue)s of them overdue.",
                    "%(count)s opposition requests without an answer are due within %(days)s "
                    "days, %(overdue)s of them overdue.",
                    "count",
                ),
                count=len(due),
                days=settings.EDS_OPPOSITION_REMINDER_DAYS,
                overdue=overdue,
            ),
            url=reverse("opposition_deadlines"),
        )
        record_event(
            action="opposition.deadline_reminder",
            target_type="access.oppositionrequest",
            after={"due": len(due), "overdue": overdue},
        )
    return len(due)


# --- Answers (OPP-12) --------------------------------------------------------------------------

ANSWER_OUTCOMES_BY_STATUS = {
    RequestStatus.APPLIED: {Outcome.APPLIED, Outcome.PARTIAL},
    RequestStatus.NOT_MATCHED: {Outcome.APPLIED, Outcome.REFUSED},
    RequestStatus.RECEIVED: {Outcome.REFUSED},
    RequestStatus.ID_REQUESTED: {Outcome.REFUSED},
    RequestStatus.DONE: {Outcome.APPLIED},
}


def _record_answer(
    request: OppositionRequest, *, by: Any, outcome: str, reasons: str, channel: str, now: datetime
) -> Answer:
    answer = Answer.objects.create(
        request=request,
        outcome=outcome,
        reasons=reasons,
        channel=channel,
        sent_at=now,
        sent_by=by,
        template_version=LETTER_VERSION,
    )
    record_event(
        action="opposition.answer_sent",
        actor=by,
        target=answer,
        after={"receipt": request.receipt_number, "outcome": outcome, "channel": channel},
    )
    if channel == Channel.EMAIL:
        # Written and sent by a task after the commit (access.opposition.mail); one the server
        # refuses is listed for the DPO, who may send it again or post it.
        queue_mail(kind=ANSWER_MAIL, reference=str(answer.pk), language=settings.LANGUAGE_CODE)
    return answer


@transaction.atomic
def send_answer(
    *, by: Any, request: OppositionRequest, outcome: str, reasons: str, channel: str
) -> Answer:
    """The answer to the requester (OPP-12): what was done, or the reasons of a refusal."""
    request = _locked(request)
    allowed = ANSWER_OUTCOMES_BY_STATUS.get(request.status, set())
    if outcome not in allowed:
        raise RefusedAction(_("This answer does not fit the request's present state."))
    if outcome in {Outcome.REFUSED, Outcome.PARTIAL} and not reasons.strip():
        raise RefusedAction(_("A refusal or a partial answer states its reasons."))
    if channel not in {Channel.EMAIL, Channel.POST}:
        raise RefusedAction(_("Answers are sent by e-mail or by post."))
    now = timezone.now()
    if outcome == Outcome.REFUSED:
        request.status = RequestStatus.REFUSED
        request.suspended_since = None
        request.closed_at = now
        request.save(update_fields=["status", "suspended_since", "closed_at"])
    return _record_answer(
        request, by=by, outcome=outcome, reasons=reasons.strip(), channel=channel, now=now
    )


# --- Overrides of the pending-objection gate (OPP-09, OPP-10) -----------------------------------


@transaction.atomic
def record_objection_override(
    *, by: Any, request: OppositionRequest, project: Any, reason: str
) -> ObjectionOverride:
    """The DPO lets ``project`` be provisioned although ``request`` is not matched yet.

    Only the DPO; only for an objection still waiting for identity matching or an ID copy that
    may cover the project; once per request and project; with a written reason, kept as it was
    written. The audit event names the receipt and the project's reference, never anyone.
    """
    from access.formalities.gates import ON_THE_WAY, PROVISIONABLE

    if not has_permission(by, Permission.MANAGE_OPPOSITIONS):
        raise PermissionDenied
    request = _locked(request)
    if request.kind != Kind.OBJECTION or request.status not in TO_MATCH_STATUSES:
        raise RefusedAction(
            _("Only an objection waiting for identity matching or an ID copy holds up a project.")
        )
    if project.status not in PROVISIONABLE | ON_THE_WAY:
        raise RefusedAction(_("This project is not on its way to provisioning."))
    if request.scope == Scope.PROJECTS and not request.projects.filter(pk=project.pk).exists():
        raise RefusedAction(_("This objection does not name this project."))
    reason = reason.strip()
    if not reason:
        raise RefusedAction(_("Give the reason for the override; it is kept with the decision."))
    if ObjectionOverride.objects.filter(request=request, project=project).exists():
        raise RefusedAction(_("An override is already recorded for this request and project."))
    override = ObjectionOverride.objects.create(
        request=request, project=project, reason=reason, by=by, at=timezone.now()
    )
    record_event(
        action="opposition.override_recorded",
        actor=by,
        target=override,
        after={"receipt": request.receipt_number, "project": project.reference},
    )
    return override
