"""The opposition register (OPP-01 to OPP-15, "Fields" B of regulatory.md).

What lives here, in the portal's database, carries no identity: a request is known by its
receipt number, its channel, its requester's role, its scope, its deadlines and its outcome.
Who the person is (names, birth date and place, sex, the requester's name and contact, the
comment, the ID copy's file name and the matched internal key) lives in the identity vault
(``warehouse.models.OppositionIdentity``), reached only through ``warehouse.vault``.

Two layers:
- ``OppositionRequest``: the file the staff works on (status, due date, answer). Its row is
  updated as the file moves on, every step audited.
- ``RegisterEntry``: the register itself (OPP-10, OPP-14), append-only: one numbered row per
  objection that takes effect or is withdrawn. The numbers are the snapshot numbers that
  provisioning reads (``access.opposition.register``). The rows hold the internal person key:
  no page a researcher, a reviewer, the data steward or the auditor can reach ever shows them,
  and every read goes through ``access.opposition.register`` which audits it.
"""

from __future__ import annotations

import calendar
import secrets
import string
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

RECEIPT_ALPHABET = "".join(c for c in string.ascii_uppercase if c not in "IOU") + "23456789"


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, or the month's last day (31 January + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def new_receipt_number(year: int | None = None) -> str:
    """``OPP-2026-K7QX4M``: 31^6 ≈ 887 million values a year, drawn by ``secrets``."""
    year = year or timezone.now().year
    return f"OPP-{year}-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(6))


class Channel(models.TextChoices):
    ONLINE = "online", _("Online form")
    """The public form, without an account; nobody on the staff received it."""
    POST = "post", _("Post")
    """A letter or the printed form, typed in by the staff member who opened it."""
    EMAIL = "email", _("E-mail")
    """An e-mail to the DPO or an association, typed in by the staff member who read it."""
    IN_PERSON = "in_person", _("In person at an association")
    """Handed in at an association; the association is recorded."""
    PHONE = "phone", _("Phone (transcribed by staff)")
    """A call, transcribed by the staff member who took it."""


class RequesterRole(models.TextChoices):
    SELF = "self", _("The person concerned")
    """The data subject objects for themselves (a minor of 15 or more may act alone)."""
    PARENT = "parent", _("Holder of parental authority")
    """For a minor (OPP-06)."""
    GUARDIAN = "guardian", _("Legal guardian")
    """For a protected adult (OPP-06)."""
    MANDATED = "mandated", _("Mandated person")
    """Acts under a mandate (OPP-06)."""
    RELATIVE_DECEASED = (
        "relative_deceased",
        _("Relative reporting a deceased person's written refusal"),
    )
    """A refusal the deceased expressed in writing while alive (OPP-07)."""


REPRESENTATIVE_ROLES = frozenset(
    {RequesterRole.PARENT, RequesterRole.GUARDIAN, RequesterRole.MANDATED}
)


class Kind(models.TextChoices):
    OBJECTION = "objection", _("Objection")
    """The person objects to the reuse of their data."""
    WITHDRAWAL = "withdrawal", _("Withdrawal of an objection")
    """A new entry that ends an earlier objection (OPP-13); never an overwrite."""


class Scope(models.TextChoices):
    ALL = "all", _("All reuse of the warehouse's data")
    """Warehouse-wide (OPP-03)."""
    PROJECTS = "projects", _("Chosen projects only")
    """Only the listed projects (OPP-03)."""


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received, identity being checked")
    """Waiting for the identity officer."""
    ID_REQUESTED = "id_requested", _("Waiting for a copy of an identity document")
    """Reasonable doubt (OPP-05): the deadline is suspended until the copy arrives."""
    NOT_MATCHED = "not_matched", _("Recorded, no data found yet")
    """No warehouse person yet: the objection stays active and is matched again when new data
    arrives (OPP-09)."""
    APPLIED = "applied", _("Applied")
    """Matched: the objection is in the register and every new extraction excludes the person."""
    REFUSED = "refused", _("Refused")
    """Refused with reasons and the right to complain to the CNIL (OPP-12)."""
    # A request ("demande"): French agrees it in the feminine, unlike a withdrawn project.
    WITHDRAWN = "withdrawn", pgettext_lazy("opposition request status", "Withdrawn")
    """Ended by a later withdrawal (OPP-13)."""
    DONE = "done", _("Done")
    """A withdrawal that was carried out."""


OPEN_STATUSES = frozenset(
    {RequestStatus.RECEIVED, RequestStatus.ID_REQUESTED, RequestStatus.NOT_MATCHED}
)
# Waiting for the identity officer: the not-matched ones are re-matched by the periodic task.
TO_MATCH_STATUSES = frozenset({RequestStatus.RECEIVED, RequestStatus.ID_REQUESTED})


class Outcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    """Everything asked was done."""
    PARTIAL = "partial", _("Partially applied")
    """Part of the request was done; the letter says which and why not the rest."""
    REFUSED = "refused", _("Refused")
    """Nothing was done; the letter gives the reasons and the right to complain to the CNIL."""
    EXTENSION = "extension", _("Extension of the deadline")
    """The answer will come later, within two more months; the letter gives the reason."""
    ID_COPY = "id_copy", _("Request for a copy of an identity document")
    """Reasonable doubt on the identity: the deadline is suspended until the copy arrives."""


class OppositionRequest(models.Model):
    """One request (Fields B 1, 2, 4, 5, 6, 7, 8), without the identity."""

    receipt_number = models.CharField(_("receipt number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    # A withdrawal names the objection it ends.
    withdraws = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawals",
        verbose_name=_("withdraws"),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    # The association where it was handed in (warehouse reference data: care_site_id).
    receiving_association = models.IntegerField(_("receiving association"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    requester_role = models.CharField(
        _("requester role"), max_length=20, choices=RequesterRole.choices
    )
    # Representatives' proof of capacity (OPP-06): what it was and when it came; no copy kept.
    capacity_proof = models.CharField(_("proof of capacity"), max_length=200, blank=True)
    capacity_proof_received_on = models.DateField(
        _("proof of capacity received on"), null=True, blank=True
    )
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    projects = models.ManyToManyField(
        "projects.Project", blank=True, related_name="+", verbose_name=_("projects")
    )
    reply_by_email = models.BooleanField(_("answer by e-mail"), default=True)
    status = models.CharField(
        _("status"),
        max_length=15,
        choices=RequestStatus.choices,
        default=RequestStatus.RECEIVED,
        db_index=True,
    )
    # Salted HMAC of the receipt number and the birth date: the status page checks the pair
    # without opening the vault.
    birth_date_check = models.CharField(max_length=64)
    # Deadlines (OPP-04, Fields B 6): due on = receipt + 1 month + suspended days + extension.
    due_on = models.DateField(_("due on"), db_index=True)
    extension_months = models.PositiveSmallIntegerField(_("extension (months)"), default=0)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    suspended_since = models.DateTimeField(_("deadline suspended since"), null=True, blank=True)
    suspended_days = models.PositiveIntegerField(_("days of suspension"), default=0)
    last_reminder_on = models.DateField(null=True, blank=True)
    # Identity check (OPP-05, Fields B 5, RET-05).
    doubt_reason = models.TextField(_("reason for doubt"), blank=True)
    id_copy_requested_at = models.DateTimeField(_("ID copy requested at"), null=True, blank=True)
    id_copy_received_at = models.DateTimeField(_("ID copy received at"), null=True, blank=True)
    id_copy_deleted_at = models.DateTimeField(_("ID copy deleted at"), null=True, blank=True)
    match_method = models.CharField(_("identity check method"), max_length=200, blank=True)
    # Matching (Fields B 7): the key itself stays in the vault and in the register.
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("matched by"),
    )
    last_rematch_at = models.DateTimeField(_("last matched again at"), null=True, blank=True)
    candidates_waiting = models.BooleanField(_("new candidates to review"), default=False)
    effective_at = models.DateTimeField(_("effective at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Where the public submission came from, as a hash under the period's rotating key
    # (eds_portal.addresses): the flood limit counts it; it leads to nobody once the key is gone.
    source_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("opposition request")
        verbose_name_plural = _("opposition requests")
        ordering = ["due_on", "received_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=Kind.WITHDRAWAL, withdraws__isnull=False)
                | Q(kind=Kind.OBJECTION, withdraws__isnull=True),
                name="opposition_withdrawal_names_objection",
            ),
            # Only the online form arrives without a staff member (OPP-02).
            models.CheckConstraint(
                condition=Q(channel=Channel.ONLINE) | Q(received_by__isnull=False),
                name="opposition_staff_channel_has_receiver",
            ),
            models.CheckConstraint(
                condition=~Q(channel=Channel.IN_PERSON) | Q(receiving_association__isnull=False),
                name="opposition_in_person_has_association",
            ),
            models.CheckConstraint(
                condition=Q(extension_months__lte=2), name="opposition_extension_at_most_two"
            ),
            models.CheckConstraint(
                condition=Q(matched_at__isnull=True, matched_by__isnull=True)
                | Q(matched_at__isnull=False),
                name="opposition_matched_by_needs_matched_at",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt_number

    @property
    def base_due_on(self):
        return add_months(timezone.localdate(self.received_at), 1)

    def computed_due_on(self) -> date:
        return add_months(self.base_due_on, self.extension_months) + timedelta(
            days=self.suspended_days
        )

    @property
    def is_suspended(self) -> bool:
        return self.suspended_since is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Answer(models.Model):
    """A letter to the requester (OPP-12, Fields B 8): recorded when it is sent."""

    request = models.ForeignKey(OppositionRequest, on_delete=models.PROTECT, related_name="answers")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reasons = models.TextField(_("reasons"), blank=True)
    channel = models.CharField(_("sent by"), max_length=12, choices=Channel.choices)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    template_version = models.CharField(_("letter version"), max_length=20)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["sent_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=[Channel.POST, Channel.EMAIL]),
                name="answer_sent_by_post_or_email",
            ),
            models.CheckConstraint(
                condition=~Q(outcome__in=["refused", "partial", "extension", "id_copy"])
                | ~Q(reasons=""),
                name="answer_refusal_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} {self.outcome} {self.sent_at:%Y-%m-%d}"


class EntryEffect(models.TextChoices):
    OBJECT = "object", _("Objection takes effect")
    """From this number on, the person is excluded (from everything or the listed projects)."""
    WITHDRAW = "withdraw", _("Objection withdrawn")
    """From this number on, the objection it names no longer applies."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("the opposition register is append-only")

    def delete(self):
        raise PermissionError("the opposition register is append-only")


class RegisterEntry(models.Model):
    """One step of the register; ``number`` is the snapshot number it creates (OPP-10, OPP-14).

    PostgreSQL refuses UPDATE and DELETE on this table (migration 0002); the model and queryset
    guards do the same on SQLite.
    """

    number = models.PositiveBigIntegerField(_("number"), unique=True)
    effect = models.CharField(_("effect"), max_length=10, choices=EntryEffect.choices)
    request = models.ForeignKey(
        OppositionRequest, on_delete=models.PROTECT, related_name="register_entries"
    )
    # For a withdrawal: the entry it ends.
    ends = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="ended_by"
    )
    person_key = models.CharField(max_length=64, db_index=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    # Project references at the time (projects are never deleted; references never change).
    project_references = models.JSONField(_("projects"), default=list, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # None: the periodic re-matching (OPP-09).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effect="object", ends__isnull=True)
                | Q(effect="withdraw", ends__isnull=False),
                name="register_withdraw_names_entry",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.effect}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("the opposition register is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("the opposition register is append-only")


class RegisterCounter(models.Model):
    """One row, locked by every register write, so numbers are committed in order."""

    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="register_counter_single")]

    def __str__(self) -> str:
        return f"register #{self.last_number}"


class PublicAttempt(models.Model):
    """Public submissions and status look-ups, counted per source hash (flood limits).

    The hash is the connection's address under the period's rotating key (LOG-04).
    """

    class Purpose(models.TextChoices):
        SUBMISSION = "submission", "submission"
        """A request sent with the online form."""
        STATUS_FAILURE = "status_failure", "status failure"
        """A receipt number and birth date that did not match."""

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    source_hash = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["purpose", "source_hash", "at"], name="access_attempt_idx")]

    def __str__(self) -> str:
        return f"{self.purpose} {self.at:%Y-%m-%d %H:%M}"


class OverrideQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("objection overrides are append-only")

    def delete(self):
        raise PermissionError("objection overrides are append-only")


class ObjectionOverride(models.Model):
    """The DPO lets one project be provisioned although an objection is not matched yet.

    While an objection that may cover a project waits for identity matching or an ID copy, the
    project's runs are refused (``access.formalities.gates.pending_objection_reasons``). The DPO
    may decide otherwise for one request and one project, in writing; the decision is kept as it
    was made (append-only: PostgreSQL refuses UPDATE and DELETE, migration 0008) and audited.
    Once the objection is matched it applies to every later run, and to delivered datasets
    through the propagation (OPP-11).
    """

    request = models.ForeignKey(
        OppositionRequest,
        on_delete=models.PROTECT,
        related_name="overrides",
        verbose_name=_("opposition request"),
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="+", verbose_name=_("project")
    )
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    at = models.DateTimeField(_("decided at"), default=timezone.now)

    objects = OverrideQuerySet.as_manager()

    class Meta:
        verbose_name = _("objection override")
        verbose_name_plural = _("objection overrides")
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "project"], name="override_once_per_project"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.request} / {self.project_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("objection overrides are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("objection overrides are append-only")


from access.models_consent import (  # noqa: E402, F401  consent register
    Assent,
    ConsentMethod,
    ConsentRecord,
    ConsentWithdrawal,
    DataFate,
    SubjectCategory,
    WithdrawalChannel,
    person_key_validator,
)
from access.models_formalities import (  # noqa: E402, F401  formalities and gates
    DIRECTORY_REQUIRED,
    FormalityRecord,
    FormalityType,
    PublicDirectory,
)
from access.models_outputs import (  # noqa: E402, F401  output requests and their checking
    CellUnit,
    ClosingReport,
    OutputItem,
    OutputItemStatus,
    OutputKind,
    OutputRequest,
    OutputRequestStatus,
    OutputReview,
    OutputVersion,
    ResultsReminder,
    ResultsReminderKind,
    ReviewVerdict,
)
from access.models_provisioning import (  # noqa: E402, F401  provisioning runs
    ACTIVE_RUN_STATUSES,
    FINISHED_RUN_STATUSES,
    DestructionCertificate,
    DownloadToken,
    PartStatus,
    ProjectKeyGeneration,
    Propagation,
    PropagationStatus,
    ProvisioningRun,
    RunDelivery,
    RunPart,
    RunStatus,
)
from access.models_transparency import (  # noqa: E402, F401  transparency portal
    Publication,
    PublicationKind,
    PublicPage,
)
