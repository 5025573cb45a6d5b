"""Authentication events and administration-site changes go to the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from eds_portal.audit import record_event
from eds_portal.middleware import client_ip

if TYPE_CHECKING:
    from django.contrib.contenttypes.models import ContentType


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    record_event(action="auth.login", actor=user, target=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record_event(action="auth.logout", actor=user, target=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The typed address is personal data and may be someone else's: keep only the account id
    # when it names a real account (LOG-04).
    username = (credentials or {}).get("username") or ""
    account = get_user_model().objects.filter(email__iexact=username).only("pk").first()
    # The address is kept, although nobody is signed in (other anonymous events keep only a
    # rotating hash): the login form is the staff's door, not a patient's, and guessing a staff
    # password is a security incident whose source may have to be reported within the trail's
    # retention, long after a hash's key is deleted (django-axes keeps it for throttling too).
    record_event(
        action="auth.login_failed",
        target_type="eds_portal.user" if account else "",
        target_id=str(account.pk) if account else "",
        after={"known_account": account is not None},
        ip=client_ip(request) if request is not None else None,
    )


@receiver(post_save, sender=LogEntry)
def audit_admin_change(sender, instance: LogEntry, created: bool, **kwargs):
    if not created:
        return
    content_type = cast("ContentType | None", instance.content_type)
    record_event(
        action="admin.change",
        actor=instance.user,
        target_type=f"{content_type.app_label}.{content_type.model}" if content_type else "",
        target_id=instance.object_id or "",
        after={"flag": instance.action_flag, "change": instance.get_change_message()},
    )
