"""Account actions: roles and the second factor. Each one writes its audit event."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.audit import record_event
from eds_portal.models import RoleGrant, User
from eds_portal.roles import STAFF_ROLES, Role


class GrantRefused(ValueError):
    """A staff role asked for without the person who validated it or a valid end date."""


def grant_refusals(
    role: Role, *, validated_by: str, valid_until: datetime.date | None
) -> list[str]:
    """Why this grant cannot be written: a staff role names who validated it (the holder's line
    manager) and the last day it applies, which may not be past (SEC-04)."""
    if role not in STAFF_ROLES:
        return []
    reasons = []
    if not validated_by.strip():
        reasons.append(
            str(_("A staff role needs the name of the person who validated it (line manager)."))
        )
    if valid_until is None:
        reasons.append(str(_("A staff role needs an end date.")))
    elif valid_until < timezone.localdate():
        reasons.append(str(_("The end date may not be in the past.")))
    return reasons


@transaction.atomic
def create_account(
    *,
    email: str,
    full_name: str,
    password: str | None,
    roles: tuple[Role, ...] = (),
    organisation: str = "",
    by: Any = None,
    validated_by: str = "",
    valid_until: datetime.date | None = None,
) -> User:
    user = User.objects.create_user(
        email=email, password=password, full_name=full_name, organisation=organisation
    )
    record_event(
        action="account.created",
        actor=by,
        target=user,
        after={"roles": sorted(role.value for role in roles)},
    )
    for role in roles:
        grant_role(user=user, role=role, by=by, validated_by=validated_by, valid_until=valid_until)
    return user


@transaction.atomic
def grant_role(
    *,
    user: User,
    role: Role,
    by: Any = None,
    validated_by: str = "",
    valid_until: datetime.date | None = None,
) -> bool:
    """Adds the role, recording who validated it and until when (``RoleGrant``).

    A staff role needs both (``GrantRefused`` otherwise). For a role already held: a new
    validator or end date renews the grant (``role.renewed``); without them, or with the same
    ones, nothing is written and False is returned.
    """
    validated_by = " ".join(validated_by.split())
    group = Group.objects.get(name=role.value)
    held = user.groups.filter(pk=group.pk).exists()
    record = RoleGrant.objects.filter(user=user, role=role.value).first()
    if held and (
        (not validated_by and valid_until is None)
        or (
            record is not None
            and (record.validated_by, record.valid_until) == (validated_by, valid_until)
        )
    ):
        return False
    reasons = grant_refusals(role, validated_by=validated_by, valid_until=valid_until)
    if reasons:
        raise GrantRefused(" ".join(reasons))
    details = {
        "role": role.value,
        "validated_by": validated_by,
        "valid_until": valid_until.isoformat() if valid_until else None,
    }
    RoleGrant.objects.update_or_create(
        user=user,
        role=role.value,
        defaults={
            "validated_by": validated_by,
            "valid_until": valid_until,
            "granted_by": by if getattr(by, "pk", None) else None,
            "granted_at": timezone.now(),
        },
    )
    user.forget_roles()
    if held:
        before = (
            {
                "role": role.value,
                "validated_by": record.validated_by,
                "valid_until": record.valid_until.isoformat() if record.valid_until else None,
            }
            if record is not None
            else {"role": role.value}
        )
        record_event(action="role.renewed", actor=by, target=user, before=before, after=details)
        return True
    user.groups.add(group)
    record_event(action="role.granted", actor=by, target=user, after=details)
    return True


@transaction.atomic
def revoke_role(*, user: User, role: Role, by: Any = None) -> bool:
    group = Group.objects.get(name=role.value)
    if not user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.remove(group)
    RoleGrant.objects.filter(user=user, role=role.value).delete()
    user.forget_roles()
    record_event(action="role.revoked", actor=by, target=user, before={"role": role.value})
    return True


def expire_role_grants(*, today: datetime.date | None = None) -> int:
    """Revokes every role whose grant ended before ``today`` (nightly), one ``role.expired``
    event each, by the system. ``User.roles`` already ignores them from the day after their end
    date: this makes the groups, the admin and the access review say so too."""
    today = today or timezone.localdate()
    expired = 0
    for grant in RoleGrant.objects.filter(valid_until__lt=today).select_related("user"):
        with transaction.atomic():
            locked = RoleGrant.objects.select_for_update().filter(pk=grant.pk).first()
            if locked is None:
                continue
            group = Group.objects.filter(name=locked.role).first()
            if group is not None:
                grant.user.groups.remove(group)
            locked.delete()
            grant.user.forget_roles()
            record_event(
                action="role.expired",
                target=grant.user,
                before={
                    "role": grant.role,
                    "validated_by": grant.validated_by,
                    "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
                },
            )
            expired += 1
    return expired


def pending_totp_device(*, user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled, created on first call; one per user."""
    device = user.totpdevice_set.filter(confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


@transaction.atomic
def confirm_totp_device(*, device: TOTPDevice, by: User) -> None:
    """The first correct code confirms the device; older devices of the user are removed."""
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_event(
        action="auth.otp_enrolled",
        actor=by,
        target=device.user,
        after={"device": device.persistent_id},
    )


@transaction.atomic
def reset_two_factor(*, user: User, by: Any) -> int:
    """Removes every device (lost phone); the user enrols again at next login."""
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    record_event(action="auth.otp_reset", actor=by, target=user, after={"devices_removed": count})
    return count


def set_preferred_language(*, user: User, language: str) -> bool:
    """The language the user reads the portal in, for what reaches them away from a page
    (notifications, e-mails). Not audited: a preference, not a right or a state."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    if user.language == language:
        return False
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return True
