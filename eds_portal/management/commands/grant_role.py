"""Grants roles to an account, through the audited action (``grant_role``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from eds_portal.actions import grant_role
from eds_portal.management.accounts import (
    ROLE_NAMES,
    account,
    add_grant_arguments,
    add_operator_argument,
    grant_details,
    operator,
    parse_roles,
)


class Command(BaseCommand):
    help = (
        "Grants one or more roles to an account (audited: role.granted), or renews them with a "
        "new validator or end date (role.renewed). A staff role needs --validated-by (the line "
        f"manager) and --until (its last day). Roles: {ROLE_NAMES}."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("roles", nargs="+", metavar="role")
        add_grant_arguments(parser)
        add_operator_argument(parser)

    def handle(self, *args, email, roles: list[str], by, validated_by, until, **options):
        user = account(email)
        wanted = parse_roles(roles)
        details = grant_details(wanted, validated_by, until)
        actor = operator(by)
        if not user.is_active:
            raise CommandError(f"{user.email} is deactivated: no role is granted.")
        with transaction.atomic():
            changed = [
                role for role in wanted if grant_role(user=user, role=role, by=actor, **details)
            ]
        for role in wanted:
            state = "granted or renewed" if role in changed else "already held"
            self.stdout.write(f"{user.email}: {role.value} {state}.")
