"""Output requests: the results a project asks to take out of its project space (MIN-07 to
MIN-09, TRA-11, TRA-12), in the manner of OpenSAFELY's Airlock.

- ``OutputRequest``: a batch of outputs a team member submits together.
- ``OutputItem``: one output (a table, a figure, a text) with what a checker needs to judge it:
  description, what each cell counts, the variables crossed, the counts behind a figure, the
  researcher's justification for an exception. It is released on its own.
- ``OutputVersion``: one uploaded file of an item, immutable, checksummed, checked; asking for
  changes makes the team upload a new version, which is checked and reviewed afresh.
- ``OutputReview``: one checker's verdict on one version; two approvals of the same version
  release it, and nothing else does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutputRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    """The team adds outputs and fixes what the automatic checks found."""
    IN_REVIEW = "in_review", _("With the output checkers")
    """Submitted: each output waits for two independent checkers."""
    DECIDED = "decided", _("Decided")
    """Every output is released or rejected."""


class OutputKind(models.TextChoices):
    TABLE = "table", _("Table (CSV or XLSX)")
    """Checked cell by cell."""
    FIGURE = "figure", _("Figure (PNG, SVG or PDF)")
    """Checked on the counts it is drawn from, which the team declares."""
    TEXT = "text", _("Short text (TXT or PDF)")
    """Read by the checkers; no automatic check."""


class CellUnit(models.TextChoices):
    PERSONS = "persons", _("Persons")
    """Each cell counts distinct persons."""
    EPISODES = "episodes", _("Episodes of care")
    """Each cell counts episodes; a person may count several times."""
    OTHER = "other", _("Something else (say what in the description)")
    """Doctors, associations, calls..."""


class OutputItemStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    """Not submitted yet, or a new version after a request for changes."""
    SUBMITTED = "submitted", _("Waiting for the checkers")
    """Submitted; fewer than two checkers gave their verdict on the current version."""
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    """A checker asked for changes: the team uploads a new version."""
    REJECTED = "rejected", _("Rejected")
    """A checker refused it: it never leaves."""
    RELEASED = "released", _("Released")
    """Two checkers approved the same version: it has a release number."""


class ReviewVerdict(models.TextChoices):
    APPROVE = "approve", _("Approve")
    """Safe to release as it is."""
    CHANGES = "changes", _("Ask for changes")
    """Releasable once changed; the reasons are in the comment."""
    REJECT = "reject", _("Reject")
    """Never releasable."""


class OutputRequest(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="output_requests"
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OutputRequestStatus.choices,
        default=OutputRequestStatus.DRAFT,
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("output request")
        verbose_name_plural = _("output requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True, submitted_by__isnull=True)
                | Q(submitted_at__isnull=False, submitted_by__isnull=False),
                name="output_request_submitted_paired",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OutputItem(models.Model):
    request = models.ForeignKey(OutputRequest, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(_("kind"), max_length=10, choices=OutputKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    cell_unit = models.CharField(
        _("each cell counts"), max_length=10, choices=CellUnit.choices, blank=True
    )
    variables_crossed = models.TextField(_("variables crossed"), blank=True)
    magnitude = models.BooleanField(_("table of magnitudes (sums, means)"), default=False)
    declared_counts = models.TextField(_("counts behind the figure"), blank=True)
    justification = models.TextField(_("justification of exceptions"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OutputItemStatus.choices, default="draft"
    )
    created_at = models.DateTimeField(default=timezone.now)
    release_number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    released_version = models.OneToOneField(
        "OutputVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # TRA-11: the lead asks for the result to appear on the project's public page.
    publicly_listed_at = models.DateTimeField(null=True, blank=True)
    publication_reference = models.CharField(
        _("publication (reference, DOI or link)"), max_length=500, blank=True
    )

    class Meta:
        verbose_name = _("output")
        verbose_name_plural = _("outputs")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    release_number__isnull=True,
                    released_version__isnull=True,
                    released_at__isnull=True,
                    released_by__isnull=True,
                )
                | Q(
                    status="released",
                    release_number__isnull=False,
                    released_version__isnull=False,
                    released_at__isnull=False,
                    released_by__isnull=False,
                ),
                name="output_release_fields_paired",
            ),
            models.CheckConstraint(
                condition=Q(publicly_listed_at__isnull=True) | Q(status="released"),
                name="output_listed_only_when_released",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def project(self):
        return self.request.project

    @property
    def current_version(self) -> OutputVersion | None:
        versions = list(self.versions.all())
        return max(versions, key=lambda v: v.number) if versions else None


def output_path(instance: OutputVersion, filename: str) -> str:
    item = instance.item
    return (
        f"outputs/{item.request.project_id}/{item.pk}/"
        f"v{instance.number}-{instance.sha256[:16]}-{filename}"
    )


class OutputVersion(models.Model):
    """One uploaded file; never changed once stored."""

    item = models.ForeignKey(OutputItem, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    original_name = models.CharField(_("file name"), max_length=200)
    file = models.FileField(upload_to=output_path, max_length=300)
    file_type = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # A table of magnitudes is checked with its contributors' columns, released without them.
    release_file = models.FileField(upload_to=output_path, max_length=300, blank=True)
    release_sha256 = models.CharField(max_length=64, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    threshold = models.PositiveIntegerField()
    findings = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("output version")
        verbose_name_plural = _("output versions")
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="output_version_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="output_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.number})"

    @property
    def served_sha256(self) -> str:
        return self.release_sha256 or self.sha256


class OutputReview(models.Model):
    version = models.ForeignKey(OutputVersion, on_delete=models.PROTECT, related_name="reviews")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="output_reviews"
    )
    verdict = models.CharField(_("verdict"), max_length=10, choices=ReviewVerdict.choices)
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("output review")
        verbose_name_plural = _("output reviews")
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "checker"], name="output_review_one_per_checker"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.verdict}"


class ClosingReport(models.Model):
    """The lead's final report before a project is closed (TRA-11, RET-03): the results in
    plain words, the publications or why there are none, and the confirmation that every copy
    of the delivered data was destroyed."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.PROTECT, related_name="closing_report"
    )
    results_summary = models.TextField(_("results in plain words"))
    publications = models.TextField(_("publications (references, DOI or links)"), blank=True)
    no_results_reason = models.TextField(_("why there is no publication"), blank=True)
    copies_destroyed_at = models.DateTimeField()
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("closing report")
        verbose_name_plural = _("closing reports")
        constraints = [
            models.CheckConstraint(
                condition=~Q(publications="", no_results_reason=""),
                name="closing_report_publications_or_reason",
            ),
        ]

    def __str__(self) -> str:
        return str(self.project_id)


class ResultsReminderKind(models.TextChoices):
    BEFORE = "before", _("Before the results due date")
    """Sent EDS_RESULTS_REMINDER_DAYS before the due date."""
    AFTER = "after", _("After the results due date")
    """Sent once the due date has passed without a final report."""


class ResultsReminder(models.Model):
    """A reminder of the results due date sent to the lead (RET-03): one per kind and due date,
    so that a second run of the nightly task, or two workers at once, send nothing twice; a due
    date moved by an amendment is reminded again."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="results_reminders"
    )
    kind = models.CharField(max_length=10, choices=ResultsReminderKind.choices)
    due_on = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("results reminder")
        verbose_name_plural = _("results reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "due_on"], name="results_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} · {self.kind} · {self.due_on}"
