"""The CNIL formality and the public-directory registration of an approved project (GOV-02).

Append-only: a correction is a new record; the latest one is in force. The trail and the
public page history keep what was recorded before.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FormalityType(models.TextChoices):
    MR004 = "mr004", _("Declaration of conformity to MR-004")
    """Research not involving the human person; registration in the public directory."""
    MR001 = "mr001", _("Declaration of conformity to MR-001")
    """Research involving the human person, with consent."""
    MR003 = "mr003", _("Declaration of conformity to MR-003")
    """Research involving the human person, information and non-opposition."""
    AUTHORISATION = "authorisation", _("CNIL authorisation")
    """Outside the reference methodologies: CESREES opinion, then CNIL authorisation."""


class PublicDirectory(models.TextChoices):
    HDH = "hdh", _("Health Data Hub directory")
    """The Health Data Hub's public directory of projects."""
    PDS = "pds", _("Health data platform (PDS) directory")
    """The single window of the health data platform."""
    NONE = "none", _("Not required")
    """No directory registration for this route (say why in the note)."""


# Routes whose formality needs the public directory registration (TRA-10).
DIRECTORY_REQUIRED = frozenset({FormalityType.MR004, FormalityType.AUTHORISATION})


class FormalityRecord(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="formality_records"
    )
    formality_type = models.CharField(
        _("CNIL formality"), max_length=20, choices=FormalityType.choices
    )
    formality_reference = models.CharField(
        _("formality reference"),
        max_length=100,
        help_text=_("Receipt of the declaration of conformity, or the authorisation number."),
    )
    formality_date = models.DateField(_("formality date"))
    directory = models.CharField(
        _("public directory"), max_length=10, choices=PublicDirectory.choices
    )
    directory_reference = models.CharField(_("directory reference"), max_length=100, blank=True)
    directory_date = models.DateField(_("directory registration date"), null=True, blank=True)
    cesrees_opinion_date = models.DateField(_("CESREES opinion date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("formality record")
        verbose_name_plural = _("formality records")
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(directory="none")
                | (~models.Q(directory_reference="") & models.Q(directory_date__isnull=False)),
                name="directory_registration_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.formality_type} {self.formality_reference}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("A formality record is kept as recorded; record a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("A formality record is kept as recorded.")


__all__ = [
    "DIRECTORY_REQUIRED",
    "FormalityRecord",
    "FormalityType",
    "PublicDirectory",
]
