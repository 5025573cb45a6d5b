"""Accounts and the audit trail: what every other app builds on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _UserManagerBase = BaseUserManager["User"]
else:
    # Django's managers are generic for the type checker only.
    _UserManagerBase = BaseUserManager


class UserManager(_UserManagerBase):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields) -> User:
        if not email:
            raise ValueError("An account needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # Logins are case-insensitive: people type their address as they please.
        return self.get(email__iexact=username)


# The languages of the portal (settings.LANGUAGES), as a user may prefer them.
LANGUAGE_CHOICES = [("fr", _("French")), ("en", _("English"))]


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. Patients and the public need none."""

    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    organisation = models.CharField(
        _("organisation"),
        max_length=200,
        blank=True,
        help_text=_("Employer or laboratory; used to detect conflicts of interest."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("administration site access"),
        default=False,
        help_text=_("May sign in to the technical administration site."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # What notifications and e-mails are written in; the language switch sets it. Empty until
    # then: the portal's language (settings.LANGUAGE_CODE, French).
    language = models.CharField(
        _("language"), max_length=8, choices=LANGUAGE_CHOICES, blank=True, default=""
    )

    objects = UserManager()

    if TYPE_CHECKING:
        # What django-otp adds, which the type checker cannot see (django-otp has no types):
        # the TOTP devices, and the check its middleware puts on the request's user.
        totpdevice_set: RelatedManager[TOTPDevice]
        is_verified: Callable[[], bool]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def roles(self) -> frozenset[Role]:
        """The user's roles in force, read once per instance (one query): a role whose grant
        ended (``RoleGrant.valid_until`` in the past) is not one."""
        cached = getattr(self, "_eds_roles", None)
        if cached is None:
            valid = {role.value for role in Role}
            # A grant past its end date gives nothing, even before the nightly task revokes it.
            expired = RoleGrant.objects.filter(
                user_id=self.pk, role=models.OuterRef("name"), valid_until__lt=timezone.localdate()
            )
            names = (
                self.groups.filter(name__in=valid)
                .exclude(models.Exists(expired))
                .values_list("name", flat=True)
            )
            cached = frozenset(Role(name) for name in names)
            self._eds_roles = cached
        return cached

    def forget_roles(self) -> None:
        self.__dict__.pop("_eds_roles", None)

    @property
    def requires_two_factor(self) -> bool:
        """Staff roles and administrators must sign in with a second factor."""
        return self.is_staff or self.is_superuser or bool(self.roles & STAFF_ROLES)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only: events cannot be updated.")

    def delete(self):
        raise PermissionError("The audit trail is append-only: events cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the hash-chained, append-only audit trail (LOG-01, LOG-04, LOG-06).

    ``seq`` numbers the chain without gaps; ``hash`` is the SHA-256 of this event's content and
    of ``prev_hash``, the hash of the event before it. ``manage.py verify_audit`` recomputes
    the chain. On PostgreSQL a trigger refuses UPDATE and DELETE on this table.
    """

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the system (tasks, commands without an operator)."),
    )
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=80, blank=True)
    target_id = models.CharField(_("target id"), max_length=120, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # Events of public pages and anonymous requests: the address under the period's rotating
    # key (eds_portal.addresses), never the address itself (LOG-04). Empty on older events.
    client_hash = models.CharField(_("client address hash"), max_length=64, blank=True, default="")
    # The request (or the task it started) that wrote the event, as in the logs and the
    # X-Request-ID header: an event can be found in the logs. Empty on older events.
    request_id = models.CharField(_("request id"), max_length=64, blank=True, default="")
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only: events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only: events cannot be deleted.")


class AddressKey(models.Model):
    """The random salt of one period of client-address hashes (LOG-04).

    A hash is HMAC(SECRET_KEY and this salt, address): within the period the same address
    gives the same hash (floods can be followed); another period gives another one; once the
    row is deleted (``purge_address_keys``, nightly) nobody can tell which address it was, even
    by trying every IPv4 address, since the salt was random and kept nowhere else.
    """

    starts_on = models.DateField(_("period starts on"), unique=True)
    salt = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("address key")
        verbose_name_plural = _("address keys")
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"address key of {self.starts_on}"


class Notification(models.Model):
    """A message to one user, shown on their home page and sent by e-mail (eds_portal.notify).

    The subject and body are rendered in the recipient's language when sent; they must not carry
    patient-level data.
    """

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return f"to {self.recipient_id}: {self.subject}"


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    """Queued: a worker sends it, or tries again after a failure at ``next_attempt_at``."""
    SENDING = "sending", _("Being sent")
    """A worker holds it; a worker lost while sending is noticed and the mail queued again."""
    SENT = "sent", _("Sent")
    """The mail server accepted it."""
    FAILED = "failed", _("Not sent")
    """Refused for good, or every attempt failed: staff see it and may try again."""


class OutgoingMail(models.Model):
    """One e-mail the portal sends, and what became of it (``eds_portal.mail``).

    Mail leaves through a Celery task after the commit of what it announces, with retries: a
    mail server that refuses or is down never fails the request. Mails to staff and researchers
    keep their text until sent; mails to patients keep none of it and no address: their text is
    written when sent, from the record it names (``kind`` and ``reference``), the address read
    from the vault. A sent mail keeps no body (an invitation's link is a secret).
    """

    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    reference = models.CharField(_("about"), max_length=120, blank=True)
    recipient = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient account"),
    )
    to = models.JSONField(_("recipients"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=400, blank=True)
    body = models.TextField(_("message"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    # The error's kind and SMTP code only: a server's message may quote the address.
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outgoingmail_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outgoingmail_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="failed") | models.Q(failed_at__isnull=False),
                name="outgoingmail_failed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"


class Heartbeat(models.Model):
    """The last time a periodic process showed it was alive (``beat``: Celery beat, through the
    task it schedules every minute); the health check calls it stale after a while."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    beat_at = models.DateTimeField(_("last beat"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Charter(models.Model):
    """One version of the confidentiality charter (SEC-05), in both languages.

    The latest version is the one in force: every account accepts it before going further, and
    again when a new version is published (``eds_portal.accounts``). Versions are never edited:
    a change is a new version, so that an acceptance always names the text that was read.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    text_fr = models.TextField(_("text (French)"))
    text_en = models.TextField(_("text (English)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("confidentiality charter")
        verbose_name_plural = _("confidentiality charters")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"charter v{self.version}"


class CharterAcceptance(models.Model):
    """That one account accepted one version of the charter, and when."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="charter_acceptances", verbose_name=_("user")
    )
    charter = models.ForeignKey(
        Charter, on_delete=models.PROTECT, related_name="acceptances", verbose_name=_("charter")
    )
    accepted_at = models.DateTimeField(_("accepted at"), default=timezone.now)

    class Meta:
        verbose_name = _("charter acceptance")
        verbose_name_plural = _("charter acceptances")
        constraints = [
            models.UniqueConstraint(fields=["user", "charter"], name="charter_accepted_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted v{self.charter_id}"


class AuditCheckpoint(models.Model):
    """The signed end of one closed period (epoch) of the audit trail (LOG-04).

    ``statement`` is the canonical JSON that was signed (Ed25519, a key the database does not
    hold: ``eds_portal.audit_epochs``); the other columns repeat it for queries. A checkpoint is
    also written to a directory outside the database and mailed to the DPOs. Once its period is
    past retention, the events are exported with it (``archived_at``) and then deleted
    (``purged_at``): the rest of the chain verifies from ``last_hash``.
    """

    epoch = models.PositiveIntegerField(_("epoch"), unique=True)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    first_seq = models.PositiveBigIntegerField(_("first event"))
    last_seq = models.PositiveBigIntegerField(_("last event"))
    last_hash = models.CharField(_("hash of the last event"), max_length=64)
    previous = models.CharField(_("hash of the previous checkpoint"), max_length=64)
    statement = models.TextField(_("signed statement"))
    signature = models.CharField(_("signature"), max_length=200)
    key_id = models.CharField(_("key id"), max_length=32)
    signed_at = models.DateTimeField(_("signed at"))
    archive_name = models.CharField(_("archive"), max_length=200, blank=True)
    archive_sha256 = models.CharField(_("archive SHA-256"), max_length=64, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    purged_at = models.DateTimeField(_("events purged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")
        ordering = ["-epoch"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_seq__gte=models.F("first_seq")),
                name="audit_checkpoint_range",
            ),
            models.CheckConstraint(
                condition=models.Q(purged_at__isnull=True) | models.Q(archived_at__isnull=False),
                name="audit_checkpoint_purged_after_archive",
            ),
            models.CheckConstraint(
                condition=models.Q(archived_at__isnull=True)
                | ~models.Q(archive_sha256="") & ~models.Q(archive_name=""),
                name="audit_checkpoint_archive_named",
            ),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.epoch} (#{self.first_seq}-#{self.last_seq})"


class AlertRule(models.TextChoices):
    DOWNLOAD_BURST = "download_burst", _("Burst of downloads")
    """One person downloaded more files within an hour than EDS_REVIEW_DOWNLOAD_BURST."""
    IDENTITY_READS = "identity_reads", _("Identity reads out of hours or in numbers")
    """Vault reads at night, at the weekend, or more than ten in an hour by one person."""
    FAILED_LOGINS = "failed_logins", _("Repeated failed logins")
    """Five failed logins or second factors or more within an hour."""
    ROLE_CHANGE = "role_change", _("Role change")
    """A role was granted or withdrawn."""
    TRAIL_READ = "trail_read", _("Reading of the audit trail")
    """Someone read or exported the audit trail (LOG-05)."""


class LogAlert(models.Model):
    """An abnormal trace found by the hourly log review (LOG-03), for the DPO to follow up.

    ``details`` holds event numbers and counts, never content; ``key`` makes a rule raise one
    alert per person and hour however often the review runs.
    """

    rule = models.CharField(_("rule"), max_length=20, choices=AlertRule.choices)
    key = models.CharField(max_length=120, unique=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    subject = models.ForeignKey(
        User,
        verbose_name=_("person concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    count = models.PositiveIntegerField(_("events"), default=0)
    details = models.JSONField(_("details"), default=dict, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("log alert")
        verbose_name_plural = _("log alerts")
        ordering = ["-raised_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rule__in=[choice.value for choice in AlertRule]),
                name="log_alert_rule_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | models.Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="log_alert_reviewed_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.raised_at:%Y-%m-%d %H:%M}"


class ExternalIdentity(models.Model):
    """An account's identity at an OpenID Connect provider (Pro Santé Connect, ProConnect).

    Accounts are found by the provider's subject (``sub``), which the provider guarantees stable
    and unique; never by e-mail address alone, which another person may hold at another provider.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="external_identities", verbose_name=_("user")
    )
    provider = models.CharField(_("provider"), max_length=40)
    subject = models.CharField(_("subject"), max_length=255)
    created_at = models.DateTimeField(_("linked at"), default=timezone.now)
    last_login_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], name="external_identity_unique"
            ),
            models.UniqueConstraint(fields=["user", "provider"], name="one_identity_per_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.user_id}"


class BreachRisk(models.TextChoices):
    UNLIKELY = "unlikely", _("Unlikely to result in a risk")
    """Recorded in the register only (GDPR art. 33(5))."""
    RISK = "risk", _("Risk to the persons")
    """The CNIL is notified within 72 hours (art. 33)."""
    HIGH = "high", _("High risk to the persons")
    """The CNIL is notified and the persons are informed (art. 34)."""


class BreachIncident(models.Model):
    """The internal breach register (SEC-08): every incident, notified or not.

    The 72-hour clock runs from ``detected_at``. No patient-level data here: categories and
    approximate numbers of persons and records, never who.
    """

    detected_at = models.DateTimeField(_("detected at"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    summary = models.TextField(_("what happened"), max_length=4000)
    persons_concerned = models.TextField(
        _("persons concerned"),
        max_length=1000,
        help_text=_("Categories and approximate number; never names."),
    )
    data_concerned = models.TextField(_("data concerned"), max_length=1000)
    measures = models.TextField(_("measures taken"), max_length=4000)
    risk = models.CharField(_("risk"), max_length=10, choices=BreachRisk.choices)
    cnil_notified_at = models.DateTimeField(_("CNIL notified at"), null=True, blank=True)
    late_reason = models.TextField(_("reason for a late notification"), blank=True)
    persons_informed_at = models.DateTimeField(_("persons informed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        ordering = ["-detected_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(risk__in=[choice.value for choice in BreachRisk]),
                name="breach_risk_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"breach {self.pk} {self.detected_at:%Y-%m-%d}"

    @property
    def notification_due_at(self):
        return self.detected_at + timedelta(hours=72)

    @property
    def notification_overdue(self) -> bool:
        return (
            self.risk != BreachRisk.UNLIKELY
            and self.cnil_notified_at is None
            and timezone.now() > self.notification_due_at
        )


class RoleGrant(models.Model):
    """Who validated one account's role and until when (SEC-04).

    One row per account and role held, written by ``grant_role`` and deleted by ``revoke_role``
    (the audit trail keeps every grant and revocation). A staff role names the person who
    validated it (the holder's line manager) and an end date: past that day the role gives
    nothing (``User.roles``), and the nightly ``expire_role_grants`` revokes it (audited). Roles
    held before these records existed have none: the access review shows them as such.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="role_grants", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    validated_by = models.CharField(
        _("validated by"),
        max_length=200,
        blank=True,
        help_text=_("The person who validated the grant, usually the holder's line manager."),
    )
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Last day on which the role applies."),
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    granted_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="role_grant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.role} of {self.user_id} until {self.valid_until or '-'}"
