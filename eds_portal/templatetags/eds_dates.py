"""Dates as the reader's language writes them (eds_portal/formats), whatever they come as."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def day(value):
    """A date, a datetime or an ISO date text ("2026-12-04", as snapshots keep them) in the
    language's date format ("4 décembre 2026", "4 Dec 2026"); anything else as it is."""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    elif isinstance(value, str) and value:
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    return value
