"""What the account commands share: finding an account, reading roles, the operator.

Every command checks all of its input before it changes anything and then calls the audited
actions of ``eds_portal.actions`` in one transaction: bad input changes nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.management.base import CommandError

from eds_portal.actions import grant_refusals
from eds_portal.models import User
from eds_portal.roles import Role

ROLE_NAMES = ", ".join(role.value for role in Role)


def account(email: str) -> User:
    address = (email or "").strip()
    user = User.objects.filter(email__iexact=address).first() if address else None
    if user is None:
        raise CommandError(f"No account has the e-mail address {address!r}.")
    return user


def parse_roles(values: Iterable[str]) -> list[Role]:
    """The roles named, in order and without repeats; any unknown name refuses them all."""
    found: list[Role] = []
    unknown: list[str] = []
    for value in values:
        name = value.strip().lower()
        try:
            role = Role(name)
        except ValueError:
            unknown.append(value)
            continue
        if role not in found:
            found.append(role)
    if unknown:
        raise CommandError(f"Unknown role(s): {', '.join(unknown)}. Roles: {ROLE_NAMES}.")
    if not found:
        raise CommandError(f"Name at least one role ({ROLE_NAMES}).")
    return found


def operator(email: str | None) -> User | None:
    """The staff member running the command, recorded as the actor of its audit events; the
    system (no actor) when not given."""
    if not email:
        return None
    user = account(email)
    if not user.is_active:
        raise CommandError(f"The operator account {user.email} is deactivated.")
    return user


def add_operator_argument(parser) -> None:
    parser.add_argument(
        "--by",
        metavar="EMAIL",
        help="the account of the person running the command, recorded in the audit trail "
        "(default: the system)",
    )


def add_grant_arguments(parser) -> None:
    parser.add_argument(
        "--validated-by",
        metavar="NAME",
        default="",
        help="the person who validated the grant, usually the holder's line manager "
        "(required for a staff role)",
    )
    parser.add_argument(
        "--until",
        metavar="YYYY-MM-DD",
        default="",
        help="the last day the role applies (required for a staff role)",
    )


def grant_details(roles: Iterable[Role], validated_by: str, until: str) -> dict:
    """The validator and end date, checked for every role before anything changes."""
    valid_until = None
    if until:
        try:
            valid_until = datetime.date.fromisoformat(until.strip())
        except ValueError as exc:
            raise CommandError(f"--until {until!r} is not a date (YYYY-MM-DD).") from exc
    validated_by = " ".join((validated_by or "").split())
    for role in roles:
        reasons = grant_refusals(role, validated_by=validated_by, valid_until=valid_until)
        if reasons:
            raise CommandError(
                f"{role.value}: {' '.join(reasons)} (--validated-by NAME --until YYYY-MM-DD)"
            )
    return {"validated_by": validated_by, "valid_until": valid_until}
