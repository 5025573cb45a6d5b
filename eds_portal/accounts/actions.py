"""Account actions: each writes its audit event; mails leave through the queue (eds_portal.mail).

The trail names accounts by id, never by address (LOG-04).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from eds_portal.actions import create_account, grant_role
from eds_portal.audit import record_event
from eds_portal.errors import Refused
from eds_portal.mail import queue_mail
from eds_portal.models import AuditEvent, Charter, CharterAcceptance, User
from eds_portal.roles import Role

ACCOUNT_MAIL = "account.security"
EMAIL_CHANGE_SALT = "eds_portal.accounts.email_change"
RESET_REQUESTED = "auth.password_reset_requested"


class AccountError(Refused):
    def __init__(self, message: str) -> None:
        super().__init__([message])
        self.message = message


# --- Charter (SEC-05) --------------------------------------------------------------------------


def current_charter() -> Charter | None:
    return Charter.objects.order_by("-version").first()


def charter_due(user: Any) -> Charter | None:
    """The charter in force when ``user`` has not accepted it yet, else None."""
    charter = current_charter()
    if charter is None or not getattr(user, "pk", None):
        return None
    if CharterAcceptance.objects.filter(user=user, charter=charter).exists():
        return None
    return charter


@transaction.atomic
def publish_charter(*, text_fr: str, text_en: str, by: Any = None) -> Charter:
    """A new version: every account accepts it again at its next sign-in."""
    last = Charter.objects.select_for_update().order_by("-version").first()
    charter = Charter.objects.create(
        version=(last.version + 1) if last else 1,
        text_fr=text_fr.strip(),
        text_en=text_en.strip(),
        published_by=by if getattr(by, "pk", None) else None,
    )
    record_event(
        action="charter.published", actor=by, target=charter, after={"version": charter.version}
    )
    return charter


@transaction.atomic
def accept_charter(*, user: User, charter: Charter) -> bool:
    """Returns False when this version was already accepted (nothing is written)."""
    _acceptance, created = CharterAcceptance.objects.get_or_create(user=user, charter=charter)
    if created:
        record_event(
            action="charter.accepted",
            actor=user,
            target=user,
            after={"charter": charter.pk, "version": charter.version},
        )
    return created


# --- Accounts created from an invitation -------------------------------------------------------


@transaction.atomic
def create_invited_account(
    *,
    email: str,
    full_name: str,
    password: str,
    charter: Charter | None,
    role: Role | None = Role.RESEARCHER,
) -> User:
    """The account of someone who followed an invitation link: a researcher (or, for an external
    expert, ``role=None``: no role, only the grant the invitation gives), who accepted the
    charter shown on the same page. The caller checked the invitation (its address is ``email``)."""
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(_("An account already exists for this address: sign in instead."))
    user = create_account(
        email=email, full_name=" ".join(full_name.split()), password=password, roles=()
    )
    # The account's own creation through its invitation: the actor is the new account.
    record_event(action="account.created_from_invitation", actor=user, target=user)
    if role is not None:
        grant_role(user=user, role=role, by=user)
    if charter is not None:
        accept_charter(user=user, charter=charter)
    return user


# --- Passwords ---------------------------------------------------------------------------------


def reset_requests_recently(*, event: AuditEvent) -> tuple[int, int]:
    """(requests from the same client, requests for the same account) in the last hour,
    counted in the trail itself: the limit holds across processes and restarts."""
    since = timezone.now() - timedelta(hours=1)
    recent = AuditEvent.objects.filter(action=RESET_REQUESTED, occurred_at__gte=since)
    if event.ip:
        by_client = recent.filter(ip=event.ip).count()
    elif event.client_hash:
        by_client = recent.filter(client_hash=event.client_hash).count()
    else:
        by_client = 0
    by_account = recent.filter(target_id=event.target_id).count() if event.target_id else 0
    return by_client, by_account


def _security_mail(user: User, subject: str, body: str, to: str | None = None) -> None:
    queue_mail(
        kind=ACCOUNT_MAIL,
        reference=str(user.pk),
        to=[to or user.email],
        subject=subject,
        body=body,
        recipient=user,
        language=user.language or settings.LANGUAGE_CODE,
    )


@transaction.atomic
def password_changed(*, user: User, by: Any, how: str) -> None:
    """Audits a new password (``how``: "change" or "reset") and tells the account's owner."""
    record_event(action="auth.password_changed", actor=by, target=user, after={"how": how})
    with translation.override(user.language or settings.LANGUAGE_CODE):
        _security_mail(
            user,
            _("Your password was changed"),
            _(
                "The password of your account on %(portal)s was changed. If you did not do it, "
                "reset it at once (%(link)s) and tell the data office."
            )
            % {
                "portal": settings.EDS_PORTAL_NAME,
                "link": settings.EDS_PUBLIC_URL + reverse("password_reset"),
            },
        )


# --- E-mail change -----------------------------------------------------------------------------


def email_change_token(*, user: User, new_email: str) -> str:
    # The current address is in the token: once the address changes, older links stop working.
    return signing.dumps({"u": user.pk, "o": user.email, "n": new_email}, salt=EMAIL_CHANGE_SALT)


@transaction.atomic
def request_email_change(*, user: User, new_email: str) -> bool:
    """Sends a confirmation link to the new address; the account keeps its address until the
    link is followed. Returns False when the address belongs to another account: nothing is
    sent, and the page says the same (an address's owner is not disclosed)."""
    new_email = User.objects.normalize_email(new_email).strip().lower()
    taken = User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists()
    record_event(
        action="account.email_change_requested",
        actor=user,
        target=user,
        after={"sent": not taken},
    )
    if taken:
        return False
    link = settings.EDS_PUBLIC_URL + reverse(
        "email_change_confirm", args=[email_change_token(user=user, new_email=new_email)]
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        _security_mail(
            user,
            _("Confirm your new e-mail address"),
            _(
                "To use this address for your account on %(portal)s, open this link while signed "
                "in:\n%(link)s\n\nThe link expires in %(hours)s hours. If you did not ask for "
                "this, ignore this message."
            )
            % {
                "portal": settings.EDS_PORTAL_NAME,
                "link": link,
                "hours": settings.EDS_EMAIL_CHANGE_HOURS,
            },
            to=new_email,
        )
    return True


@transaction.atomic
def confirm_email_change(*, user: User, token: str) -> str:
    """Applies the change the link carries; returns the new address."""
    try:
        data = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EDS_EMAIL_CHANGE_HOURS * 3600
        )
    except signing.SignatureExpired as exc:
        raise AccountError(_("This link has expired. Ask for the change again.")) from exc
    except signing.BadSignature as exc:
        raise AccountError(_("This link is not valid.")) from exc
    locked = User.objects.select_for_update().get(pk=user.pk)
    if data.get("u") != locked.pk:
        raise AccountError(
            _("This link was sent for another account. Sign in with that account to use it.")
        )
    if data.get("o") != locked.email:
        raise AccountError(_("This link is no longer valid: the address has changed since."))
    new_email = data["n"]
    if User.objects.filter(email__iexact=new_email).exclude(pk=locked.pk).exists():
        raise AccountError(_("This address is already used by another account."))
    old_email = locked.email
    locked.email = new_email
    locked.save(update_fields=["email"])
    user.email = new_email
    record_event(action="account.email_changed", actor=user, target=user)
    with translation.override(locked.language or settings.LANGUAGE_CODE):
        # The former address hears of it: a stolen session cannot take an account silently.
        _security_mail(
            locked,
            _("The e-mail address of your account was changed"),
            _(
                "The e-mail address of your account on %(portal)s was changed. If you did not "
                "do it, tell the data office at once."
            )
            % {"portal": settings.EDS_PORTAL_NAME},
            to=old_email,
        )
    return new_email


def register_mail() -> None:
    from django.utils.translation import gettext_lazy

    from eds_portal.mail import register_kind

    register_kind(ACCOUNT_MAIL, label=gettext_lazy("Account security message"))
    register_kind("account.password_reset", label=gettext_lazy("Password reset link"))


# --- Unused accounts (SEC-04, RET-04) ------------------------------------------------------------


@transaction.atomic
def deactivate_account(*, user: User, by: Any, reason: str) -> bool:
    """The account can no longer sign in; its history stays. Returns False if already so."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        return False
    locked.is_active = False
    locked.save(update_fields=["is_active"])
    user.is_active = False
    record_event(action="account.deactivated", actor=by, target=locked, after={"reason": reason})
    return True


def disable_inactive_accounts(*, now=None) -> dict[str, int]:
    """Warns the accounts that will soon count as unused, and disables those unused for
    ``EDS_ACCOUNT_INACTIVE_DAYS`` (last sign-in, or creation if never signed in). One warning per
    idle period: a sign-in starts a new one."""
    from django.db.models import Exists, OuterRef
    from django.db.models.functions import Cast, Coalesce

    now = now or timezone.now()
    limit = timedelta(days=settings.EDS_ACCOUNT_INACTIVE_DAYS)
    warn_before = timedelta(days=settings.EDS_ACCOUNT_INACTIVE_WARNING_DAYS)
    active = User.objects.filter(is_active=True).annotate(
        last_activity=Coalesce("last_login", "date_joined")
    )
    disabled = 0
    for user in active.filter(last_activity__lte=now - limit):
        disabled += deactivate_account(user=user, by=None, reason="inactive")
    warned_since = AuditEvent.objects.filter(
        action="account.inactivity_warned",
        target_type="eds_portal.user",
        target_id=Cast(OuterRef("pk"), output_field=models.CharField()),
        occurred_at__gte=OuterRef("last_activity"),
    )
    warned = 0
    due = active.filter(
        last_activity__lte=now - limit + warn_before, last_activity__gt=now - limit
    ).exclude(Exists(warned_since))
    for user in due:
        with transaction.atomic():
            record_event(action="account.inactivity_warned", target=user)
            deadline = user.last_activity + limit
            with translation.override(user.language or settings.LANGUAGE_CODE):
                _security_mail(
                    user,
                    _("Your account will be disabled for lack of use"),
                    _(
                        "You have not signed in to %(portal)s for a long time. Unless you sign in "
                        "before %(date)s, your account will be disabled (accounts unused for "
                        "%(days)s days are). Sign in here: %(link)s"
                    )
                    % {
                        "portal": settings.EDS_PORTAL_NAME,
                        "date": date_format(timezone.localtime(deadline), "DATE_FORMAT"),
                        "days": settings.EDS_ACCOUNT_INACTIVE_DAYS,
                        "link": settings.EDS_PUBLIC_URL + reverse("login"),
                    },
                )
        warned += 1
    return {"warned": warned, "disabled": disabled}
