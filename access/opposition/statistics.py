"""Counts of objections for the activity report (OPP-15, GOV-17): by scope, channel and
whether the answer met its deadline. Counts only: no identity, no receipt number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Min
from django.utils import timezone

from access.models import Channel, Kind, OppositionRequest, Scope


@dataclass(frozen=True)
class DelayCounts:
    met: int
    missed: int
    pending: int
    overdue: int


@dataclass(frozen=True)
class OppositionStatistics:
    year: int
    total: int
    withdrawals: int
    by_scope: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    delay: DelayCounts


def opposition_statistics(year: int, *, today: date | None = None) -> OppositionStatistics:
    """Objections received during ``year`` (withdrawals counted apart)."""
    today = today or timezone.localdate()
    received = OppositionRequest.objects.filter(received_at__year=year)
    objections = list(
        received.filter(kind=Kind.OBJECTION)
        .annotate(first_answer=Min("answers__sent_at"))
        .only("scope", "channel", "received_at", "extension_months", "suspended_days")
    )
    by_scope = dict.fromkeys(Scope.values, 0)
    by_channel = dict.fromkeys(Channel.values, 0)
    met = missed = pending = overdue = 0
    for request in objections:
        by_scope[request.scope] += 1
        by_channel[request.channel] += 1
        due = request.computed_due_on()
        if request.first_answer is not None:
            if timezone.localdate(request.first_answer) <= due:
                met += 1
            else:
                missed += 1
        elif today > due:
            overdue += 1
        else:
            pending += 1
    return OppositionStatistics(
        year=year,
        total=len(objections),
        withdrawals=received.filter(kind=Kind.WITHDRAWAL).count(),
        by_scope=[(Scope(value).label, count) for value, count in by_scope.items()],
        by_channel=[(Channel(value).label, count) for value, count in by_channel.items()],
        delay=DelayCounts(met=met, missed=missed, pending=pending, overdue=overdue),
    )
