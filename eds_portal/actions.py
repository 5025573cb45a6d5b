"""Account actions: roles and the second factor. Each one writes its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.audit import record_event
from eds_portal.models import User
from eds_portal.roles import Role


@transaction.atomic
def create_account(
    *,
    email: str,
    full_name: str,
    password: str | None,
    roles: tuple[Role, ...] = (),
    organisation: str = "",
    by: Any = None,
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
        grant_role(user=user, role=role, by=by)
    return user


@transaction.atomic
def grant_role(*, user: User, role: Role, by: Any = None) -> bool:
    """Adds the role; returns False when the user already had it (nothing is written)."""
    group = Group.objects.get(name=role.value)
    if user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.add(group)
    user.forget_roles()
    record_event(action="role.granted", actor=by, target=user, after={"role": role.value})
    return True


@transaction.atomic
def revoke_role(*, user: User, role: Role, by: Any = None) -> bool:
    group = Group.objects.get(name=role.value)
    if not user.groups.filter(pk=group.pk).exists():
        return False
    user.groups.remove(group)
    user.forget_roles()
    record_event(action="role.revoked", actor=by, target=user, before={"role": role.value})
    return True


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
