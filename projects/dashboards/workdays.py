"""Working days: Monday to Friday, French public holidays excepted.

The eleven public holidays of the Labour Code (article L3133-1) for mainland France, the three
movable ones computed from Easter. Alsace-Moselle's two extra days (Good Friday, 26 December)
are not counted: the data office works under the general calendar.

Durations count the working days *after* the start date up to and including the end date, so
a file submitted on a Friday and checked on the next Monday took one working day, and one
checked on the day it arrived took none.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SATURDAY = 5


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter (anonymous algorithm of Meeus, Jones and Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=256)
def french_public_holidays(year: int) -> dict[dt.date, str]:
    """The public holidays of a year, date -> name (names translatable, evaluated lazily)."""
    easter = easter_sunday(year)
    days = {
        dt.date(year, 1, 1): _("New Year's Day"),
        easter + dt.timedelta(days=1): _("Easter Monday"),
        dt.date(year, 5, 1): _("Labour Day"),
        dt.date(year, 5, 8): _("Victory in Europe Day"),
        easter + dt.timedelta(days=39): _("Ascension Day"),
        easter + dt.timedelta(days=50): _("Whit Monday"),
        dt.date(year, 7, 14): _("Bastille Day"),
        dt.date(year, 8, 15): _("Assumption Day"),
        dt.date(year, 11, 1): _("All Saints' Day"),
        dt.date(year, 11, 11): _("Armistice Day"),
        dt.date(year, 12, 25): _("Christmas Day"),
    }
    return dict(sorted(days.items()))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < SATURDAY and day not in french_public_holidays(day.year)


def _weekdays_up_to(day: dt.date) -> int:
    """Mondays to Fridays from an arbitrary fixed Monday (0001-01-01) up to ``day`` included."""
    weeks, rest = divmod(day.toordinal(), 7)
    # Ordinal 1 is a Monday: ``rest`` days of the last partial week, at most five of them.
    return weeks * 5 + min(rest, 5)


def _weekday_holidays_up_to(day: dt.date, since: dt.date) -> int:
    count = 0
    for year in range(since.year, day.year + 1):
        for holiday in french_public_holidays(year):
            if since < holiday <= day and holiday.weekday() < SATURDAY:
                count += 1
    return count


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``; negative if ``end`` is first."""
    if end < start:
        return -working_days_between(end, start)
    weekdays = _weekdays_up_to(end) - _weekdays_up_to(start)
    return weekdays - _weekday_holidays_up_to(end, start)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (a due date); ``days`` >= 0."""
    if days < 0:
        raise ValueError("days must be positive or zero")
    day = start
    while days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def local_date(moment: dt.datetime) -> dt.date:
    """The date in the portal's time zone (Paris), where the office's days begin and end."""
    return timezone.localtime(moment).date()


def working_days_since(start: dt.datetime, end: dt.datetime) -> int:
    return working_days_between(local_date(start), local_date(end))


def calendar_days_since(start: dt.datetime, end: dt.datetime) -> int:
    return (local_date(end) - local_date(start)).days
