"""Codes typed by people (cohort criteria): is each one a code at all, and does the warehouse
use it?

Two different mistakes deserve two different messages: "Q9X" is not an ICD-10 code (a typing
error, or a code of another system), while "Q99.9" is one that the warehouse's code list does
not hold (no episode can carry it). Each entry is a code or the beginning of one ("R7" stands for
every code that starts with it), so the formats below accept the beginnings of valid codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# The beginning of a code, or a whole code, of each code system.
PREFIX_FORMATS = {
    # ICPC-2: one of the 17 chapter letters, then a two-digit component (R78).
    "ICPC2": re.compile(r"[ABDFHKLNPRSTUWXYZ]\d{0,2}"),
    # ICD-10: a letter, two digits, then a dot and one or two more characters (J06.9, S52.50).
    "ICD10": re.compile(r"[A-Z](?:\d{0,2}|\d{2}\.[0-9A-Z]{0,2})"),
    # ATC: anatomical group, therapeutic subgroup (2 digits), two letters, two digits (N02BE01).
    "ATC": re.compile(r"[ABCDGHJLMNPRSV](?:\d{1,2}|\d{2}[A-Z]{1,2}|\d{2}[A-Z]{2}\d{1,2})?"),
}
SYSTEM_NAMES = {"ICPC2": _("ICPC-2"), "ICD10": _("ICD-10"), "ATC": "ATC"}
EXAMPLES = {"ICPC2": "R78", "ICD10": "J06.9", "ATC": "N02BE01"}
_ICD10_WITHOUT_DOT = re.compile(r"([A-Z]\d{2})(\d{1,2})")


def normalise(vocabulary: str, entry: str) -> str:
    """Upper case, without the trailing "*"; an ICD-10 code typed without its dot gets it
    (J069 is written J06.9 in the code list)."""
    entry = entry.strip().upper().rstrip("*")
    if vocabulary == "ICD10":
        match = _ICD10_WITHOUT_DOT.fullmatch(entry)
        if match:
            entry = f"{match.group(1)}.{match.group(2)}"
    return entry


def is_well_formed(vocabulary: str, entry: str) -> bool:
    """True when ``entry`` (normalised) is a code of the system or the beginning of one."""
    pattern = PREFIX_FORMATS.get(vocabulary)
    return pattern is None or bool(pattern.fullmatch(entry))


@dataclass(frozen=True)
class CodeCheck:
    """The entries of a criterion sorted out: kept, not codes of the system, or not used."""

    codes: tuple[str, ...] = ()
    malformed: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


def check_codes(vocabulary: str, entries: Iterable[str], known: Iterable[str]) -> CodeCheck:
    """Sorts the entries out against the format of ``vocabulary`` and the ``known`` codes
    (the warehouse's code list for that system)."""
    known = tuple(known)
    codes, malformed, absent = [], [], []
    for entry in dict.fromkeys(normalise(vocabulary, entry) for entry in entries):
        if not entry:
            continue
        if not is_well_formed(vocabulary, entry):
            malformed.append(entry)
        elif not any(code.startswith(entry) for code in known):
            absent.append(entry)
        else:
            codes.append(entry)
    return CodeCheck(tuple(codes), tuple(malformed), tuple(absent))


def malformed_message(vocabulary: str, entries: Iterable[str]) -> str:
    return str(
        _("Not a valid %(system)s code: %(codes)s (a code is written like %(example)s).")
        % {
            "system": SYSTEM_NAMES.get(vocabulary, vocabulary),
            "codes": ", ".join(entries),
            "example": EXAMPLES.get(vocabulary, ""),
        }
    )


def absent_message(vocabulary: str, entries: Iterable[str]) -> str:
    return str(
        _(
            "Not present in the warehouse: no %(system)s code of the warehouse starts with "
            "%(codes)s."
        )
        % {"system": SYSTEM_NAMES.get(vocabulary, vocabulary), "codes": ", ".join(entries)}
    )
