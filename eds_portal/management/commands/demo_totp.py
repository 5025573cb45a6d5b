from base64 import b32encode

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.demo import DEMO_ACCOUNTS


class Command(BaseCommand):
    help = "Prints the current TOTP code (or the key) of a demo account. Development only."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--show-key",
            action="store_true",
            help="print the base32 key to type into an authenticator app",
        )

    def handle(self, *args, email, show_key, **options):
        if settings.PRODUCTION:
            raise CommandError("Not available in production.")
        account = next((a for a in DEMO_ACCOUNTS if a.email == email.lower()), None)
        if account is None:
            raise CommandError(f"{email} is not a demo account.")
        if account.totp_key_hex is not None:
            key = bytes.fromhex(account.totp_key_hex)
        else:
            # A demo researcher enrols on the portal (every download needs a second factor):
            # the key is the one the enrolment page just made, confirmed or not yet.
            device = TOTPDevice.objects.filter(user__email=account.email).order_by("-pk").first()
            if device is None:
                raise CommandError(
                    f"{email} has no second factor yet: open the enrolment page "
                    "(/accounts/two-factor/setup/) first, then ask again."
                )
            key = device.bin_key
        if show_key:
            self.stdout.write(b32encode(key).decode("ascii").rstrip("="))
        else:
            self.stdout.write(f"{totp(key):06d}")
