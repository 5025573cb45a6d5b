"""Internal person keys: HMAC-SHA256(warehouse key, normalised identity).

The key is computed from the INS/NIR when there is one, otherwise from the normalised birth
name, first first name, birth date and sex. Normalisation makes the spellings a person or a
call-taker would type map to one key: accents, case, hyphens, apostrophes, leading particles
("de", "d'", "du"...), double spaces, and a used name given instead of, or with, the birth
name ("Martin née Dupont", "Dupont épouse Martin").

The secret comes from settings (``EDS_WAREHOUSE_KEY`` or ``EDS_WAREHOUSE_KEY_FILE``); it is
never written to the database, to SQL text or to logs: ``SecretKey`` hides it from ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Particles dropped when they stand as a separate word at the start of a surname: "de La
# Fontaine" and "La Fontaine" are one name. Articles such as "Le" or "La" are kept, and so is an
# elided "d'": "Le Gall" is also written "Legall", "d'Artagnan" also "Dartagnan".
_LEADING_PARTICLES = {
    "DE",
    "DU",
    "DES",
    "VAN",
    "VON",
    "DI",
    "DA",
    "DEL",
    "DELLA",
    "DOS",
    "DAS",
    "DEI",
    "DEGLI",
    "TEN",
    "TER",
}
# Straight, typographic (right and left), grave, acute and modifier-letter apostrophes.
_APOSTROPHES = re.compile("['\u2019\u2018`\u00b4\u02bc]")
# "Martin née Dupont": the birth name follows; "Dupont épouse Martin": it comes first.
_BIRTH_NAME_AFTER = re.compile(r"\b(?:NEE|NE|NEE\.|NAISSANCE)\b\.?", re.IGNORECASE)
_USED_NAME_AFTER = re.compile(r"\b(?:EPOUSE|EP|EPSE|VEUVE|VVE|DIT|DITE|USAGE)\b\.?", re.IGNORECASE)


class SecretKey:
    """Key bytes that never show up in a repr, a log line or a traceback's locals dump."""

    __slots__ = ("_value", "key_id")

    def __init__(self, value: bytes, key_id: str) -> None:
        if len(value) < 32:
            raise ImproperlyConfigured("A warehouse key needs at least 32 bytes of secret.")
        self._value = value
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"SecretKey(id={self.key_id!r})"

    __str__ = __repr__

    def sign(self, message: str) -> str:
        return hmac.new(self._value, message.encode("utf-8"), hashlib.sha256).hexdigest()


def warehouse_key() -> SecretKey:
    raw = settings.EDS_WAREHOUSE_KEY
    if not raw:
        raise ImproperlyConfigured(
            "EDS_WAREHOUSE_KEY (or EDS_WAREHOUSE_KEY_FILE) is required to compute person keys."
        )
    value = raw.encode("utf-8")
    # The id names the key in manifests and logs without revealing it.
    key_id = "wk-" + hashlib.sha256(b"key-id:" + value).hexdigest()[:12]
    return SecretKey(value, key_id)


def _ascii_upper(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Ligatures that NFKD leaves alone in French names.
    stripped = stripped.replace("Œ", "OE").replace("œ", "oe").replace("Æ", "AE").replace("æ", "ae")
    return stripped.upper()


def _tokens(text: str) -> list[str]:
    return [token for token in re.split(r"[^A-Z]+", _ascii_upper(text)) if token]


def birth_name_of(name: str) -> str:
    """The birth-name part of what was typed ("Martin née Dupont" -> "Dupont")."""
    ascii_name = _ascii_upper(name)
    born = _BIRTH_NAME_AFTER.split(ascii_name, maxsplit=1)
    if len(born) == 2 and born[1].strip():
        return born[1]
    used = _USED_NAME_AFTER.split(ascii_name, maxsplit=1)
    if len(used) == 2 and used[0].strip():
        return used[0]
    return ascii_name


def normalise_surname(name: str) -> str:
    tokens = _tokens(_APOSTROPHES.sub("", birth_name_of(name)))
    while len(tokens) > 1 and tokens[0] in _LEADING_PARTICLES:
        tokens = tokens[1:]
    return "".join(tokens)


def normalise_first_name(first_names: str) -> str:
    """The first first name: commas separate first names, hyphens and spaces join one."""
    first = re.split(r"[,;]", first_names, maxsplit=1)[0]
    return "".join(_tokens(_APOSTROPHES.sub("", first)))


def normalise_sex(sex: str) -> str:
    value = _ascii_upper(sex.strip())[:1]
    if value in {"M", "H", "1"}:
        return "M"
    if value in {"F", "2"}:
        return "F"
    raise ValueError(f"unknown sex {sex!r}: use M or F")


# --- NIR / INS ------------------------------------------------------------------------------


def _nir_number(first13: str) -> int:
    # Corsica: 2A and 2B count as 19 and 18 in the key computation.
    return int(first13.replace("2A", "19").replace("2B", "18"))


def nir_key(first13: str) -> int:
    return 97 - (_nir_number(first13) % 97)


def normalise_nir(nir: str) -> str:
    return re.sub(r"[\s.\-]", "", nir).upper()


@dataclass(frozen=True)
class NirCheck:
    valid: bool
    reason: str = ""


def check_nir(nir: str, *, sex: str | None = None, birth_date: date | None = None) -> NirCheck:
    """Checks the format, the control key and, when given, consistency with sex and birth."""
    value = normalise_nir(nir)
    if not re.fullmatch(r"[1-478]\d{2}(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2A|2B)\d{6}\d{2}", value):
        return NirCheck(False, "format")
    if nir_key(value[:13]) != int(value[13:]):
        return NirCheck(False, "key")
    if sex is not None:
        expected = "1" if normalise_sex(sex) == "M" else "2"
        if value[0] in "12" and value[0] != expected:
            return NirCheck(False, "sex")
    if birth_date is not None:
        if int(value[1:3]) != birth_date.year % 100:
            return NirCheck(False, "birth year")
        month = int(value[3:5])
        if month <= 12 and month != birth_date.month:
            return NirCheck(False, "birth month")
    return NirCheck(True)


# --- The key ----------------------------------------------------------------------------------


def identity_string(
    *, birth_name: str, first_names: str, birth_date: date, sex: str, nir: str = ""
) -> str:
    """The canonical identity that is signed. Never stored, never logged."""
    if nir and check_nir(nir).valid:
        return "NIR:" + normalise_nir(nir)[:13]
    return "|".join(
        [
            "ID",
            normalise_surname(birth_name),
            normalise_first_name(first_names),
            birth_date.isoformat(),
            normalise_sex(sex),
        ]
    )


def person_key(
    *,
    birth_name: str,
    first_names: str,
    birth_date: date,
    sex: str,
    nir: str = "",
    key: SecretKey | None = None,
) -> str:
    """The internal person key (64 hex characters)."""
    identity = identity_string(
        birth_name=birth_name, first_names=first_names, birth_date=birth_date, sex=sex, nir=nir
    )
    return (key or warehouse_key()).sign(identity)
