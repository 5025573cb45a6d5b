"""Publishes a new version of the confidentiality charter (audited: charter.published).

Every account accepts it at its next sign-in (SEC-05)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from eds_portal.accounts.actions import publish_charter
from eds_portal.management.accounts import add_operator_argument, operator


class Command(BaseCommand):
    help = "Publishes a new version of the confidentiality charter from two text files (FR, EN)."

    def add_arguments(self, parser):
        parser.add_argument("french", type=Path, help="UTF-8 text file, French version")
        parser.add_argument("english", type=Path, help="UTF-8 text file, English version")
        add_operator_argument(parser)

    def handle(self, *args, french: Path, english: Path, by, **options):
        texts = []
        for path in (french, english):
            try:
                text = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
            if not text:
                raise CommandError(f"{path} is empty.")
            texts.append(text)
        charter = publish_charter(text_fr=texts[0], text_en=texts[1], by=operator(by))
        self.stdout.write(f"Charter version {charter.version} published.")
