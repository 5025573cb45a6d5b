"""One unambiguous date format per language (eds_portal/formats): never the American short form
next to a long one in English ("12/04/2026" beside "Dec. 4, 2028")."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from django import forms
from django.template import Context, Template
from django.utils import formats, translation

DAY = date(2026, 12, 4)
MOMENT = datetime(2026, 12, 4, 15, 5)
US_SHORT = re.compile(r"\b(0?[1-9]|1[0-2])/(0?[1-9]|[12]\d|3[01])/\d{2,4}\b")


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [
        ("en", "4 Dec 2026", "4 Dec 2026, 15:05"),
        ("fr", "4 décembre 2026", "4 décembre 2026 à 15:05"),
    ],
)
def test_long_and_short_forms_are_the_same_unambiguous_date(language, day, moment):
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == day
        assert formats.date_format(DAY, "SHORT_DATE_FORMAT") == day
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == moment
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == moment


def test_templates_never_write_an_american_date_in_english():
    page = Template(
        '{{ d|date:"SHORT_DATE_FORMAT" }} · {{ d|date:"DATE_FORMAT" }} · '
        '{{ m|date:"SHORT_DATETIME_FORMAT" }} · {{ m|date:"DATETIME_FORMAT" }} · {{ d|date }}'
    )
    with translation.override("en"):
        text = page.render(Context({"d": DAY, "m": MOMENT}))
    assert not US_SHORT.search(text), text
    assert "Dec." not in text
    assert text.count("4 Dec 2026") == 5


def test_english_forms_read_typed_dates_day_first():
    field = forms.DateField()
    with translation.override("en"):
        assert field.clean("04/12/2026") == DAY  # 4 December, as in French
        assert field.clean("2026-12-04") == DAY
        assert field.clean("4 Dec 2026") == DAY
    with translation.override("fr"):
        assert field.clean("04/12/2026") == DAY
