"""Creates an account with its roles, through the audited action (``create_account``)."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from eds_portal.actions import create_account
from eds_portal.management.accounts import (
    ROLE_NAMES,
    add_grant_arguments,
    add_operator_argument,
    grant_details,
    operator,
    parse_roles,
)
from eds_portal.models import User
from eds_portal.roles import STAFF_ROLES


class Command(BaseCommand):
    help = (
        "Creates a staff account with its roles (audited: account.created, role.granted). The "
        "password is typed twice, or read from standard input with --password-stdin. Staff "
        "roles enrol their second factor at first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", required=True, help="full name")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            dest="roles",
            help=f"a role to grant; repeat for several ({ROLE_NAMES})",
        )
        parser.add_argument("--organisation", default="", help="employer or laboratory")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )
        add_grant_arguments(parser)
        add_operator_argument(parser)

    def _password(self, password_stdin: bool) -> str:
        if password_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise CommandError(
                "No terminal to type the password in: give it on standard input with "
                "--password-stdin."
            )
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ; nothing was created.")
        return first

    def handle(
        self,
        *args,
        email,
        name,
        roles: list[str],
        organisation,
        password_stdin,
        by,
        validated_by,
        until,
        **o,
    ):
        address = User.objects.normalize_email(email.strip()).lower()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not a valid e-mail address.") from exc
        if User.objects.filter(email__iexact=address).exists():
            raise CommandError(f"An account with the address {address} already exists.")
        full_name = " ".join(name.split())
        if not full_name:
            raise CommandError("The full name may not be empty (--name).")
        granted = tuple(parse_roles(roles))
        details = grant_details(granted, validated_by, until)
        actor = operator(by)
        password = self._password(password_stdin)
        if not password:
            raise CommandError("The password may not be empty.")
        candidate = User(email=address, full_name=full_name, organisation=organisation)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        with transaction.atomic():
            user = create_account(
                email=address,
                full_name=full_name,
                password=password,
                roles=granted,
                organisation=organisation.strip(),
                by=actor,
                **details,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {user.email} (id {user.pk}) with the role(s) "
                f"{', '.join(role.value for role in granted)}."
            )
        )
        if set(granted) & STAFF_ROLES:
            self.stdout.write("A second factor (TOTP) will be asked for at the first sign-in.")
