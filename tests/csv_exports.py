"""Reading the portal's CSV exports (eds_portal.exports) in tests: UTF-8 with a BOM, and the
separator of the language (``;`` in French, the portal's language)."""

from __future__ import annotations

import csv
import io


def export_text(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    text = raw.decode("utf-8")
    assert text.startswith("\ufeff"), "an export starts with a byte order mark"
    return text[1:]


def read_csv(response, *, separator: str = ";") -> list[list[str]]:
    return list(csv.reader(io.StringIO(export_text(response)), delimiter=separator))


def read_csv_dicts(response, *, separator: str = ";") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export_text(response)), delimiter=separator))
