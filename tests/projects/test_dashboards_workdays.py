"""The working-day calendar: French public holidays, Easter and durations."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projects.dashboards.workdays import (
    add_working_days,
    calendar_days_since,
    easter_sunday,
    french_public_holidays,
    is_working_day,
    working_days_between,
    working_days_since,
)

D = dt.date
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (1818, D(1818, 3, 22)),  # the earliest possible
        (1943, D(1943, 4, 25)),  # the latest possible
        (2000, D(2000, 4, 23)),
        (2008, D(2008, 3, 23)),
        (2019, D(2019, 4, 21)),
        (2024, D(2024, 3, 31)),
        (2025, D(2025, 4, 20)),
        (2026, D(2026, 4, 5)),
        (2027, D(2027, 3, 28)),
        (2038, D(2038, 4, 25)),
    ],
)
def test_easter_sunday(year, easter):
    assert easter_sunday(year) == easter
    assert easter.weekday() == 6


def test_the_eleven_public_holidays_of_2026():
    assert list(french_public_holidays(2026)) == [
        D(2026, 1, 1),
        D(2026, 4, 6),  # Easter Monday
        D(2026, 5, 1),
        D(2026, 5, 8),
        D(2026, 5, 14),  # Ascension
        D(2026, 5, 25),  # Whit Monday
        D(2026, 7, 14),
        D(2026, 8, 15),
        D(2026, 11, 1),
        D(2026, 11, 11),
        D(2026, 12, 25),
    ]


def test_movable_holidays_of_2024_when_may_8_and_ascension_coincide():
    holidays = french_public_holidays(2024)
    assert D(2024, 4, 1) in holidays  # Easter Monday
    assert D(2024, 5, 9) in holidays  # Ascension
    assert D(2024, 5, 20) in holidays  # Whit Monday
    # 2008: Ascension fell on 1 May; the two count once.
    assert len(french_public_holidays(2008)) == 10


def test_working_days_in_2025():
    # 261 weekdays; 1 November is a Saturday, the ten other holidays are weekdays.
    assert working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == 251


def test_weekends_and_holidays_are_not_working_days():
    assert is_working_day(D(2026, 4, 7))  # Tuesday after Easter Monday
    assert not is_working_day(D(2026, 4, 6))  # Easter Monday
    assert not is_working_day(D(2026, 5, 25))  # Whit Monday
    assert not is_working_day(D(2026, 4, 4))  # Saturday
    assert not is_working_day(D(2026, 4, 5))  # Sunday


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (D(2026, 3, 2), D(2026, 3, 2), 0),  # the same day
        (D(2026, 3, 2), D(2026, 3, 3), 1),  # Monday -> Tuesday
        (D(2026, 3, 6), D(2026, 3, 9), 1),  # Friday -> Monday
        (D(2026, 3, 7), D(2026, 3, 9), 1),  # Saturday -> Monday
        (D(2026, 3, 6), D(2026, 3, 8), 0),  # Friday -> Sunday
        (D(2026, 4, 3), D(2026, 4, 7), 1),  # Friday -> Tuesday over Easter Monday
        (D(2026, 5, 13), D(2026, 5, 15), 1),  # over Ascension Thursday
        (D(2025, 12, 24), D(2026, 1, 2), 5),  # over Christmas and New Year
        (D(2026, 3, 9), D(2026, 3, 2), -5),  # backwards
    ],
)
def test_working_days_between(start, end, days):
    assert working_days_between(start, end) == days


def _naive(start: dt.date, end: dt.date) -> int:
    if end < start:
        return -_naive(end, start)
    return sum(
        is_working_day(start + dt.timedelta(days=offset))
        for offset in range(1, (end - start).days + 1)
    )


@given(
    st.dates(min_value=D(1990, 1, 1), max_value=D(2060, 12, 31)),
    st.integers(min_value=-800, max_value=800),
)
def test_the_arithmetic_agrees_with_counting_day_by_day(start, span):
    end = start + dt.timedelta(days=span)
    assert working_days_between(start, end) == _naive(start, end)


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2050, 1, 1)), st.integers(0, 300))
def test_add_working_days_is_the_inverse(start, days):
    due = add_working_days(start, days)
    assert working_days_between(start, due) == days
    assert days == 0 or is_working_day(due)


def test_add_working_days_refuses_negative():
    with pytest.raises(ValueError, match="positive"):
        add_working_days(D(2026, 1, 1), -1)


def test_days_are_counted_in_paris_time(settings):
    # 23:30 UTC on Friday 6 March is already Saturday in Paris: two calendar days to Monday.
    friday_night_utc = dt.datetime(2026, 3, 6, 23, 30, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 3, 9, 9, 0, tzinfo=PARIS)
    assert working_days_since(friday_night_utc, monday) == 1
    assert calendar_days_since(friday_night_utc, monday) == 2
