"""Free-text scrubbing (MIN-05): what identifies a person is replaced by a bracketed marker.

Order matters: e-mail addresses first (they contain names), then the NIR/INS (a phone pattern
would eat part of it), phone numbers, dates, street addresses, postal codes, and last the
person's own names from the vault, in every case and with or without accents. The markers are
data, the same in every language: ``[EMAIL]``, ``[NIR]``, ``[TEL]``, ``[DATE]``, ``[ADRESSE]``,
``[CP]``, ``[NOM]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_MONTHS = (
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|"
    "d[ée]cembre|janv|f[ée]vr?|avr|juil|sept?|oct|nov|d[ée]c"
)
EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
# Sex, year, month (or 20-99 for unknown months), département (2A/2B for Corsica), commune,
# order number, and the 2-digit key; written with or without separators.
NIR = re.compile(
    r"(?<![\w])[1-478][\s.\-]?\d{2}[\s.\-]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.\-]?(?:\d{2}|2[AaBb])"
    r"[\s.\-]?\d{3}[\s.\-]?\d{3}(?:[\s.\-]?\d{2})?(?![\w])"
)
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33[\s.\-]?(?:\(0\))?[\s.\-]?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"
)
DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})(?!\d)"
    rf"|\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\.?\s+\d{{4}}\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{4}}\b",
    re.IGNORECASE,
)
_STREET_KINDS = (
    r"rue|avenue|av\.?|boulevard|bd|impasse|all[ée]e|chemin|ch\.|place|pl\.|route|rte|"
    r"r[ée]sidence|quai|square|cours|chauss[ée]e|lotissement|lot\.|villa|cit[ée]|faubourg|"
    r"passage|sentier|hameau|lieu-dit|voie|esplanade|parvis|rond-point"
)
ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter|quater|[a-d]))?\s*,?\s+(?:{_STREET_KINDS})\b[^,.;:()\n]*",
    re.IGNORECASE,
)
POSTAL_CODE = re.compile(r"(?<![\d\w])(?:0[1-9]|[1-8]\d|9[0-8]|2[AB])\d{3}(?![\d\w])")

# Spaces, hyphens and straight or typographic apostrophes separate the words of a name.
_NAME_SEPARATORS = "[\\s\\-'\u2019]+"
_PARTICLES = {"DE", "DU", "DES", "LA", "LE", "LES", "D", "L", "VAN", "VON", "DI", "DA", "DEL"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for a person's names: each whole name, then each word of 3 letters or more."""
    variants: set[str] = set()
    for entry in names:
        for name in entry.split(","):
            name = " ".join(name.split())
            if not name:
                continue
            for form in (name, _fold(name)):
                variants.add(form)
                for word in re.findall(r"[^\W\d_]+", form):
                    if len(word) >= 3 and word.upper() not in _PARTICLES:
                        variants.add(word)
    if not variants:
        return None
    # Longest first, so that "Jean-Pierre" goes before "Jean"; separators written loosely.
    alternatives = [
        _NAME_SEPARATORS.join(re.escape(part) for part in re.split(_NAME_SEPARATORS, variant))
        for variant in sorted(variants, key=len, reverse=True)
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def scrub(text: str | None, names: re.Pattern[str] | None = None) -> str | None:
    if not text:
        return text
    text = EMAIL.sub("[EMAIL]", text)
    text = NIR.sub("[NIR]", text)
    text = PHONE.sub("[TEL]", text)
    text = DATE.sub("[DATE]", text)
    text = ADDRESS.sub("[ADRESSE]", text)
    text = POSTAL_CODE.sub("[CP]", text)
    if names is not None:
        text = names.sub("[NOM]", text)
        # A name written with accents the vault does not have: match on the folded text, whose
        # positions are the same when folding kept the length.
        folded = _fold(text)
        if folded != text and len(folded) == len(text):
            for match in reversed(list(names.finditer(folded))):
                text = text[: match.start()] + "[NOM]" + text[match.end() :]
    return text
