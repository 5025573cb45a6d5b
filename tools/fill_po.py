"""Fills msgstr entries of a .po file (made with makemessages --no-wrap) from a JSON mapping.

Usage: python tools/fill_po.py locale/fr/LC_MESSAGES/django.po translations.json
The JSON maps a msgid to its translation, or to [singular, plural] for plural entries; an entry
with a context is keyed "context\u0004msgid".
Entries it fills lose their fuzzy flag; entries it does not know are left as they are.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _unquote(line: str) -> str:
    return json.loads(line[line.index('"') :])


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def fill(po_path: Path, translations: dict) -> int:
    blocks = po_path.read_text(encoding="utf-8").split("\n\n")
    filled = 0
    for index, block in enumerate(blocks):
        lines = block.split("\n")
        start = next((i for i, line in enumerate(lines) if line.startswith("msgid ")), None)
        if start is None:
            continue
        # A msgid holding line breaks spans several quoted lines.
        msgid = _unquote(lines[start])
        end = start + 1
        while end < len(lines) and lines[end].startswith('"'):
            msgid += _unquote(lines[end])
            end += 1
        # An entry with a context is keyed "context\x04msgid" (gettext's own convention), so
        # that "Open" (a session) and "Open" (a list filter) keep their own translations.
        context = next((_unquote(line) for line in lines if line.startswith("msgctxt ")), None)
        if context is not None:
            msgid = f"{context}\x04{msgid}"
        if not msgid or msgid not in translations:
            continue
        value = translations[msgid]
        out = []
        skipping_continuation = False
        for line in lines:
            if skipping_continuation and line.startswith('"'):
                continue
            skipping_continuation = False
            if line.startswith("#, "):
                flags = [flag.strip() for flag in line[3:].split(",") if flag.strip() != "fuzzy"]
                if flags:
                    out.append("#, " + ", ".join(flags))
                continue
            if line.startswith("#| "):
                continue
            if line.startswith("msgstr "):
                out.append("msgstr " + _quote(value))
                skipping_continuation = True
            elif line.startswith("msgstr[0]"):
                out.append("msgstr[0] " + _quote(value[0]))
                skipping_continuation = True
            elif line.startswith("msgstr[1]"):
                out.append("msgstr[1] " + _quote(value[1]))
                skipping_continuation = True
            else:
                out.append(line)
        blocks[index] = "\n".join(out)
        filled += 1
    po_path.write_text("\n\n".join(blocks), encoding="utf-8")
    return filled


if __name__ == "__main__":
    count = fill(Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
    print(f"{count} entries filled")
