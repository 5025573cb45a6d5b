"""Serves the demo: the web server, a Celery worker and beat, stopped together by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Runs the web server, a Celery worker and Celery beat until Ctrl-C (development)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
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
        processes: dict[str, subprocess.Popen] = {}
        # A SIGTERM (from a process manager or `kill`) stops the children like Ctrl-C does.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR)  # noqa: S603
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
