"""Named output checkers (MIN-09): besides the data office's staff (secretariat, data steward),
the secretariat names the persons who check outputs, by giving an existing account the role
OUTPUT_CHECKER, and ends a naming by taking the role back. The role only admits them to the
checkers' queue: on each output, ``access.outputs.may_check`` keeps out the project's team and
anyone conflicted, as for the commission's reviewers. ``grant_role`` and ``revoke_role`` write
the audit events."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from access.outputs.actions import OutputRefused
from eds_portal.actions import GrantRefused, grant_role, revoke_role
from eds_portal.authz import Permission, has_permission
from eds_portal.models import RoleGrant, User
from eds_portal.roles import Role


def named_checkers() -> QuerySet[User]:
    return (
        User.objects.filter(groups__name=Role.OUTPUT_CHECKER.value, is_active=True)
        .order_by("full_name", "email")
        .distinct()
    )


def checker_grants() -> dict[int, RoleGrant]:
    """Who validated each naming and until when, by user id (SEC-04)."""
    return {
        grant.user_id: grant for grant in RoleGrant.objects.filter(role=Role.OUTPUT_CHECKER.value)
    }


def name_output_checker(
    *, email: str, by: Any, validated_by: str, valid_until: datetime.date | None
) -> User:
    """Gives the role to an existing account, with who validated it and until when (a staff
    role: ``grant_role`` refuses it without them)."""
    if not has_permission(by, Permission.NAME_OUTPUT_CHECKERS):
        raise OutputRefused(_("Only the data office names output checkers."))
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise OutputRefused(_("No active account has this address: invite the person first."))
    if user.groups.filter(name=Role.OUTPUT_CHECKER.value).exists():
        raise OutputRefused(_("This person is already an output checker."))
    try:
        grant_role(
            user=user,
            role=Role.OUTPUT_CHECKER,
            by=by,
            validated_by=validated_by,
            valid_until=valid_until,
        )
    except GrantRefused as refused:
        raise OutputRefused(str(refused)) from refused
    return user


def end_output_checker(*, user: User, by: Any) -> None:
    if not has_permission(by, Permission.NAME_OUTPUT_CHECKERS):
        raise OutputRefused(_("Only the data office names output checkers."))
    if not revoke_role(user=user, role=Role.OUTPUT_CHECKER, by=by):
        raise OutputRefused(_("This person is not an output checker."))
