"""When calls come in: a fixed period, seasons, epidemics, and the on-call rhythm.

SOS Médecins works when general practices are closed: evenings, nights, weekends and public
holidays carry most of the activity, and weekday office hours the least. Winter epidemics
(bronchiolitis in December, gastroenteritis around New Year, influenza in late January) add
their own peaks. Times are drawn in local time (Europe/Paris) and stored in UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600
# Acts can end a few days after the last call of the period (follow-ups, late visits).
MARGIN_DAYS = 10


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def public_holidays(year: int) -> frozenset[date]:
    """French public holidays (metropolitan list)."""
    sunday = easter(year)
    return frozenset(
        {
            date(year, 1, 1),
            sunday + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            date(year, 5, 8),
            sunday + timedelta(days=39),  # Ascension
            sunday + timedelta(days=50),  # Whit Monday
            date(year, 7, 14),
            date(year, 8, 15),
            date(year, 11, 1),
            date(year, 11, 11),
            date(year, 12, 25),
        }
    )


def _bump(day_of_year: int, peak: int, width: float) -> float:
    """A yearly Gaussian bump, 1 at its peak; cyclic so December meets January."""
    distance = abs(day_of_year - peak)
    distance = min(distance, 365 - distance)
    return math.exp(-0.5 * (distance / width) ** 2)


@dataclass(frozen=True)
class Season:
    """Epidemic intensities of one day, each between 0 and 1."""

    winter: float
    flu: float
    bronchiolitis: float
    gastro: float
    pollen: float
    summer: float


def season_of(day: date) -> Season:
    doy = day.timetuple().tm_yday
    winter = 0.5 * (1 + math.cos(2 * math.pi * (doy - 20) / 365))
    return Season(
        winter=winter,
        flu=_bump(doy, 32, 15),  # early February
        bronchiolitis=_bump(doy, 345, 20),  # mid-December
        gastro=_bump(doy, 5, 22),  # around New Year
        pollen=_bump(doy, 125, 28),  # May
        summer=1.0 - winter,
    )


def _hours(text: str) -> tuple[float, ...]:
    values = tuple(float(value) for value in text.split())
    if len(values) != 24:
        raise ValueError(f"an hourly table needs 24 values, not {len(values)}")
    return values


# Relative number of calls in each local hour (0 to 23). Weekday office hours are low: the
# patient's own GP is open then.
_HOURLY = {
    "weekday": _hours(
        "1.4 1.1 0.9 0.7 0.6 0.6 0.7 0.8 0.7 0.6 0.6 0.6"
        " 0.7 0.7 0.6 0.6 0.7 0.8 1.2 2.6 3.2 3.0 2.6 1.8"
    ),
    "saturday": _hours(
        "1.8 1.5 1.2 0.9 0.8 0.8 0.9 1.0 1.8 2.6 3.0 3.0"
        " 2.8 3.0 3.2 3.2 3.2 3.2 3.3 3.5 3.6 3.2 2.8 2.2"
    ),
    # Sundays and public holidays.
    "sunday": _hours(
        "1.8 1.5 1.2 0.9 0.8 0.8 0.9 1.2 2.2 3.2 3.6 3.6"
        " 3.2 3.2 3.4 3.4 3.4 3.4 3.4 3.5 3.6 3.2 2.8 2.2"
    ),
}


class Calendar:
    """The hours of a period, each with its weight, local date and season.

    Hours are UTC hours from ``start`` (local midnight of the first day); a timestamp maps back
    to its hour in O(1), which gives local dates without time-zone arithmetic per row.
    """

    def __init__(self, first_day: date, last_day: date) -> None:
        self.first_day = first_day
        self.last_day = last_day
        start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=PARIS)
        self.start_ts = int(start.timestamp())
        after = last_day + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=PARIS)
        self.hours = (int(end.timestamp()) - self.start_ts) // HOUR
        holidays: set[date] = set()
        for year in range(first_day.year, last_day.year + 2):
            holidays |= public_holidays(year)
        self.local_dates: list[date] = []
        self.local_hours: list[int] = []
        seasons: dict[date, Season] = {}
        self.seasons: list[Season] = []
        weights = []
        total_hours = self.hours + MARGIN_DAYS * 24
        for index in range(total_hours):
            local = datetime.fromtimestamp(self.start_ts + index * HOUR, UTC).astimezone(PARIS)
            day = local.date()
            if day not in seasons:
                seasons[day] = season_of(day)
            season = seasons[day]
            weekday = day.weekday()
            if day in holidays or weekday == 6:
                kind = "sunday"
            elif weekday == 5:
                kind = "saturday"
            else:
                kind = "weekday"
            self.local_dates.append(day)
            self.local_hours.append(local.hour)
            self.seasons.append(season)
            if index < self.hours:
                volume = (
                    1.0
                    + 0.25 * season.winter
                    + 0.35 * season.flu
                    + 0.3 * season.bronchiolitis
                    + 0.2 * season.gastro
                )
                weights.append(volume * _HOURLY[kind][local.hour])
        self.cumulative = tuple(accumulate(weights))
        self.end_ts = self.start_ts + self.hours * HOUR

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def hour_of(self, ts: int) -> int:
        return (ts - self.start_ts) // HOUR

    def local_date(self, ts: int) -> date:
        return self.local_dates[(ts - self.start_ts) // HOUR]


def utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
