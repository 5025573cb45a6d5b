"""Serves the demo's OpenID Connect provider (``eds_portal.demo_oidc``) until Ctrl-C.

``serve_demo`` (``make run``) starts it and points the portal's "demo" provider at it, so that
"Sign in with the demo provider" on the login page signs in a demo researcher through the real
protocol (discovery, authorization code with PKCE, signed ID token). Development only.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eds_portal.demo_oidc import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PERSON,
    DEMO_PORT,
    MiniProvider,
)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = (
        "Serves the demo OpenID Connect provider on a local port (development only): every "
        "sign-in through it is the demo person's."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=DEMO_PORT)

    def handle(self, *args, host: str, port: int, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo identity provider never runs in production.")
        try:
            provider = MiniProvider(
                client_id=DEMO_CLIENT_ID,
                client_secret=DEMO_CLIENT_SECRET,
                host=host,
                port=port,
                claims=DEMO_PERSON,
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}") from exc
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo OpenID Connect provider at {provider.issuer} (client {DEMO_CLIENT_ID}); "
                f"it signs in {DEMO_PERSON['name']} <{DEMO_PERSON['email']}>. Ctrl-C stops it."
            )
        )
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            provider.stop()
