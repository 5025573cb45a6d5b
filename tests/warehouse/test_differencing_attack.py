"""How often does a differencing attacker recover a masked count? (MIN-10, MIN-11)

The attack reproduced: a count masked "< 11" (persons of one département, one age
band and one sex) was recovered exactly from pairs of large counts that each differ by the
target. Here a synthetic warehouse (XS, seed 11) is generated, target cells whose true count is
1 to 10 are drawn (the same number for each true value, so that guessing uniformly succeeds
one time in ten), and attack families are replayed through the real ``feasibility_count``,
guard, log and perturbation included. The attacker's guess is the rounded mean of the estimates
they could compute, clamped to 1..10, or a uniform guess when the portal refused them.

Each family starts from an empty log (the attacker's best case: no earlier count of anybody to
collide with) and colluding accounts (no daily budget). Run with ``-s`` to read the figures as
they come; the terminal summary repeats them:

    .venv/bin/pytest tests/warehouse/test_differencing_attack.py -s
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.core.management import call_command
from django.db.models import Count

from warehouse import disclosure
from warehouse.cohort import CohortCriteria, feasibility_count, feasibility_visits
from warehouse.models import FeasibilityCountLog, VisitOccurrence

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

SEED = 11
PER_VALUE = 10  # target cells per true count 1..10
THRESHOLD = 11
BASELINE = 1 / (THRESHOLD - 1)
# One-sided 99 % upper bound of a uniform guesser's success rate over N targets (normal
# approximation of the binomial): a family above it does better than guessing.
Z_99 = 2.326
BANDS = [(0, 9), (10, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 120)]
OTHER_SEX = {"M": "F", "F": "M"}
# Families the guard is meant to stop (asserted), and those only the noise and the rounding face
# (reported with their figure; README, "Feasibility counts: disclosure control").
GUARDED = (
    "nested pairs",
    "padded pairs",
    "square",
    "padded square",
    "split in two",
    "split in three",
)
NOISE_ONLY = ("cube", "averaged cubes")
# A uniform guesser is above this less than once in a billion runs; an attack that reaches it
# has found a real hole (the noise-only families measure about 0.2 with this table).
NOISE_ONLY_CEILING = 0.35


@dataclass(frozen=True)
class Target:
    departement: str
    band: tuple[int, int]
    sex: str
    persons: int


@dataclass
class Tally:
    tries: int = 0
    refused_campaigns: int = 0
    counts: int = 0
    refusals: int = 0
    # Guess minus truth, for the campaigns that got an estimate.
    errors: list[int] = field(default_factory=list)

    @property
    def exact(self) -> int:
        return self.errors.count(0)

    @property
    def rate(self) -> float:
        """Expected share recovered: exact estimates, plus one in ten for each campaign left
        to guess uniformly (the expectation, so that the guesser's own luck does not move it)."""
        guessed = self.tries - len(self.errors)
        return (self.exact + guessed * BASELINE) / self.tries if self.tries else 0.0


def _targets(departements: list[str]) -> list[Target]:
    rows = VisitOccurrence.objects.values_list(
        "person_id",
        "care_site__location__county",
        "person__gender_concept_id",
        "person__year_of_birth",
        "visit_start_date",
    )
    sex_of = {8507: "M", 8532: "F"}
    cells: dict[tuple, set[int]] = defaultdict(set)
    for person, departement, gender, born, day in rows:
        if departement is None:
            continue
        age = day.year - born
        for band in BANDS:
            if band[0] <= age <= band[1]:
                cells[(departement, band, sex_of[gender])].add(person)
    by_value: dict[int, list[Target]] = defaultdict(list)
    for (departement, band, sex), persons in sorted(cells.items()):
        if 1 <= len(persons) < THRESHOLD:
            by_value[len(persons)].append(Target(departement, band, sex, len(persons)))
    rng = random.Random(SEED)
    chosen = []
    for value in range(1, THRESHOLD):
        candidates = by_value[value]
        assert len(candidates) >= PER_VALUE, f"not enough cells of {value} persons"
        chosen += rng.sample(candidates, PER_VALUE)
    rng.shuffle(chosen)
    return chosen


class Attacker:
    """Asks counts through the real path and keeps what it was shown."""

    def __init__(self, user, tally: Tally):
        self.user = user
        self.tally = tally

    def ask(self, **criteria) -> int | None:
        result = feasibility_count(CohortCriteria(**criteria), by=self.user, via="api")
        self.tally.counts += 1
        if result.refused:
            self.tally.refusals += 1
            return None
        if result.persons.startswith("<"):
            return None
        return int(result.persons)

    def combine(self, *terms: tuple[int, dict]) -> int | None:
        """The signed sum of counts, or None when one of them was refused or masked."""
        total = 0
        for sign, criteria in terms:
            value = self.ask(**criteria)
            if value is None:
                return None
            total += sign * value
        return total


def _age_parts(band: tuple[int, int]) -> list[dict]:
    low, high = band
    parts = []
    if low > 0:
        parts.append({"age_max": low - 1})
    if high < 120:
        parts.append({"age_min": high + 1})
    return parts


def nested_pairs(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """The reported attack: all minus one département, minus an age band, minus one sex."""
    d, (low, high), sex = target.departement, target.band, target.sex
    others = tuple(x for x in context["departements"] if x != d)
    cell = {"age_min": low, "age_max": high, "sex": sex}
    estimates = [
        attacker.combine((+1, cell), (-1, {**cell, "departements": others})),
        attacker.combine(
            (+1, {"departements": (d,), "sex": sex}),
            *[(-1, {"departements": (d,), "sex": sex, **part}) for part in _age_parts(target.band)],
        ),
        attacker.combine(
            (+1, {"departements": (d,), "age_min": low, "age_max": high}),
            (
                -1,
                {
                    "departements": (d,),
                    "age_min": low,
                    "age_max": high,
                    "sex": OTHER_SEX[sex],
                },
            ),
        ),
    ]
    return [e for e in estimates if e is not None]


def padded_pairs(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """The same pairs, the larger count restricted to the data's period so that the two sets
    of criteria are no longer nested (the persons are the same)."""
    d, (low, high), sex = target.departement, target.band, target.sex
    others = tuple(x for x in context["departements"] if x != d)
    period = {"period_start": context["first_day"], "period_end": context["last_day"]}
    cell = {"age_min": low, "age_max": high, "sex": sex}
    estimates = [
        attacker.combine((+1, {**cell, **period}), (-1, {**cell, "departements": others})),
        attacker.combine(
            (+1, {"departements": (d,), "age_min": low, "age_max": high, **period}),
            (
                -1,
                {
                    "departements": (d,),
                    "age_min": low,
                    "age_max": high,
                    "sex": OTHER_SEX[sex],
                },
            ),
        ),
    ]
    return [e for e in estimates if e is not None]


def _square(target: Target) -> list[tuple[int, dict]]:
    d, (low, high), sex = target.departement, target.band, target.sex
    other = OTHER_SEX[sex]
    a = {"departements": (d,), "age_max": high}
    c = {**a, "sex": other}
    if low == 0:
        return [(+1, a), (-1, c)]
    b = {"departements": (d,), "age_max": low - 1}
    return [(+1, a), (-1, b), (-1, c), (+1, {**b, "sex": other})]


def square(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """Inclusion-exclusion: A (ages up to the band's top) - B (below the band) - C (the other
    sex) + D (below the band, the other sex); no two of them differ by a small group."""
    estimate = attacker.combine(*_square(target))
    return [] if estimate is None else [estimate]


def padded_square(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """The square, its criteria no longer nested though the persons are the same: A, B and C
    are restricted to the data's period, D is not (and D takes in a département where nobody
    of its ages and sex is, when there is one: found by asking until a count shows 0; the test
    asks the oracle first and the portal once, the attacker's best case)."""
    terms = _square(target)
    period = {"period_start": context["first_day"], "period_end": context["last_day"]}
    padded = [(sign, {**criteria, **period}) for sign, criteria in terms]
    if len(terms) == 4:
        sign, corner = terms[3]
        padded[3] = terms[3]
        for candidate in context["departements"]:
            criteria = CohortCriteria(**{**corner, "departements": (candidate,)})
            if candidate != target.departement and _true(criteria) == 0:
                assert attacker.ask(**{**corner, "departements": (candidate,)}) == 0
                padded[3] = (sign, {**corner, "departements": (target.departement, candidate)})
                break
    estimate = attacker.combine(*padded)
    return [] if estimate is None else [estimate]


def split_in_two(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """The département and sex, minus the ages below and above the band (two disjoint parts)."""
    d, sex = target.departement, target.sex
    whole = {"departements": (d,), "sex": sex}
    estimate = attacker.combine(
        (+1, whole), *[(-1, {**whole, **part}) for part in _age_parts(target.band)]
    )
    return [] if estimate is None else [estimate]


def split_in_three(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """The whole département minus three large disjoint parts: the other sex, and the target's
    sex below and above the band. No pair, no split in two and no square of them is small."""
    d, sex = target.departement, target.sex
    whole = {"departements": (d,)}
    parts = [{**whole, "sex": OTHER_SEX[sex]}]
    parts += [{**whole, "sex": sex, **part} for part in _age_parts(target.band)]
    estimate = attacker.combine((+1, whole), *[(-1, part) for part in parts])
    return [] if estimate is None else [estimate]


def _cube(
    attacker: Attacker, target: Target, context: dict, leave_out: tuple[str, ...] = ()
) -> int | None:
    d, (low, high), sex = target.departement, target.band, target.sex
    others = tuple(x for x in context["departements"] if x != d and x not in leave_out)
    a = {"age_max": high, "departements": (d, *others)}
    b = {**a, "departements": others}
    e = {**a, "sex": OTHER_SEX[sex]}
    be = {**b, "sex": OTHER_SEX[sex]}
    terms = [(+1, a), (-1, b), (-1, e), (+1, be)]
    if low > 0:
        c = {**a, "age_max": low - 1}
        terms += [
            (-1, c),
            (+1, {**c, "departements": others}),
            (+1, {**c, "sex": OTHER_SEX[sex]}),
            (-1, {**c, "departements": others, "sex": OTHER_SEX[sex]}),
        ]
    return attacker.combine(*terms)


def cube(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """Inclusion-exclusion in three dimensions (eight counts): among those up to the band's top
    age, leave out the other départements (B), the ages below the band (C) and the other sex
    (E): A - B - C - E + BC + BE + CE - BCE."""
    estimate = _cube(attacker, target, context)
    return [] if estimate is None else [estimate]


def averaged_cubes(attacker: Attacker, target: Target, context: dict) -> list[int]:
    """Four cubes over different sets of other départements (each leaves a large one out):
    different persons, so fresh noise, averaged."""
    largest = [x for x in context["largest"] if x != target.departement][:3]
    estimates = [
        _cube(attacker, target, context, leave) for leave in ((), *((x,) for x in largest))
    ]
    return [e for e in estimates if e is not None]


def _true(criteria: CohortCriteria) -> int:
    return disclosure.measure(feasibility_visits(criteria)).persons


FAMILIES: dict[str, Callable[[Attacker, Target, dict], list[int]]] = {
    "nested pairs": nested_pairs,
    "padded pairs": padded_pairs,
    "square": square,
    "padded square": padded_square,
    "split in two": split_in_two,
    "split in three": split_in_three,
    "cube": cube,
    "averaged cubes": averaged_cubes,
}


def _margin(tries: int) -> float:
    return Z_99 * math.sqrt(BASELINE * (1 - BASELINE) / tries)


class _Summary:
    """Adds the figures to pytest's terminal summary."""

    def __init__(self, lines: list[str]):
        self.lines = lines

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.section("differencing attack")
        for line in self.lines:
            terminalreporter.write_line(line)


def test_differencing_attacks_do_no_better_than_guessing(settings, make_user, request):
    from eds_portal.roles import Role

    # Colluding accounts: the budget is not the defence measured here.
    settings.EDS_FEASIBILITY_DAILY_BUDGET = 10**6
    call_command("generate_warehouse", size="XS", seed=SEED, verbosity=0)
    days = VisitOccurrence.objects.values_list("visit_start_date", flat=True)
    context = {
        "departements": sorted(
            {
                d
                for d in VisitOccurrence.objects.values_list(
                    "care_site__location__county", flat=True
                ).distinct()
                if d
            }
        ),
        "first_day": min(days),
        "last_day": max(days),
        "largest": [
            row["care_site__location__county"]
            for row in VisitOccurrence.objects.values("care_site__location__county")
            .annotate(n=Count("pk"))
            .order_by("-n")[:4]
        ],
    }
    assert isinstance(context["first_day"], date)
    targets = _targets(context["departements"])
    for target in targets[:5]:  # the oracle agrees with the count's own query
        criteria = CohortCriteria(
            departements=(target.departement,),
            age_min=target.band[0],
            age_max=target.band[1],
            sex=target.sex,
        )
        assert disclosure.measure(feasibility_visits(criteria)).persons == target.persons
    user = make_user(Role.RESEARCHER)
    tallies = {name: Tally() for name in FAMILIES}
    for target in targets:
        for name, family in FAMILIES.items():
            FeasibilityCountLog.objects.all().delete()
            tally = tallies[name]
            refusals_before = tally.refusals
            estimates = family(Attacker(user, tally), target, context)
            if estimates:
                guess = min(max(round(statistics.fmean(estimates)), 1), THRESHOLD - 1)
                tally.errors.append(guess - target.persons)
            tally.tries += 1
            tally.refused_campaigns += tally.refusals > refusals_before

    lines = [
        f"{len(targets)} masked cells ({PER_VALUE} for each true count 1..{THRESHOLD - 1}); "
        f"uniform guessing recovers {BASELINE:.3f}; "
        f"99% bound for a guesser: {BASELINE + _margin(len(targets)):.3f}",
    ]
    for name, tally in tallies.items():
        kind = "guarded" if name in GUARDED else "noise only"
        lines.append(
            f"{name:<15} ({kind:<10}) recovered {tally.rate:.3f}; "
            f"campaigns refused {tally.refused_campaigns}/{tally.tries}, "
            f"with an estimate {len(tally.errors)} (exact {tally.exact}); "
            f"counts asked {tally.counts}, refused {tally.refusals}"
        )
    for line in lines:
        print(line)
    request.config.pluginmanager.register(_Summary(lines), "differencing-attack-summary")

    for name in GUARDED:
        tally = tallies[name]
        assert tally.rate <= BASELINE + _margin(tally.tries), (name, tally.rate)
    for name in NOISE_ONLY:
        # Known limit, reported rather than hidden: see README.
        assert tallies[name].rate <= NOISE_ONLY_CEILING, (name, tallies[name].rate)
