"""Provisioning runs, their parts, project key generations and destruction certificates.

The run row is the truth about a run (docs/architecture.md, "Provisioning"): Celery messages
carry only ids, and every task claims its row or part with a conditional UPDATE, so a message
delivered twice does nothing the second time. Row data never goes through these models: the
export engine streams it to files; these rows hold counts, checksums and the manifest.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    """Started by the data steward; waits for a worker to check the gates and plan it."""
    RUNNING = "running", _("Running")
    """Claimed by a worker, which checks the gates and plans the cohort (a refusal ends in
    failed); then the workers write its parts. A rebuild against a newer register snapshot
    comes back here."""
    WRITING = "writing", _("Writing the dataset")
    """Every part is done: the register is checked again, then the dataset is assembled."""
    REVIEW = "review", _("Waiting for the text review")
    """The dataset delivers free text: the data steward reads a random sample of the scrubbed
    notes (MIN-05) before publication goes on (``access/provisioning/text_review.py``)."""
    # A run ("extraction"): French agrees it in the feminine, unlike a published project.
    PUBLISHED = "published", pgettext_lazy("run status", "Published")
    """The dataset and its manifest are in place, for the named recipients to download."""
    FAILED = "failed", _("Failed")
    """Refused by a gate or stopped by an error; the reasons are recorded on the run."""
    CANCELLED = "cancelled", _("Cancelled")
    """Cancelled by the data steward; the workers drop what they were writing."""


ACTIVE_RUN_STATUSES = (
    RunStatus.QUEUED,
    RunStatus.RUNNING,
    RunStatus.WRITING,
    RunStatus.REVIEW,
)
FINISHED_RUN_STATUSES = (RunStatus.PUBLISHED, RunStatus.FAILED, RunStatus.CANCELLED)


class PartStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a worker")
    """Queued; the first worker that claims it writes it."""
    RUNNING = "running", _("Being written")
    """Claimed by a worker, which sends a heartbeat while it writes."""
    DONE = "done", _("Done")
    """Its files are in the staging folder, marked done last."""
    FAILED = "failed", _("Failed")
    """Stopped by an error, or lost too many times; the run failed with it."""
    CANCELLED = "cancelled", _("Cancelled")
    """The run was cancelled, or rebuilt against a newer register snapshot."""


class ProjectKeyGeneration(models.Model):
    """A generation of a project's pseudonymisation key (MIN-03).

    The key itself is never stored: it is derived from ``EDS_PROVISIONING_KEY``, the project's
    reference and this number. Rotating the key appends a generation; the next runs use it and
    give the project new pseudonyms.
    """

    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="key_generations"
    )
    number = models.PositiveIntegerField()
    key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="key_generation_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="key_generation_positive"),
        ]

    def __str__(self) -> str:
        return self.key_id


class ProvisioningRun(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="provisioning_runs"
    )
    # The decision whose approved specification the run executes (fixed when it is planned).
    decision = models.ForeignKey(
        "projects.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provisioning_runs",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    # Times a worker claimed the run's planning or publication (the reaper counts them).
    attempt = models.PositiveIntegerField(default=0)
    # Who holds the planning or the publication, and its heartbeat.
    claimed_by = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Which build of the parts is current: a newer register snapshot before publication rebuilds.
    build = models.PositiveIntegerField(default=1)
    rebuilds = models.JSONField(default=list, blank=True)
    rows_done = models.BigIntegerField(default=0)
    rows_expected = models.BigIntegerField(null=True, blank=True)
    parts_total = models.PositiveIntegerField(default=0)
    register_snapshot = models.PositiveIntegerField(null=True, blank=True)
    spec_sha256 = models.CharField(max_length=64, blank=True)
    key_generation = models.PositiveIntegerField(null=True, blank=True)
    key_id = models.CharField(max_length=64, blank=True)
    # When consents were read (consent-based projects): every part reads them at that moment.
    planned_at = models.DateTimeField(null=True, blank=True)
    plan = models.JSONField(null=True, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    # SHA-256 of the manifest file as published (its bytes), and of the dataset's archive
    # (``dataset.zip``, every file and the manifest): what a recipient checks a copy against.
    # Empty for runs published before they were kept.
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    archive_bytes = models.BigIntegerField(null=True, blank=True)
    dataset_path = models.CharField(max_length=500, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A later run of the project published a newer version of the dataset: this one is no longer
    # served (links refused, naming the replacement) and is destroyed after the grace period.
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    # MIN-05's manual check of free text: where the random sample of scrubbed notes lies in the
    # staging files (part, table, column, row; never the text), drawn for one build, and who
    # confirmed reading it, when. A run that delivers free text publishes only once reviewed.
    text_review_sample = models.JSONField(null=True, blank=True)
    text_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text_reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("provisioning run")
        verbose_name_plural = _("provisioning runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One run at a time per project: two would write the same dataset twice.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["queued", "running", "writing", "review"]),
                name="one_active_run_per_project",
            ),
            models.CheckConstraint(
                condition=Q(cancelled_at__isnull=True, cancelled_by__isnull=True)
                | Q(status="cancelled", cancelled_at__isnull=False),
                name="run_cancelled_fields_paired",
            ),
            models.CheckConstraint(
                condition=~Q(status="published")
                | (Q(manifest__isnull=False) & ~Q(dataset_path="")),
                name="run_published_has_manifest",
            ),
            models.CheckConstraint(
                condition=Q(superseded_by__isnull=True, superseded_at__isnull=True)
                | Q(status="published", superseded_by__isnull=False, superseded_at__isnull=False),
                name="run_superseded_fields_paired",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="run_status_heartbeat")]

    def __str__(self) -> str:
        return f"run {self.pk} of project {self.project_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def parts_done(self) -> int:
        cached = getattr(self, "parts_done_count", None)
        if cached is not None:
            return cached
        return self.parts.filter(build=self.build, status=PartStatus.DONE).count()


class RunPart(models.Model):
    run = models.ForeignKey(ProvisioningRun, on_delete=models.CASCADE, related_name="parts")
    build = models.PositiveIntegerField(default=1)
    index = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=PartStatus.choices, default=PartStatus.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "build", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "build", "index"], name="run_part_unique"),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="part_status_heartbeat")]

    def __str__(self) -> str:
        return f"part {self.index} (build {self.build}) of run {self.run_id}"


class DestructionCertificate(models.Model):
    """What was destroyed at access expiry, when, and by whom (MIN-14); never changed."""

    run = models.OneToOneField(
        ProvisioningRun, on_delete=models.PROTECT, related_name="destruction"
    )
    destroyed_at = models.DateTimeField(default=timezone.now)
    # None: the periodic task (the system), at access expiry.
    destroyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    access_ended_at = models.DateTimeField(null=True, blank=True)
    dataset_path = models.CharField(max_length=500)
    # [{"name", "bytes", "sha256", "found"}]: as listed in the manifest, and whether present.
    files = models.JSONField(default=list)
    reason = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("destruction certificate")
        verbose_name_plural = _("destruction certificates")

    def __str__(self) -> str:
        return f"destruction of run {self.run_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A destruction certificate is kept as recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A destruction certificate is kept as recorded.")


class RunDelivery(models.Model):
    """The project pseudonyms a published run delivered (OPP-11, "which projects used my data").

    Read from the published dataset itself when the run is published: what left, not what a
    recomputation on today's warehouse would say. Pseudonyms only, never internal keys: a
    person's presence is checked by computing their pseudonym with the run's key generation.
    They are kept as one value per run, the 16-byte pseudonyms end to end (1.8 MB for 110,000
    persons), written in the publication's transaction at the cost of one row.
    """

    run = models.OneToOneField(ProvisioningRun, on_delete=models.CASCADE, related_name="delivery")
    persons = models.PositiveIntegerField()
    pseudonyms = models.BinaryField()
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"delivery of run {self.run_id}"


class DownloadToken(models.Model):
    """A short-lived token with which a recipient's script downloads one run's files (MIN-13).

    Created only from a login session that passed the second factor (SEC-03), by a named
    recipient of the run; bound to that user and that run; valid ``EDS_DOWNLOAD_TOKEN_MINUTES``;
    revocable. Only its SHA-256 is stored: the value is shown once. Every other condition of
    ``serving.may_serve`` (recipient, decision in force, dataset in force, project active, access
    not ended) is checked again at each use.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="download_tokens"
    )
    run = models.ForeignKey(
        ProvisioningRun, on_delete=models.CASCADE, related_name="download_tokens"
    )
    key_sha256 = models.CharField(max_length=64, unique=True)
    # The first characters of the value, to tell tokens apart on the page (not a secret).
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("download token")
        verbose_name_plural = _("download tokens")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revoked_by__isnull=True)
                | Q(revoked_at__isnull=False, revoked_by__isnull=False),
                name="download_token_revoked_fields_paired",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="download_token_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"download token {self.prefix}… of run {self.run_id}"

    def is_valid(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class PropagationStatus(models.TextChoices):
    OPEN = "open", _("Deletion awaited")
    """The recipients were told which pseudonyms to delete; the lead has not confirmed yet."""
    CONFIRMED = "confirmed", _("Deletion confirmed")
    """The project lead confirmed that the person's rows were deleted from every copy."""
    EXCEPTION = "exception", _("Exception recorded")
    """The DPO decided, with its reason, that the rows need not be deleted (GDPR art. 17(3))."""


class Propagation(models.Model):
    """An objection that reached a dataset already delivered (OPP-11), and what became of it.

    One row per register entry and published run that contained the person. The new version of
    the dataset (a run without the person) is ``replacement``.
    """

    entry = models.ForeignKey(
        "access.RegisterEntry", on_delete=models.PROTECT, related_name="propagations"
    )
    run = models.ForeignKey(ProvisioningRun, on_delete=models.PROTECT, related_name="propagations")
    # Project pseudonyms to delete (those of the run's key generation).
    pseudonyms = models.JSONField(default=list)
    replacement = models.ForeignKey(
        ProvisioningRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces_for",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PropagationStatus.choices, default="open"
    )
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(_("deletion due on"))
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exception_reason = models.TextField(_("reason for the exception"), blank=True)
    exception_at = models.DateTimeField(null=True, blank=True)
    exception_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("propagation of an objection")
        verbose_name_plural = _("propagations of objections")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "run"], name="propagation_once_per_run"),
            models.CheckConstraint(
                condition=Q(status="open", confirmed_at__isnull=True, exception_at__isnull=True)
                | Q(
                    status="confirmed",
                    confirmed_at__isnull=False,
                    confirmed_by__isnull=False,
                    exception_at__isnull=True,
                )
                | (
                    Q(
                        status="exception",
                        exception_at__isnull=False,
                        exception_by__isnull=False,
                        confirmed_at__isnull=True,
                    )
                    & ~Q(exception_reason="")
                ),
                name="propagation_status_fields_paired",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="propagation_status_due")]

    def __str__(self) -> str:
        return f"propagation of entry {self.entry_id} to run {self.run_id}"

    @property
    def is_open(self) -> bool:
        return self.status == PropagationStatus.OPEN


__all__ = [
    "ACTIVE_RUN_STATUSES",
    "FINISHED_RUN_STATUSES",
    "DestructionCertificate",
    "DownloadToken",
    "PartStatus",
    "ProjectKeyGeneration",
    "Propagation",
    "PropagationStatus",
    "ProvisioningRun",
    "RunDelivery",
    "RunPart",
    "RunStatus",
]
