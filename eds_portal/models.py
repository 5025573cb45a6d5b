"""Accounts and the audit trail: what every other app builds on."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.roles import STAFF_ROLES, Role


class UserManager(BaseUserManager):
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

    def get_by_natural_key(self, username: str) -> User:
        # Logins are case-insensitive: people type their address as they please.
        return self.get(email__iexact=username)


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

    objects = UserManager()

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
        """The user's roles, read once per instance (one query)."""
        cached = getattr(self, "_eds_roles", None)
        if cached is None:
            valid = {role.value for role in Role}
            names = self.groups.filter(name__in=valid).values_list("name", flat=True)
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
