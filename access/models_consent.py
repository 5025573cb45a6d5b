"""The consent register (CON-01 to CON-07, Fields C).

For projects whose route needs individual consent. The person is named by the warehouse's
internal person key only (no identity outside the vault). Append-only: a consent and a
withdrawal are separate dated entries, never edited; a person consents at a date when their
latest consent given by then was not followed by a withdrawal by then.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

person_key_validator = RegexValidator(
    r"^[0-9a-f]{64}$", _("A person key is 64 hexadecimal characters (0-9, a-f).")
)


class ConsentMethod(models.TextChoices):
    PAPER = "paper", _("Signed paper form")
    """A handwritten signature on the consent form."""
    ELECTRONIC = "electronic", _("Electronic signature")
    """A qualified or advanced electronic signature."""
    ORAL_WITNESSED = "oral_witnessed", _("Oral consent, witnessed and documented")
    """Where the protocol allows it: the witness and the record are the evidence."""


class SubjectCategory(models.TextChoices):
    ADULT = "adult", _("Adult acting alone")
    """Consents for themselves."""
    MINOR = "minor", _("Minor")
    """The holders of parental authority consent; the minor's own assent is sought (CON-04)."""
    PROTECTED_ADULT = "protected_adult", _("Protected adult")
    """The guardian consents; the person's own assent is sought (CON-04)."""


class Assent(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", _("Not applicable (adult acting alone)")
    """The person consents themselves."""
    GIVEN = "given", _("Assent given")
    """The minor or protected adult agreed."""
    UNABLE = "unable", _("Unable to express an opinion")
    """Too young or unable; the representatives' consent alone."""
    REFUSED = "refused", _("Assent refused")
    """The person's refusal prevails: the consent is recorded but never valid."""


class WithdrawalChannel(models.TextChoices):
    PAPER = "paper", _("Letter or paper form")
    """Received by post or handed in."""
    EMAIL = "email", _("E-mail")
    """Sent by e-mail to the DPO or the investigator."""
    PHONE = "phone", _("Telephone")
    """Told by phone and transcribed by staff."""
    IN_PERSON = "in_person", _("In person")
    """Told to the investigator or at an association."""
    ONLINE = "online", _("Online")
    """Through an online service."""


class DataFate(models.TextChoices):
    KEEP = "keep", _("Data already collected is kept for the analysis")
    """As the notice said: processing before withdrawal stays lawful (GDPR art. 7(3))."""
    ERASE = "erase", _("Data already collected is erased")
    """The notice promised erasure, or the framework requires it."""


class ConsentRecord(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="consent_records"
    )
    person_key = models.CharField(
        _("person key"), max_length=64, validators=[person_key_validator], db_index=True
    )
    purposes = models.TextField(_("purposes consented to"))
    notice_version = models.CharField(_("information notice version"), max_length=50)
    given_at = models.DateTimeField(_("consent given at"))
    method = models.CharField(_("method"), max_length=20, choices=ConsentMethod.choices)
    collector = models.CharField(_("collected by"), max_length=200)
    evidence = models.CharField(_("evidence pointer"), max_length=300)
    subject_category = models.CharField(
        _("the person is"), max_length=20, choices=SubjectCategory.choices
    )
    representatives = models.TextField(_("consenting representatives"), blank=True)
    assent = models.CharField(
        _("own assent"), max_length=20, choices=Assent.choices, default=Assent.NOT_APPLICABLE
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-given_at", "-pk"]
        constraints = [
            # A representative's consent names who gave it (CON-04); an adult acts alone.
            models.CheckConstraint(
                condition=Q(subject_category="adult", assent="not_applicable")
                | (
                    ~Q(subject_category="adult")
                    & ~Q(representatives="")
                    & ~Q(assent="not_applicable")
                ),
                name="consent_representatives_and_assent",
            ),
        ]

    def __str__(self) -> str:
        return f"consent {self.pk} to {self.project_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The consent register is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The consent register is append-only.")


class ConsentWithdrawal(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="consent_withdrawals"
    )
    person_key = models.CharField(
        _("person key"), max_length=64, validators=[person_key_validator], db_index=True
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"))
    channel = models.CharField(_("channel"), max_length=20, choices=WithdrawalChannel.choices)
    data_fate = models.CharField(
        _("data already collected"), max_length=10, choices=DataFate.choices
    )
    fate_basis = models.TextField(
        _("basis of this choice"),
        help_text=_("What the notice said, or the rule of the framework (CON-06)."),
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent withdrawal")
        verbose_name_plural = _("consent withdrawals")
        ordering = ["-withdrawn_at", "-pk"]

    def __str__(self) -> str:
        return f"withdrawal {self.pk} from {self.project_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The consent register is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The consent register is append-only.")


__all__ = [
    "Assent",
    "ConsentMethod",
    "ConsentRecord",
    "ConsentWithdrawal",
    "DataFate",
    "SubjectCategory",
    "WithdrawalChannel",
    "person_key_validator",
]
