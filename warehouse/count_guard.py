"""The guard against differencing of feasibility counts, their log and the daily budget (MIN-11).

Perturbation (``warehouse.disclosure``) makes one count imprecise, but a small group can still
be computed as the difference of two larger counts, and noise can be averaged away. So every
count is logged here (who, when, the criteria, the true figures, what was shown) and, before a
new count is shown, it is compared with every count shown to ANYONE in the last
``EDS_FEASIBILITY_WINDOW_DAYS`` days (colluding users are one attacker):

- **same criteria**: if the true figure moved by less than the threshold since an earlier
  answer (new data, a new objection), that answer is given back (consistency: asking again
  teaches nothing); otherwise a fresh figure is computed.
- **pairs** (rules "nested" and "close"): refused when the person (or episode) sets of the two
  counts differ by 1 to threshold - 1 members. "Nested": the effective boxes are included in one
  another (each dimension a subset: period and age intervals, sex, kinds of care, care sites,
  code prefixes), so the true difference is exact. "Close": the sketches (members counted by
  record key modulo 64) differ by 1 to threshold - 1 in total, which catches pairs whose
  criteria are not nested (a dimension padded with a région that holds nobody).
- **splits and squares** (rules "split" and "square"): a count A minus up to ``MAX_PARTS``
  disjoint parts of it, and the inclusion-exclusion square A - B - C + D with B and C inside A
  and D inside both, refused when the combination of true figures is 1 to threshold - 1. Found
  through the boxes: up to ``MAX_CANDIDATES`` most recent boxes on each side of the new count,
  ``MAX_WHOLES`` wholes when the new count is a part, ``PARTITION_NODES`` combinations tried.

The effective box of a count is what its matching episodes really span: the care sites, kinds
of care and sexes present, the first and last day and the lowest and highest age, and the
criteria's code prefixes. Padding a criterion with an empty region does not change it, and a
box included in another always selects a subset of its episodes.

What stays open (README, "Feasibility counts: disclosure control"): other combinations of
signed counts (inclusion-exclusion in three dimensions, eight counts; a whole minus more than
``MAX_PARTS`` parts), squares padded in the code dimension, searches cut short by the limits
above; against those the noise and the rounding are the only protection, and the budget limits
how often they can be tried. A refusal itself tells that some earlier count is close.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import combinations
from typing import Any, cast

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from warehouse.disclosure import Measure
from warehouse.models import CountOutcome, FeasibilityCountLog

ALIAS = "warehouse"
# Boxes on each side of a new count that the split and square search looks at (most recent).
MAX_CANDIDATES = 300
# A group as a whole minus up to MAX_PARTS disjoint parts: the wholes looked at (most recent)
# when the new count is a part, and the combinations tried for each before giving up.
MAX_PARTS = 6
MAX_WHOLES = 60
PARTITION_NODES = 20_000
# One guard at a time: two colluding counts must not pass because each missed the other.
_LOCK_KEY = 0x45445346  # "EDSF"
MEASURES = ("persons", "visits")


def criteria_hash(criteria: dict[str, Any]) -> str:
    canonical = json.dumps(criteria, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- Boxes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    sites: frozenset[int]
    kinds: frozenset[int]
    sexes: frozenset[int]
    days: tuple[int, int]
    ages: tuple[int, int]
    icpc2: tuple[str, ...] | None
    icd10: tuple[str, ...] | None

    def as_json(self) -> dict[str, Any]:
        return {
            "sites": sorted(self.sites),
            "kinds": sorted(self.kinds),
            "sexes": sorted(self.sexes),
            "days": list(self.days),
            "ages": list(self.ages),
            "icpc2": list(self.icpc2) if self.icpc2 is not None else None,
            "icd10": list(self.icd10) if self.icd10 is not None else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Box | None:
        if not data:
            return None
        return cls(
            sites=frozenset(data["sites"]),
            kinds=frozenset(data["kinds"]),
            sexes=frozenset(data["sexes"]),
            days=tuple(data["days"]),
            ages=tuple(data["ages"]),
            icpc2=tuple(data["icpc2"]) if data["icpc2"] is not None else None,
            icd10=tuple(data["icd10"]) if data["icd10"] is not None else None,
        )


def box_of(criteria: dict[str, Any], measured: Measure) -> Box | None:
    """The effective box of a count; None when nothing matched (inside every box)."""
    if measured.visits == 0 or measured.days is None or measured.ages is None:
        return None
    return Box(
        sites=measured.sites,
        kinds=measured.kinds,
        sexes=measured.sexes,
        days=measured.days,
        ages=measured.ages,
        icpc2=tuple(sorted(criteria.get("icpc2_codes") or ())) or None,
        icd10=tuple(sorted(criteria.get("icd10_codes") or ())) or None,
    )


def _codes_within(inner: tuple[str, ...] | None, outer: tuple[str, ...] | None) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return all(any(code.startswith(prefix) for prefix in outer) for code in inner)


def contains(outer: Box | None, inner: Box | None) -> bool:
    """Every episode that ``inner`` selects, ``outer`` selects too."""
    if inner is None:
        return True
    if outer is None:
        return False
    return (
        inner.sites <= outer.sites
        and inner.kinds <= outer.kinds
        and inner.sexes <= outer.sexes
        and outer.days[0] <= inner.days[0]
        and inner.days[1] <= outer.days[1]
        and outer.ages[0] <= inner.ages[0]
        and inner.ages[1] <= outer.ages[1]
        and _codes_within(inner.icpc2, outer.icpc2)
        and _codes_within(inner.icd10, outer.icd10)
    )


def disjoint(first: Box | None, second: Box | None) -> bool:
    """No episode is in both (codes never prove it: an episode can carry several)."""
    if first is None or second is None:
        return True
    return (
        not first.sites & second.sites
        or not first.kinds & second.kinds
        or not first.sexes & second.sexes
        or first.days[1] < second.days[0]
        or second.days[1] < first.days[0]
        or first.ages[1] < second.ages[0]
        or second.ages[1] < first.ages[0]
    )


# --- The window -----------------------------------------------------------------------------


@dataclass
class Entry:
    """A count shown in the window, as the guard sees it."""

    pk: int
    criteria_hash: str
    persons: int
    visits: int
    persons_fresh: bool
    visits_fresh: bool
    person_sketch: list[int]
    visit_sketch: list[int]
    box: Box | None
    shown_persons: str
    shown_visits: str

    def count(self, measure: str) -> int:
        return self.persons if measure == "persons" else self.visits

    def fresh(self, measure: str) -> bool:
        return self.persons_fresh if measure == "persons" else self.visits_fresh

    def sketch(self, measure: str) -> list[int]:
        return self.person_sketch if measure == "persons" else self.visit_sketch

    def shown(self, measure: str) -> str:
        return self.shown_persons if measure == "persons" else self.shown_visits


def window_entries(now: datetime | None = None) -> list[Entry]:
    now = now or timezone.now()
    since = now - timedelta(days=settings.EDS_FEASIBILITY_WINDOW_DAYS)
    rows = (
        FeasibilityCountLog.objects.using(ALIAS)
        .filter(counted_at__gte=since, outcome=CountOutcome.SHOWN)
        .order_by("pk")
        .values_list(
            "pk",
            "criteria_hash",
            "persons",
            "visits",
            "persons_fresh",
            "visits_fresh",
            "person_sketch",
            "visit_sketch",
            "box",
            "shown_persons",
            "shown_visits",
        )
    )
    return [
        Entry(
            pk=pk,
            criteria_hash=digest,
            # A shown count has both (a check constraint of FeasibilityCountLog).
            persons=cast(int, persons),
            visits=cast(int, visits),
            persons_fresh=persons_fresh,
            visits_fresh=visits_fresh,
            person_sketch=person_sketch or [],
            visit_sketch=visit_sketch or [],
            box=Box.from_json(box),
            shown_persons=shown_persons,
            shown_visits=shown_visits,
        )
        for (
            pk,
            digest,
            persons,
            visits,
            persons_fresh,
            visits_fresh,
            person_sketch,
            visit_sketch,
            box,
            shown_persons,
            shown_visits,
        ) in rows
    ]


# --- The decision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A new count, measured, with the figures it would show if fresh."""

    criteria_hash: str
    measured: Measure
    box: Box | None
    shown_persons: str
    shown_visits: str

    def count(self, measure: str) -> int:
        return self.measured.persons if measure == "persons" else self.measured.visits

    def sketch(self, measure: str) -> list[int]:
        m = self.measured
        return m.person_sketch if measure == "persons" else m.visit_sketch

    def shown(self, measure: str) -> str:
        return self.shown_persons if measure == "persons" else self.shown_visits


@dataclass
class Decision:
    outcome: CountOutcome
    rule: str = ""
    related: tuple[int, ...] = ()
    shown_persons: str = ""
    shown_visits: str = ""
    persons_fresh: bool = False
    visits_fresh: bool = False


def _small(value: int, threshold: int) -> bool:
    return 1 <= value <= threshold - 1


def _distance(first: list[int], second: list[int]) -> int | None:
    if not first or not second or len(first) != len(second):
        return None
    return sum(abs(a - b) for a, b in zip(first, second, strict=True))


def _pairs(
    new: Candidate, others: list[Entry], measure: str, threshold: int
) -> tuple[str, tuple[int, ...]] | None:
    count = new.count(measure)
    sketch = new.sketch(measure)
    for entry in others:
        difference = abs(count - entry.count(measure))
        if difference >= threshold:
            continue  # the sets differ by at least that many members
        if max(count, entry.count(measure)) < threshold:
            continue  # neither shows a figure ("0" or masked): nothing to subtract
        if _small(difference, threshold) and (
            contains(entry.box, new.box) or contains(new.box, entry.box)
        ):
            return "nested", (entry.pk,)
        distance = _distance(sketch, entry.sketch(measure))
        if distance is not None and _small(distance, threshold):
            return "close", (entry.pk,)
    return None


def _by_count(entries: list[Entry], measure: str) -> dict[int, list[Entry]]:
    index: dict[int, list[Entry]] = {}
    for entry in entries:
        index.setdefault(entry.count(measure), []).append(entry)
    return index


def _in_range(index: dict[int, list[Entry]], low: int, high: int):
    for value in range(max(low, 0), high + 1):
        yield from index.get(value, ())


class _SearchBudget(Exception):
    """The partition search looked at PARTITION_NODES combinations without an answer."""


def _disjoint_parts(
    pieces: list[Entry], measure: str, low: int, high: int, fixed: Box | None
) -> tuple[int, ...] | None:
    """Up to MAX_PARTS pairwise disjoint pieces (disjoint from ``fixed`` too) whose counts add
    up to between ``low`` and ``high``; depth-first, largest first, within a node budget."""
    pieces = sorted(pieces, key=lambda e: e.count(measure), reverse=True)
    counts = [e.count(measure) for e in pieces]
    remaining = [0] * (len(pieces) + 1)
    for i in range(len(pieces) - 1, -1, -1):
        remaining[i] = remaining[i + 1] + counts[i]
    nodes = 0

    def search(start: int, total: int, chosen: list[Entry]) -> tuple[int, ...] | None:
        nonlocal nodes
        nodes += 1
        if nodes > PARTITION_NODES:
            raise _SearchBudget
        if chosen and low <= total <= high:
            return tuple(e.pk for e in chosen)
        if len(chosen) == MAX_PARTS:
            return None
        for i in range(start, len(pieces)):
            if total + remaining[i] < low:
                return None  # even every smaller piece would not reach it
            if total + counts[i] > high:
                continue
            piece = pieces[i]
            if disjoint(piece.box, fixed) and all(disjoint(piece.box, e.box) for e in chosen):
                found = search(i + 1, total + counts[i], [*chosen, piece])
                if found:
                    return found
        return None

    try:
        return search(0, 0, [])
    except _SearchBudget:
        return None


def _combinations(
    new: Candidate, others: list[Entry], measure: str, threshold: int
) -> tuple[str, tuple[int, ...]] | None:
    """Partitions (A minus disjoint parts of A) and squares (A - B - C + D)."""
    box, n = new.box, new.count(measure)
    supersets = [e for e in others if contains(e.box, box)][-MAX_CANDIDATES:]
    subsets = [e for e in others if contains(box, e.box)][-MAX_CANDIDATES:]
    index = _by_count(others, measure)
    top = threshold - 1

    # Only a figure can be subtracted from: when A is masked, so are all its parts.
    if n >= threshold:
        # The new count is A: some of its disjoint parts leave a small group.
        pieces = [e for e in subsets if 0 < e.count(measure) < n and e.box != box]
        found = _disjoint_parts(pieces, measure, n - top, n - 1, None)
        if found:
            return "split", found
        # ... or the square A - B - C + D.
        for b, c in combinations(subsets, 2):
            base = b.count(measure) + c.count(measure) - n
            for d in _in_range(index, base + 1, base + top):
                if d.pk not in (b.pk, c.pk) and contains(b.box, d.box) and contains(c.box, d.box):
                    return "square", (b.pk, c.pk, d.pk)
    # The new count is a part of A: with other disjoint parts of A it leaves a small group.
    beside = [e for e in others if e.count(measure) > 0 and disjoint(e.box, box)]
    for a in supersets[-MAX_WHOLES:]:
        na = a.count(measure)
        if na < threshold or a.box == box:
            continue
        high = na - n - 1
        pieces = [
            e
            for e in beside
            if e.count(measure) <= high and e.pk != a.pk and contains(a.box, e.box)
        ]
        found = _disjoint_parts(pieces, measure, na - n - top, high, box)
        if found:
            return "split", (a.pk, *found)
    # The new count is B (or C) of a square: A contains it, C is in A, D in both.
    for a in supersets:
        na = a.count(measure)
        if na < threshold:
            continue
        for d in subsets:
            if d.pk == a.pk:
                continue
            nd = d.count(measure)
            for c in _in_range(index, na - n + nd - top, na - n + nd - 1):
                if c.pk not in (a.pk, d.pk) and contains(a.box, c.box) and contains(c.box, d.box):
                    return "square", (a.pk, c.pk, d.pk)
    # The new count is D: B and C contain it, A contains both.
    for b, c in combinations(supersets, 2):
        base = b.count(measure) + c.count(measure) - n
        for a in _in_range(index, base + 1, base + top):
            if a.pk not in (b.pk, c.pk) and contains(a.box, b.box) and contains(a.box, c.box):
                return "square", (a.pk, b.pk, c.pk)
    return None


def decide(new: Candidate, window: list[Entry], *, threshold: int) -> Decision:
    """What to show for ``new`` given the counts shown in the window (pure: no database)."""
    repeated: dict[str, Entry] = {}
    for measure in MEASURES:
        same = [e for e in window if e.criteria_hash == new.criteria_hash and e.fresh(measure)]
        if same and abs(new.count(measure) - same[-1].count(measure)) < threshold:
            repeated[measure] = same[-1]
    related = tuple(sorted({entry.pk for entry in repeated.values()}))
    if len(repeated) == len(MEASURES):
        return Decision(
            CountOutcome.REPEATED,
            rule="identical",
            related=related,
            shown_persons=repeated["persons"].shown_persons,
            shown_visits=repeated["visits"].shown_visits,
        )
    others = [e for e in window if e.criteria_hash != new.criteria_hash]
    for measure in MEASURES:
        if measure in repeated:
            continue
        fresh = [e for e in others if e.fresh(measure)]
        found = _pairs(new, fresh, measure, threshold) or _combinations(
            new, fresh, measure, threshold
        )
        if found:
            rule, pks = found
            return Decision(CountOutcome.REFUSED_DIFFERENCING, rule=rule, related=pks)
    return Decision(
        CountOutcome.SHOWN,
        rule="identical" if repeated else "",
        related=related,
        shown_persons=(
            repeated["persons"].shown_persons if "persons" in repeated else new.shown_persons
        ),
        shown_visits=repeated["visits"].shown_visits if "visits" in repeated else new.shown_visits,
        persons_fresh="persons" not in repeated,
        visits_fresh="visits" not in repeated,
    )


# --- Budget and log -------------------------------------------------------------------------


def _start_of_today(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def seconds_until_tomorrow(now: datetime | None = None) -> int:
    now = now or timezone.now()
    return max(int((_start_of_today(now) + timedelta(days=1) - now).total_seconds()), 1)


def counts_today(user_id: int, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return (
        FeasibilityCountLog.objects.using(ALIAS)
        .filter(user_id=user_id, counted_at__gte=_start_of_today(now))
        .exclude(outcome=CountOutcome.REFUSED_BUDGET)
        .count()
    )


def budget_exhausted(user_id: int | None) -> bool:
    if user_id is None:
        return False  # the portal's own counts (benchmarks) have no user
    return counts_today(user_id) >= settings.EDS_FEASIBILITY_DAILY_BUDGET


def record_budget_refusal(*, user_id: int | None, criteria: dict, via: str) -> FeasibilityCountLog:
    return FeasibilityCountLog.objects.using(ALIAS).create(
        user_id=user_id,
        counted_at=timezone.now(),
        via=via,
        criteria=criteria,
        criteria_hash=criteria_hash(criteria),
        outcome=CountOutcome.REFUSED_BUDGET,
        rule="budget",
    )


def _lock(connection) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    # SQLite: the warehouse alias opens IMMEDIATE transactions, one writer at a time.


def guard_and_record(
    *,
    criteria: dict[str, Any],
    measured: Measure,
    box: Box | None,
    shown_persons: str,
    shown_visits: str,
    user_id: int | None,
    via: str,
) -> tuple[Decision, FeasibilityCountLog]:
    """Decides against the window and logs the count, under one lock for all the guards."""
    threshold = settings.EDS_SMALL_CELL_THRESHOLD
    candidate = Candidate(
        criteria_hash=criteria_hash(criteria),
        measured=measured,
        box=box,
        shown_persons=shown_persons,
        shown_visits=shown_visits,
    )
    with transaction.atomic(using=ALIAS):
        _lock(connections[ALIAS])
        now = timezone.now()
        decision = decide(candidate, window_entries(now), threshold=threshold)
        row = FeasibilityCountLog.objects.using(ALIAS).create(
            user_id=user_id,
            counted_at=now,
            via=via,
            criteria=criteria,
            criteria_hash=candidate.criteria_hash,
            outcome=decision.outcome,
            rule=decision.rule,
            related=list(decision.related),
            persons=measured.persons,
            visits=measured.visits,
            persons_fresh=decision.persons_fresh,
            visits_fresh=decision.visits_fresh,
            shown_persons=decision.shown_persons,
            shown_visits=decision.shown_visits,
            person_sketch=measured.person_sketch,
            visit_sketch=measured.visit_sketch,
            box=box.as_json() if box else None,
        )
    return decision, row


# --- The DPO's view of the log ----------------------------------------------------------------

# A user-day is a burst when this many of its counts are nested with (inside, or around) another
# count of the same user made less than BURST_MINUTES earlier: someone narrowing in on a group.
BURST_NESTED = 5
BURST_MINUTES = 15


@dataclass
class DayRow:
    day: Any
    user_id: int | None
    counts: int = 0
    shown: int = 0
    repeated: int = 0
    refused_differencing: int = 0
    refused_budget: int = 0
    nested: int = 0

    @property
    def refused(self) -> int:
        return self.refused_differencing + self.refused_budget

    @property
    def burst(self) -> bool:
        return self.nested >= BURST_NESTED


def daily_summary(since: datetime) -> list[DayRow]:
    """Counts per user and day since ``since``, most recent day first; true figures left out."""
    rows = (
        FeasibilityCountLog.objects.using(ALIAS)
        .filter(counted_at__gte=since)
        .order_by("counted_at", "pk")
        .values_list("user_id", "counted_at", "outcome", "criteria_hash", "box")
    )
    days: dict[tuple, DayRow] = {}
    recent: dict[tuple, list[tuple[datetime, str, Box]]] = {}
    gap = timedelta(minutes=BURST_MINUTES)
    for user_id, counted_at, outcome, digest, box_data in rows:
        key = (timezone.localdate(counted_at), user_id)
        row = days.setdefault(key, DayRow(day=key[0], user_id=user_id))
        row.counts += 1
        if outcome == CountOutcome.SHOWN:
            row.shown += 1
        elif outcome == CountOutcome.REPEATED:
            row.repeated += 1
        elif outcome == CountOutcome.REFUSED_DIFFERENCING:
            row.refused_differencing += 1
        else:
            row.refused_budget += 1
        box = Box.from_json(box_data)
        if box is None:
            continue
        earlier = [
            (at, other_digest, other)
            for at, other_digest, other in recent.get(key, [])
            if counted_at - at <= gap
        ]
        if any(
            other_digest != digest and (contains(other, box) or contains(box, other))
            for _at, other_digest, other in earlier
        ):
            row.nested += 1
        recent[key] = [*earlier, (counted_at, digest, box)]
    return sorted(days.values(), key=lambda r: (r.day, r.user_id or 0), reverse=True)


def refusals(since: datetime, limit: int = 200) -> list[FeasibilityCountLog]:
    return list(
        FeasibilityCountLog.objects.using(ALIAS)
        .filter(counted_at__gte=since)
        .exclude(outcome__in=[CountOutcome.SHOWN, CountOutcome.REPEATED])
        .order_by("-counted_at", "-pk")
        .only("pk", "user_id", "counted_at", "via", "outcome", "rule", "related", "criteria")[
            :limit
        ]
    )
