"""The transparency portal's publications (TRA-01, TRA-08, TRA-13).

Each publication or update of a project's public page stores an immutable snapshot of what the
page says; the portal can show what it said on any date. ``PublicPage`` points at the current
snapshot and keeps the first publication time, which starts the information window (TRA-09).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import content_hash


class PublicationKind(models.TextChoices):
    FIRST = "first", _("First publication")
    """The page goes online: the information window starts."""
    UPDATE = "update", _("Update")
    """A new version of the page (results, amendment, correction); the old one stays readable."""


class Publication(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="publications"
    )
    number = models.PositiveIntegerField(_("version of the page"))
    kind = models.CharField(_("kind"), max_length=10, choices=PublicationKind.choices)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Everything the public page shows, and nothing else (Fields A).
    snapshot = models.JSONField(_("public content"))
    snapshot_sha256 = models.CharField(max_length=64)
    # What changed, in a line, for the page's history.
    change_note = models.CharField(_("what changed"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="publication_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} page v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A publication is immutable; publish an update.")
        self.snapshot_sha256 = content_hash(self.snapshot)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A publication is immutable.")


class PublicPage(models.Model):
    """The project's page on the portal: its current snapshot and its first publication."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.PROTECT, related_name="public_page"
    )
    current = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="+")
    first_published_at = models.DateTimeField(_("first published at"))
    updated_at = models.DateTimeField(_("updated at"))
    # Denormalised from the current snapshot for the portal's search and list.
    title = models.CharField(_("title"), max_length=300)
    search_text = models.TextField(blank=True)

    class Meta:
        verbose_name = _("public page")
        verbose_name_plural = _("public pages")
        ordering = ["-first_published_at"]

    def __str__(self) -> str:
        return f"public page of {self.project_id}"


__all__ = [
    "PublicPage",
    "Publication",
    "PublicationKind",
]
