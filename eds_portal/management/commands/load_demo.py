from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.actions import create_account, grant_role
from eds_portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_VALIDATOR
from eds_portal.models import User
from eds_portal.roles import STAFF_ROLES


class Command(BaseCommand):
    help = "Creates the demo accounts (one per role) and prints how to sign in. Idempotent."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo accounts are never created in production.")
        # Demo staff roles: validated by a fictitious line manager, for a year (SEC-04).
        valid_until = timezone.localdate() + timedelta(days=365)
        with transaction.atomic():
            for account in DEMO_ACCOUNTS:
                user = User.objects.filter(email=account.email).first()
                if user is None:
                    user = create_account(
                        email=account.email,
                        full_name=account.full_name,
                        organisation=account.organisation,
                        password=DEMO_PASSWORD,
                        roles=account.roles,
                        validated_by=DEMO_VALIDATOR,
                        valid_until=valid_until,
                    )
                for role in account.roles:
                    grant_role(
                        user=user,
                        role=role,
                        validated_by=DEMO_VALIDATOR if role in STAFF_ROLES else "",
                        valid_until=valid_until if role in STAFF_ROLES else None,
                    )
                if account.totp_key_hex and not user.totpdevice_set.filter(confirmed=True).exists():
                    TOTPDevice.objects.create(
                        user=user, name="demo", key=account.totp_key_hex, confirmed=True
                    )
        self._print_accounts()

    def _print_accounts(self) -> None:
        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD})"))
        for account in DEMO_ACCOUNTS:
            roles = ", ".join(str(role.label) for role in account.roles)
            out.write(f"  {account.email:<24} {roles}")
        out.write("")
        out.write(
            "Staff accounts (all but the researcher) need a TOTP code after the password.\n"
            "  Current code:   .venv/bin/python manage.py demo_totp secretariat@demo.eds\n"
            "  Or add the key to an authenticator app: "
            ".venv/bin/python manage.py demo_totp --show-key secretariat@demo.eds"
        )
