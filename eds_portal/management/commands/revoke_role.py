"""Revokes roles of an account, through the audited action (``revoke_role``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from eds_portal.actions import revoke_role
from eds_portal.management.accounts import (
    ROLE_NAMES,
    account,
    add_operator_argument,
    operator,
    parse_roles,
)


class Command(BaseCommand):
    help = (
        "Revokes one or more roles of an account (audited: role.revoked); access through them "
        f"ends at once. Roles: {ROLE_NAMES}."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("roles", nargs="+", metavar="role")
        add_operator_argument(parser)

    def handle(self, *args, email, roles: list[str], by, **options):
        user = account(email)
        unwanted = parse_roles(roles)
        actor = operator(by)
        with transaction.atomic():
            changed = [role for role in unwanted if revoke_role(user=user, role=role, by=actor)]
        for role in unwanted:
            state = "revoked" if role in changed else "was not held"
            self.stdout.write(f"{user.email}: {role.value} {state}.")
