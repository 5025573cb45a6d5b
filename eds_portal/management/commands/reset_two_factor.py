"""Removes an account's second-factor devices (a lost phone), through the audited action."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from eds_portal.actions import reset_two_factor
from eds_portal.management.accounts import account, add_operator_argument, operator


class Command(BaseCommand):
    help = (
        "Removes every second-factor (TOTP) device of an account (audited: auth.otp_reset); "
        "the person enrols a new one at the next sign-in. Check who is asking first."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        add_operator_argument(parser)

    def handle(self, *args, email, by, **options):
        user = account(email)
        actor = operator(by)
        if actor is not None and actor.pk == user.pk:
            raise CommandError("Nobody resets their own second factor: ask another operator.")
        with transaction.atomic():
            removed = reset_two_factor(user=user, by=actor)
        self.stdout.write(
            f"{user.email}: {removed} device(s) removed; a new one is enrolled at the next sign-in."
        )
