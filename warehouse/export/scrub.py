"""Free-text scrubbing (MIN-05): what identifies a person is replaced by a bracketed marker.

Order matters: e-mail addresses first (they contain names), then the NIR/INS (a phone pattern
would eat part of it), phone numbers, dates, street addresses, postal codes (in an address
context only: "25000 UI", "GB 15000" stay), times of day, ages, and the person's own names from
the vault, in every case and with or without accents; last, ``warehouse.deid.pipeline`` (edsnlp)
for other people's names, doctors', towns and dates in words (docs/deid.md). The
markers are data, the same in every language: ``[EMAIL]``, ``[NIR]``, ``[TEL]``, ``[DATE]``,
``[ADRESSE]``, ``[CP]``, ``[HEURE]``, ``[AGE]``, ``[NOM]``, and the generalised ages
``[45-49 ans]``, ``[90 ans et plus]``, ``[moins d'un an]``, ``[1 an]``.

Ages and times of day follow the approved precision of the structured variables (a
``TextPolicy``), so that a note never tells more than the columns delivered beside it:

- Ages follow ``person.birth_date``. ``year`` (or ``exact``): ages in whole years stay as
  written; an age in months, weeks or days, or with a decimal, becomes whole years
  (``3 mois`` -> ``[moins d'un an]``, ``18 mois`` -> ``[1 an]``), since a birth year does not
  give the month. ``five_year_band``: every age becomes its band (``47 ans`` -> ``[45-49 ans]``,
  ``3 semaines`` -> ``[0-4 ans]``). Not approved: ``[AGE]``. Under any approval an age of 90 or
  more becomes ``[90 ans et plus]``.
- Times of day follow the finest approved timestamp: ``shifted_minute`` keeps them (seconds
  dropped), ``shifted_hour`` drops the minutes (``14h32``, ``14:32`` -> ``14h``), anything
  coarser or nothing gives ``[HEURE]``. Words (``ce matin``, ``cette nuit``) stay.
- A day and month without a year (``4 mai``, ``le 4/05``, ``04/05``) is a ``[DATE]`` like a full
  date; blood pressures, scores and doses (``TA 14/9``, ``7/10``, ``1/2 cp``) are not.
- Dates follow the finest approved shifted date (``DatePrecision``) when the row has a person:
  given a ``DateShift`` (the person's shift, the note's own day), a date becomes the shifted day
  ``[2026-06-01]``, its ISO week ``[2026-W23]`` or its month ``[2026-06]``, as the columns beside
  it; a date that cannot be read, a birth date or a date far from the note stays ``[DATE]``
  (``date_marker``).

Durations are clinical and stay: an hour count or a number of years, months, weeks or days
after ``depuis``, ``il y a``, ``pendant``, ``sous``, ``toutes les``... or before ``de`` (``2h
de marche``, ``10 ans de diabète``). After ``depuis``, an hour from 13 to 23 (``depuis 14h``) is
read as a time of day, 12 or less (``depuis 2h``) as a duration. Without such a cue a number of
hours up to 23 is taken for a time of day and a number of years for an age: when in doubt, the
note loses a figure rather than a person's privacy. The short ``a`` for ``ans`` (``47a``,
``47 a``) is an age only after an age cue (``pt``, ``Mme``, ``F``, ``H``, ``âgée de``, ``de``...),
so ``Bat 47a`` or ``digicode 12a`` stay. Months and weeks are an age with a person (``nourrisson
de 3 mois``, ``NRS 18 mois``) or alone in their clause (``Appel de la mère, 3 mois.``), days only
with a person; ``enceinte de 3 mois`` is not an age. Not recognised: numbers in words (``deux
ans``), and minutes set apart from an unspaced hour (``14h 32`` keeps its 32 under the hour).
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

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
# A day and a month without the year: in words ("4 mai", "1er sept") always a date; in figures
# ("04/05", "le 4/5") only when the context says so (see _day_month).
DAY_MONTH = re.compile(rf"\b\d{{1,2}}(?:er)?\s?(?:{_MONTHS})\b", re.IGNORECASE)
_DAY_MONTH_FIGURES = re.compile(
    r"(?<![\w.,/\-:\[+])(?P<day>\d{1,2})(?P<sep>[/.\-])(?P<month>\d{1,2})(?![\d/])(?![.,\-]\d)"
)
_STREET_KINDS = (
    r"rue|avenue|av\.?|boulevard|bd|impasse|all[ée]e|chemin|ch\.|place|pl\.|route|rte|"
    r"r[ée]sidence|quai|square|cours|chauss[ée]e|lotissement|lot\.|villa|cit[ée]|faubourg|"
    r"passage|sentier|hameau|lieu-dit|voie|esplanade|parvis|rond-point"
)
ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?:\s?(?:bis|ter|quater|[a-d]))?\s*,?\s+(?:{_STREET_KINDS})\b(?!\s*\d)"
    r"[^,.;:()\n]*",
    re.IGNORECASE,
)
# Not a dose or a count ("25000 UI", "12000/mm3"); only in an address context (_postal_code).
POSTAL_CODE = re.compile(
    r"(?<![\d\w])(?:0[1-9]|[1-8]\d|9[0-8]|2[AB])\d{3}(?![\d\w])"
    r"(?!\s*(?:[/%\u20ac]|(?i:ui|u|unites?|mg|\u00b5g|mcg|g|ml|l|mm3|cp)\b))"
)
# "14h32", "14 h 32", "14h", "3 heures", "14:32", "14:32:10". Not after a letter, a digit, a
# decimal mark, a slash or a plus ("q6h", "1g/6h", "H+6h"): those are frequencies and delays.
# Minutes are apart from the "h" only if the hour is ("14 h 32"): in "14h 47" the 47 is not
# read as minutes, or "14h" + " 47" (an hour kept, then a figure) would read as 14:47 again.
CLOCK = re.compile(
    r"(?<![\w.,:/+])"
    r"(?:(?P<hour>\d{1,2})(?P<gap>\s?)(?:heures?|hrs?|h)"
    r"(?:(?P=gap)?(?P<minute>[0-5]\d)(?!\d)(?:\s?(?:min|mn)(?![^\W_]))?)?(?![^\W_])"
    r"|(?P<chour>\d{1,2}):(?P<cminute>[0-5]\d)(?P<seconds>:[0-5]\d)?(?![\d:]))",
    re.IGNORECASE,
)
# A number of years, months, weeks or days, or a range of them ("45-50 ans"); "a" for "ans"
# ("47a", "47 a") only after an age cue, and not in a range ("de 2 a 3 cp").
AGE = re.compile(
    r"(?<![\w.,/\-:\[+])"
    r"(?P<low>\d{1,3}(?:[.,]\d)?)(?:\s?-\s?(?P<high>\d{1,3}))?\s?"
    r"(?P<unit>ans?|a(?!\s*\d)|mois|semaines?|sem|jours?|jrs?|j)(?![^\W_]|['\u2019])",
    re.IGNORECASE,
)

# Spaces, hyphens and straight or typographic apostrophes separate the words of a name.
_NAME_SEPARATORS = "[\\s\\-'\u2019]+"
_PARTICLES = {"DE", "DU", "DES", "LA", "LE", "LES", "D", "L", "VAN", "VON", "DI", "DA", "DEL"}

# Context is read on the folded, lower-cased text just before and after a match.
_WINDOW = 40
_QUANTITY = (
    r"(?:(?:env\.?|environ|approx\.?|plus\s+de|\+\s*de|moins\s+de|pres\s+de|presque|"
    r"au\s+moins|au\s+plus|~|<|>|\+)\s*)?"
)
_DURATION_WORDS = (
    r"depuis|dep|dps|dp|il\s+y\s+a|il\s+ya|y\s+a|ya|pendant|pdt|durant|dans|en|pour|"
    r"toute?s?\s+les|ttes\s+les|ts\s+les|tous\s+les|x|au\s+bout\s+de|d'ici"
)
_SINCE = re.compile(r"(?:depuis|dep|dps|dp)\b")
_TIME_DURATION_BEFORE = re.compile(rf"(?:^|[^\w'])(?P<cue>{_DURATION_WORDS}|sous)\s*{_QUANTITY}$")
_TIME_CUE_BEFORE = re.compile(
    r"(?:^|[^\w'])(?:a|vers|vs|des|entre|jusqu'a|jusqu'?\s*a|le|hier|appel|rappel)\s*:?\s*$"
)
_CLOCK_AFTER = re.compile(
    r"\s*(?:du\s+(?:matin|soir)|de\s+l'\s*apres[\s-]?midi|de\s+la\s+nuit|ce\s+(?:matin|soir)|"
    r"cette\s+nuit|hier)\b"
)
_DURATION_AFTER = re.compile(
    r"\s*(?:de\b|d'|apres\b|plus\s+tard|avant\b|auparavant|post\b|/|par\s+j)"
)
_AGE_DURATION_BEFORE = re.compile(
    rf"(?:^|[^\w'])(?:{_DURATION_WORDS}|sur|avant|apres|jusqu'a|jusqu'?\s*a)\s*{_QUANTITY}$"
)
_AGE_DURATION_AFTER = re.compile(r"\s*(?:de\b|d'|auparavant|plus\s+tot|plus\s+tard|avant\b)")
# Who the age is of: a title, a person, a sex letter ("F 47a"), "age", "de" ("agee de 91 ans").
_PERSON = (
    r"pte?|patiente?|mr|m\.|mme|mlle|monsieur|madame|enfant|enft|enf|nourrisson|nrs|bebe|bb|"
    r"nne|nouveau-nee?|nouveau\s+nee?|fille|fils|garcon|homme|femme|petite?|"
    r"agee?|age|f|h|\[nom\]"
)
_PERSON_CUE = re.compile(rf"(?:^|[^\w'])(?:{_PERSON})\.?\s*[:,]?\s*(?:de\s+|d')?$")
_OF_CUE = re.compile(r"(?:^|[^\w'])(?:de\s+|d')$")
# An age standing alone as a clause: "Appel de la mere, 3 mois. Fievre."
_CLAUSE_START = re.compile(r"(?:^|[,;.(:\-])\s*$")
_CLAUSE_END = re.compile(r"\s*(?:[,;.):\-]|$)")
_DATE_CUE_BEFORE = re.compile(
    r"(?:^|[^\w'])(?:le|du|au|jusqu'au|ddn|date|nee?|lundi|mardi|mercredi|jeudi|vendredi|"
    r"samedi|dimanche|lun|mer|jeu|ven|sam|dim|rdv)\s*:?\s*$"
)
_SCORE_CUE_BEFORE = re.compile(
    r"(?:^|[^\w'])(?:ta|pa|tas|tad|tension|eva|ens|evs|score|glasgow|gcs|cotee?|notee?|"
    r"apgar|souffle|av|ratio)\s*:?\s*(?:a\s+)?$"
)
_ADDRESS_CUE_BEFORE = re.compile(
    r"(?:\[adresse\][^.;\n]{0,12}|(?:adresse|domicile|domicilie|habite|demeurant|cp|"
    r"code\s+postal|residence|commune|ville)\b[^.;\n]{0,25})$"
)
_TOWN_AFTER = re.compile(
    r"\s+(?:[A-Z\u00c0-\u00dd][a-z\u00e0-\u00ff]{2,}|[A-Z\u00c0-\u00dd]{3,}\b(?!\s*\d))"
)
_UNIT_AFTER = re.compile(
    r"\s*(?:cp|cpr|comp|comprimes?|gel|gelules?|sach|sachets?|amp|ampoules?|ml|mg|µg|mcg|g|ui|"
    r"u|doses?|gouttes?|gtt|mm|cm|kg|l|mmhg|pts?|points?|min|j|jours?|h|fois|x|sem|semaines?|"
    r"mois|ans?)\b|\s*%"
)


class AgePrecision(enum.Enum):
    NONE = "none"
    """Birth date not approved: every age is ``[AGE]``."""
    BAND = "band"
    """Birth date as a 5-year band: an age becomes its band."""
    YEAR = "year"
    """Birth year (or date) approved: ages in whole years stay, under 90."""


class DatePrecision(enum.Enum):
    NONE = "none"
    """No shifted date approved (or no shift for this row): every date is ``[DATE]``."""
    DAY = "day"
    """A shifted day (or hour, or minute) approved: a date becomes ``[2026-06-01]``."""
    WEEK = "week"
    """Only ISO weeks approved: a date becomes the week of the shifted day, ``[2026-W23]``."""
    MONTH = "month"
    """Only months approved: a date becomes the month of the shifted day, ``[2026-06]``."""


class TimePrecision(enum.Enum):
    NONE = "none"
    """No timestamp finer than the day: every time of day is ``[HEURE]``."""
    HOUR = "hour"
    """A timestamp to the hour: minutes dropped."""
    MINUTE = "minute"
    """A timestamp to the minute: times of day stay."""


@dataclass(frozen=True)
class TextPolicy:
    """How precise ages and times of day may be in scrubbed text; the default is the strictest."""

    age: AgePrecision = AgePrecision.NONE
    time: TimePrecision = TimePrecision.NONE
    date: DatePrecision = DatePrecision.NONE

    @classmethod
    def from_generalisations(cls, approved: Mapping[str, str]) -> TextPolicy:
        """From {variable code: generalisation} of the approved specification.

        Only ``shifted_hour`` and ``shifted_minute`` put a time of day in a column, whichever
        timestamp variable carries them, so the finest of them decides.
        """
        birth = approved.get("person.birth_date")
        if birth in ("year", "exact"):
            age = AgePrecision.YEAR
        elif birth == "five_year_band":
            age = AgePrecision.BAND
        else:
            age = AgePrecision.NONE
        values = set(approved.values())
        if "shifted_minute" in values:
            time = TimePrecision.MINUTE
        elif "shifted_hour" in values:
            time = TimePrecision.HOUR
        else:
            time = TimePrecision.NONE
        # Dates in the text: the finest shifted date of a column, as its columns give it.
        if values & {"shifted_date", "shifted_hour", "shifted_minute"}:
            day = DatePrecision.DAY
        elif "week" in values:
            day = DatePrecision.WEEK
        elif "month" in values:
            day = DatePrecision.MONTH
        else:
            day = DatePrecision.NONE
        return cls(age=age, time=time, date=day)


STRICTEST = TextPolicy()


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _before(match: re.Match[str]) -> str:
    start = match.start()
    return _fold(match.string[max(0, start - _WINDOW) : start]).lower().replace("\u2019", "'")


def _after(match: re.Match[str]) -> str:
    end = match.end()
    return _fold(match.string[end : end + _WINDOW]).lower().replace("\u2019", "'")


def _day_month(match: re.Match[str], dated: DateMarker | None = None) -> str:
    dated = dated or _placeholder
    day, month = int(match["day"]), int(match["month"])
    if not (1 <= day <= 31 and 1 <= month <= 12) or _UNIT_AFTER.match(_after(match)):
        return match[0]
    before = _before(match)
    if _SCORE_CUE_BEFORE.search(before):
        return match[0]
    if _DATE_CUE_BEFORE.search(before):
        return dated(match[0], before)
    # Without a cue, only a leading zero ("04/05") says date: "7/10" is a score, "1/2" a half.
    padded = match["day"].startswith("0") or match["month"].startswith("0")
    return dated(match[0], before) if padded and match["sep"] == "/" else match[0]


# --- Dates shifted like the columns ----------------------------------------------------------

_MONTH_NUMBERS = (
    ("janv", 1),
    ("fev", 2),
    ("mars", 3),
    ("avr", 4),
    ("mai", 5),
    ("juin", 6),
    ("juil", 7),
    ("aou", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
)
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})")
_FIGURES_DATE = re.compile(
    r"(?P<day>\d{1,2})[/.\-](?P<month>\d{1,2})(?:[/.\-](?P<year>\d{4}|\d{2}))?(?!\d)"
)
_WORDS_DATE = re.compile(
    rf"(?P<day>\d{{1,2}})(?:er)?\s*(?P<month>{_MONTHS})\.?(?:\s+(?P<year>\d{{4}}))?",
    re.IGNORECASE,
)
_DAY_ONLY = re.compile(r"^\s*(?P<day>\d{1,2})(?:er)?\s*$", re.IGNORECASE)
# A birth date keeps its placeholder: shifted, it would give the age to the day, finer than the
# birth year (or band) the commission approved.
_BIRTH_CUE = re.compile(
    r"(?:^|[^\w'])(?:ddn|dn|naissance|nee?|n\.e\.?)\s*(?:le\b)?\s*:?\s*(?:le\s*)?$"
)
# Farther from the note's own day than this, a date is more likely a birth date or an old event
# that dates the person than a step of the episode: it stays a placeholder.
SHIFT_HORIZON_DAYS = 366


@dataclass(frozen=True)
class DateShift:
    """The row's person's date shift (days) and the note's own day, which gives a date written
    without its year ("4 mai", "04/05") or without its month ("le 4") the nearest such day."""

    days: int
    reference: date


def _month_number(word: str) -> int | None:
    folded = _fold(word).lower().rstrip(".")
    for prefix, number in _MONTH_NUMBERS:
        if folded.startswith(prefix):
            return number
    return None


def _nearest(candidates: Iterable[tuple[int, int, int]], reference: date) -> date | None:
    days = []
    for year, month, day in candidates:
        try:
            days.append(date(year, month, day))
        except ValueError:
            continue
    if not days:
        return None
    return min(days, key=lambda candidate: (abs((candidate - reference).days), candidate))


def parse_text_date(piece: str, reference: date) -> date | None:
    """The day a date written in a note stands for, or None when it cannot be told.

    A full date is read as written (two-digit years in the century that puts them at most a
    year after the note); a day and a month take the year that puts them nearest the note's
    day; a day alone ("le 4") the month that does. A month without a day ("mai 2026") is None.
    """
    found = _ISO_DATE.search(piece)
    if found:
        return _nearest([(int(found["year"]), int(found["month"]), int(found["day"]))], reference)
    found = _WORDS_DATE.search(piece)
    month: int | None
    if found:
        month = _month_number(found["month"])
        year = found["year"]
    else:
        found = _FIGURES_DATE.search(piece)
        if found:
            month = int(found["month"])
            year = found["year"]
            if year is not None and len(year) == 2:
                century = 2000 if int(year) <= (reference.year + 1) % 100 else 1900
                year = str(century + int(year))
        else:
            found = _DAY_ONLY.match(piece)
            if not found:
                return None
            day = int(found["day"])
            months = []
            for offset in (-1, 0, 1):
                index = reference.year * 12 + reference.month - 1 + offset
                months.append((index // 12, index % 12 + 1, day))
            return _nearest(months, reference)
    if month is None or not 1 <= month <= 12:
        return None
    day = int(found["day"])
    if year is not None:
        return _nearest([(int(year), month, day)], reference)
    return _nearest([(reference.year + offset, month, day) for offset in (-1, 0, 1)], reference)


def _shifted_marker(day: date, precision: DatePrecision) -> str:
    if precision is DatePrecision.WEEK:
        year, week, _weekday = day.isocalendar()
        return f"[{year}-W{week:02d}]"
    if precision is DatePrecision.MONTH:
        return f"[{day.year}-{day.month:02d}]"
    return f"[{day.isoformat()}]"


DateMarker = Callable[[str, str], str]


def _placeholder(piece: str, before: str) -> str:
    return "[DATE]"


def _date_match(match: re.Match[str], dated: DateMarker) -> str:
    text, start, end = match.string, match.start(), match.end()
    if text[start - 1 : start] == "[" and text[end : end + 1] == "]":
        return match[0]  # a shifted date already: scrubbing twice changes nothing
    return dated(match[0], _before(match))


def date_marker(policy: TextPolicy, shift: DateShift | None) -> DateMarker:
    """What a date found in a note becomes: ``[DATE]``, or the shifted date at the approved
    precision when the row has a shift (a person) and a day. Called with the date as written
    and the folded, lower-cased text before it."""
    if shift is None or policy.date is DatePrecision.NONE:
        return _placeholder

    def marker(piece: str, before: str) -> str:
        if _BIRTH_CUE.search(before):
            return "[DATE]"
        day = parse_text_date(piece, shift.reference)
        if day is None or abs((day - shift.reference).days) > SHIFT_HORIZON_DAYS:
            return "[DATE]"
        try:
            return _shifted_marker(day + timedelta(days=shift.days), policy.date)
        except OverflowError:  # before year 1 or after 9999: no real note
            return "[DATE]"

    return marker


def _postal_code(match: re.Match[str]) -> str:
    # "GB 15000", "CK 25000", "lot 12345" are counts and codes: a postal code follows an
    # address or an address word, or comes before a town's capitalised name.
    if _ADDRESS_CUE_BEFORE.search(_before(match)) or _TOWN_AFTER.match(
        match.string[match.end() : match.end() + _WINDOW]
    ):
        return "[CP]"
    return match[0]


def _is_time_of_day(match: re.Match[str]) -> bool:
    hour = int(match["hour"] or match["chour"])
    if hour > 23:
        return False
    before = _before(match)
    if match["chour"] is not None:
        # "1:10" is a dilution more often than ten past one.
        return len(match["chour"]) == 2 or bool(_TIME_CUE_BEFORE.search(before))
    after = _after(match)
    if _CLOCK_AFTER.match(after):
        return True
    duration = _TIME_DURATION_BEFORE.search(before)
    if duration:
        return bool(_SINCE.match(duration["cue"])) and hour >= 13
    if _TIME_CUE_BEFORE.search(before):
        return True
    return not _DURATION_AFTER.match(after)


def _clock(match: re.Match[str], policy: TextPolicy) -> str:
    if not _is_time_of_day(match):
        return match[0]
    if policy.time is TimePrecision.MINUTE:
        seconds = match["seconds"]
        return match[0][: -len(seconds)] if seconds else match[0]
    if policy.time is TimePrecision.HOUR:
        if match["minute"] is None and match["chour"] is None:
            return match[0]
        return f"{match['hour'] or match['chour']}h"
    return "[HEURE]"


def _in_years(number: str, unit: str) -> int:
    value = float(number.replace(",", "."))
    if unit.startswith("m"):
        value /= 12
    elif unit.startswith("s"):
        value = value * 7 / 365.25
    elif unit.startswith("j"):
        value /= 365.25
    return math.floor(value)


def _years(value: int) -> str:
    if value == 0:
        return "[moins d'un an]"
    return "[1 an]" if value == 1 else f"[{value} ans]"


def _is_age(match: re.Match[str]) -> bool:
    unit = match["unit"].lower()
    before = _before(match)
    if _PERSON_CUE.search(before):
        return True
    if unit == "a":
        return bool(_OF_CUE.search(before))
    if _AGE_DURATION_BEFORE.search(before):
        return False
    if unit.startswith("an"):
        return not _AGE_DURATION_AFTER.match(_after(match))
    # Months and weeks alone in their clause are the age of the call-taker's summary; days
    # ("fievre, 3 jours") never are without a person.
    return (
        not unit.startswith("j")
        and bool(_CLAUSE_START.search(before))
        and bool(_CLAUSE_END.match(_after(match)))
    )


def _age(match: re.Match[str], policy: TextPolicy) -> str:
    unit = match["unit"].lower()
    low = _in_years(match["low"], unit)
    high = _in_years(match["high"], unit) if match["high"] else low
    if high < low or high > 120 or not _is_age(match):
        return match[0]
    if policy.age is AgePrecision.NONE:
        return "[AGE]"
    if low >= 90:
        return "[90 ans et plus]"
    if policy.age is AgePrecision.YEAR:
        if high >= 90:
            return f"[{low} ans et plus]"
        whole = unit.startswith("a") and match["low"].isdigit()
        if whole:
            return match[0]
        return _years(low) if low == high else f"[{low}-{high} ans]"
    band = low // 5 * 5
    if high >= 90:
        return f"[{band} ans et plus]"
    return f"[{band}-{high // 5 * 5 + 4} ans]"


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


def scrub(
    text: str | None,
    names: re.Pattern[str] | None = None,
    policy: TextPolicy | None = None,
    *,
    doctors: Iterable[str] = (),
    entities: bool = True,
    shift: DateShift | None = None,
) -> str | None:
    """The note without what identifies: the patterns above, then ``warehouse.deid.pipeline``
    (names of anyone after a title or kinship word, first names, ``doctors``' names, towns,
    dates in words) unless ``entities`` is false.

    Dates become ``[DATE]``; with ``shift`` (the person's date shift and the note's day) and a
    policy that approves shifted dates, they become the shifted date at the approved precision
    (``date_marker``), so that a note and the columns beside it keep the same gaps."""
    if not text:
        return text
    policy = policy or STRICTEST
    dated = date_marker(policy, shift)
    text = EMAIL.sub("[EMAIL]", text)
    text = NIR.sub("[NIR]", text)
    text = PHONE.sub("[TEL]", text)
    text = DATE.sub(lambda match: _date_match(match, dated), text)
    text = DAY_MONTH.sub(lambda match: _date_match(match, dated), text)
    text = _DAY_MONTH_FIGURES.sub(lambda match: _day_month(match, dated), text)
    text = ADDRESS.sub("[ADRESSE]", text)
    text = POSTAL_CODE.sub(_postal_code, text)
    text = CLOCK.sub(lambda match: _clock(match, policy), text)
    text = AGE.sub(lambda match: _age(match, policy), text)
    if names is not None:
        text = names.sub("[NOM]", text)
        # A name written with accents the vault does not have: match on the folded text, whose
        # positions are the same when folding kept the length.
        folded = _fold(text)
        if folded != text and len(folded) == len(text):
            for match in reversed(list(names.finditer(folded))):
                text = text[: match.start()] + "[NOM]" + text[match.end() :]
    if entities:
        # Relatives', third parties' and doctors' names, towns, dates in words (edsnlp).
        from warehouse.deid.pipeline import pipeline

        text = pipeline(doctors).apply(text, None if dated is _placeholder else dated)
    if names is not None or entities:
        # A name now a marker is a person cue: "DUPONT Jeanne 93a" is "[NOM] [NOM] 93a".
        text = AGE.sub(lambda match: _age(match, policy), text)
    return text


# --- What was replaced, counted (the manifest's residual-risk note) ----------------------------

MARKER_KINDS = (
    "NOM",
    "TEL",
    "EMAIL",
    "NIR",
    "ADRESSE",
    "CP",
    "VILLE",
    "DATE",
    "HEURE",
    "AGE",
    "ID",
)
_COUNTED = re.compile(
    r"\[(?:(?P<kind>" + "|".join(MARKER_KINDS) + r")"
    r"|(?P<shifted>\d{4}-(?:\d{2}-\d{2}|W\d{2}|\d{2}))"
    r"|(?P<age>\d{1,3}(?:-\d{1,3})? ans(?: et plus)?|moins d'un an|1 an))\]"
)


def replaced_kinds(original: str, scrubbed: str) -> Counter[str]:
    """The markers ``scrubbed`` holds that ``original`` did not, by kind: the marker's name,
    ``DATE_SHIFTED`` for a date replaced by its shifted value, ``AGE`` for a generalised age."""

    def kinds(text: str) -> Counter[str]:
        found: Counter[str] = Counter()
        for match in _COUNTED.finditer(text):
            if match["kind"]:
                found[match["kind"]] += 1
            elif match["shifted"]:
                found["DATE_SHIFTED"] += 1
            else:
                found["AGE"] += 1
        return found

    return kinds(scrubbed) - kinds(original)


class ScrubCounts:
    """Texts scrubbed and identifiers replaced per kind, over a run (counts, never text)."""

    def __init__(self) -> None:
        self.texts = 0
        self.changed = 0
        self.kinds: Counter[str] = Counter()

    def add(self, original: str, scrubbed: str | None) -> None:
        self.texts += 1
        if scrubbed != original:
            self.changed += 1
        self.kinds.update(replaced_kinds(original, scrubbed or ""))

    def as_dict(self) -> dict[str, object]:
        return {
            "texts": self.texts,
            "texts_changed": self.changed,
            "identifiers": dict(sorted(self.kinds.items())),
        }
