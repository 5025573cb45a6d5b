"""Geometry of the server-rendered SVG bar chart (no JavaScript: the CSP allows no inline script).

The template draws what this computes; colours are SVG presentation attributes, not inline
styles, and both series contrast at least 4.5:1 with the white background (WCAG 1.4.11).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats

from projects.dashboards.selectors import MonthDurations

WIDTH = 760
HEIGHT = 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 40, 64
CALENDAR_COLOUR = "#6b6b6b"
WORKING_COLOUR = "#0b3d91"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    value: float


@dataclass(frozen=True)
class Slot:
    label: str
    label_x: float
    bars: list[Bar]
    count: int
    empty: bool


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    top: int
    plot_bottom: float
    plot_right: float
    label_y: float
    slots: list[Slot]
    ticks: list[Tick]
    calendar_colour: str = CALENDAR_COLOUR
    working_colour: str = WORKING_COLOUR


def _nice_ceiling(value: float) -> int:
    """A round upper bound for the axis: 5, 10, 20, 50, 100, 200..."""
    bound = 5
    while bound < value:
        bound = bound * 5 // 2 if str(bound).startswith("2") else bound * 2
    return bound


def month_label(month) -> str:
    return formats.date_format(month, "m/Y")


def durations_chart(months: list[MonthDurations]) -> BarChart:
    plot_bottom = HEIGHT - BOTTOM
    plot_right = WIDTH - RIGHT
    plot_height = plot_bottom - TOP
    peak = max(
        (max(m.median_calendar_days or 0, m.median_working_days or 0) for m in months),
        default=0,
    )
    top_value = _nice_ceiling(peak)
    slot_width = (plot_right - LEFT) / max(len(months), 1)
    bar_width = min(24.0, slot_width * 0.35)

    def y_of(value: float) -> float:
        return plot_bottom - plot_height * value / top_value

    slots = []
    for index, month in enumerate(months):
        centre = LEFT + slot_width * (index + 0.5)
        bars = []
        for offset, value, colour in (
            (-bar_width, month.median_calendar_days, CALENDAR_COLOUR),
            (0.0, month.median_working_days, WORKING_COLOUR),
        ):
            if value is None:
                continue
            top = y_of(value)
            bars.append(
                Bar(
                    x=round(centre + offset, 1),
                    y=round(top, 1),
                    width=round(bar_width, 1),
                    height=round(plot_bottom - top, 1),
                    colour=colour,
                    value=value,
                )
            )
        slots.append(
            Slot(
                label=month_label(month.month),
                label_x=round(centre, 1),
                bars=bars,
                count=month.count,
                empty=month.count == 0,
            )
        )
    # Five intervals of a bound that is at least 5 and 1, 2 or 5 times ten: whole numbers.
    ticks = [Tick(value=top_value * i // 5, y=round(y_of(top_value * i / 5), 1)) for i in range(6)]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        plot_bottom=plot_bottom,
        plot_right=plot_right,
        label_y=plot_bottom + 14,
        slots=slots,
        ticks=ticks,
    )
