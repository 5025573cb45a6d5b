"""Serves the demo: the web server, a Celery worker and beat, stopped together by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from eds_portal.demo_oidc import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PORT


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def demo_oidc_environment(environment: dict[str, str], secret_file: Path) -> dict[str, str]:
    """The portal's settings for the demo identity provider, unless providers are configured
    (``EDS_OIDC_PROVIDERS``): one provider "demo", served by ``serve_demo_oidc``, whose first
    sign-in creates a researcher account."""
    if environment.get("EDS_OIDC_PROVIDERS"):
        return {}
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.write_text(DEMO_CLIENT_SECRET + "\n", encoding="utf-8")
    return {
        "EDS_OIDC_PROVIDERS": "demo",
        "EDS_OIDC_DEMO_LABEL": "le fournisseur d'identité de démo",
        "EDS_OIDC_DEMO_ISSUER": f"http://127.0.0.1:{DEMO_PORT}",
        "EDS_OIDC_DEMO_CLIENT_ID": DEMO_CLIENT_ID,
        "EDS_OIDC_DEMO_CLIENT_SECRET_FILE": str(secret_file),
        "EDS_OIDC_DEMO_CREATE_ACCOUNTS": "true",
    }


def public_url_for(addr: str) -> str:
    """The address the demo is served at, for the links in its e-mails ("8001" alone is a port
    on 127.0.0.1, as runserver reads it)."""
    host_port = addr if ":" in addr else f"127.0.0.1:{addr}"
    return f"http://{host_port}"


class Command(BaseCommand):
    help = (
        "Runs the web server, a Celery worker, Celery beat and the demo OpenID Connect provider "
        "until Ctrl-C (development)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-oidc", action="store_true", help="do not serve the demo identity provider"
        )

    def handle(self, *args, addr, no_oidc=False, **options):
        if settings.PRODUCTION:
            raise CommandError("Use gunicorn and separate worker processes in production.")
        if settings.CELERY_BROKER_URL == "filesystem://":
            for folder in ("data_folder_in", "processed_folder", "control_folder"):
                os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[folder], exist_ok=True)
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "eds_portal",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "eds_portal",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        # Links in e-mails (sent by the worker) point where the demo is served, unless the
        # portal's address is configured (EDS_PUBLIC_URL, config.env.sample).
        environment = dict(os.environ)
        if not environment.get("EDS_PUBLIC_URL"):
            environment["EDS_PUBLIC_URL"] = public_url_for(addr)
        # The demo identity provider, unless real providers are configured (README).
        oidc = (
            {}
            if no_oidc
            else demo_oidc_environment(
                environment, Path(settings.BASE_DIR) / "var" / "demo_oidc_client_secret"
            )
        )
        if oidc:
            environment.update(oidc)
            # First, so that it listens before anyone signs in.
            commands = {
                "oidc": [python, "manage.py", "serve_demo_oidc", "--port", str(DEMO_PORT)],
                **commands,
            }
        processes: dict[str, subprocess.Popen] = {}
        # A SIGTERM (from a process manager or `kill`) stops the children like Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(  # noqa: S603
                    command, cwd=settings.BASE_DIR, env=environment
                )
            self.stdout.write(
                self.style.SUCCESS(
                    f"Serving http://{addr}/ with a Celery worker and beat "
                    f"({settings.QUEUE_BACKEND_LABEL} broker). Ctrl-C stops all of them."
                )
            )
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        raise CommandError(
                            f"the {name} process stopped (exit {process.returncode})"
                        )
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
