"""Disclosure control of feasibility counts (MIN-10, MIN-11): cell keys, perturbation, masking,
rounding, and the measurement the differencing guard needs (``warehouse.count_guard``).

The cell-key method (ABS TableBuilder, ONS):

- Every person has a fixed random **record key** in [0, R), R = ``RECORD_KEY_MODULUS`` (4096),
  kept in ``eds_person_record_key`` and drawn by the database's own ``random()`` (no secret in
  the SQL text, none in the code). The migration draws them for the persons already there,
  ``generate_warehouse`` after loading, and a count draws them for persons that lack one.
  No page, API or export shows them.
- A count of persons has a **cell key**: the sum of its persons' record keys, modulo R. An
  episode's record key is derived, not stored: (its person's record key + its
  ``visit_occurrence_id``) modulo R; a count of episodes has the sum of those as its cell key.
  So the same set of persons (or of episodes) always has the same cell key, whatever criteria
  selected it, and two different sets have unrelated cell keys.
- The **perturbation** is a fixed function of (true count, cell key) read in the published table
  ``PERTURBATION_TABLE``: the slot ``(cell key + 2481 * count) mod R`` scaled to 256 slots falls
  in one of seven intervals giving -3, -2, -1, 0, +1, +2 or +3 with probabilities 9, 27, 55, 74,
  55, 27 and 9 in 256: symmetric, mean zero, variance 1.91, never more than 3 either way. The
  same set of persons always gets the same answer, so asking again, or asking the same set
  through other criteria, teaches nothing new; averaging needs different sets.
- Then **masking** and **rounding**: a true 0 stays "0"; a true count from 1 to threshold - 1 is
  shown as "< threshold" (the mask reads the true count: a small group is never shown as a
  figure); any other count is shown perturbed and rounded to ``EDS_FEASIBILITY_ROUNDING_BASE``
  (half up), and never below the first multiple of the base that reaches the threshold (so
  with 11 and 5, every shown figure is at least 15 and nobody takes "10" for a small count).

What this does not do alone: noise can be averaged, and a difference of two noisy counts still
carries the difference. The guard (``warehouse.count_guard``) refuses counts that would make a
small difference computable from earlier ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import F, IntegerField, QuerySet
from django.db.models.functions import Cast, ExtractDay, ExtractMonth, ExtractYear

from warehouse.models import RECORD_KEY_MODULUS, PersonRecordKey

logger = logging.getLogger(__name__)

ALIAS = "warehouse"
# (perturbation, probability in 256ths): the published table. Symmetric, sums to 256.
PERTURBATION_TABLE: tuple[tuple[int, int], ...] = (
    (-3, 9),
    (-2, 27),
    (-1, 55),
    (0, 74),
    (1, 55),
    (2, 27),
    (3, 9),
)
TABLE_SLOTS = 256
MAX_PERTURBATION = max(abs(value) for value, _width in PERTURBATION_TABLE)
# Spreads consecutive counts of the same cell key over the table (odd, so a bijection mod R).
COUNT_STEP = 2481
# Buckets of the sketches the guard compares (persons and episodes counted by record key mod 64).
SKETCH_BUCKETS = 64

assert sum(width for _value, width in PERTURBATION_TABLE) == TABLE_SLOTS
assert RECORD_KEY_MODULUS % TABLE_SLOTS == 0
assert RECORD_KEY_MODULUS % SKETCH_BUCKETS == 0


def perturbation(count: int, cell_key: int) -> int:
    """The published table's perturbation for a true count with this cell key."""
    position = (cell_key + COUNT_STEP * count) % RECORD_KEY_MODULUS
    slot = position * TABLE_SLOTS // RECORD_KEY_MODULUS
    for value, width in PERTURBATION_TABLE:
        if slot < width:
            return value
        slot -= width
    raise AssertionError("the table covers every slot")  # pragma: no cover


def smallest_shown(threshold: int, base: int) -> int:
    """The smallest figure ever shown: the first multiple of the base that reaches the threshold."""
    return -(-threshold // base) * base


def display(count: int, cell_key: int, *, threshold: int, base: int) -> str:
    """What is shown for a true count: "0", "< threshold", or the perturbed, rounded figure."""
    if count <= 0:
        return "0"
    if count < threshold:
        return f"< {threshold}"
    value = count + perturbation(count, cell_key)
    rounded = (value + base // 2) // base * base
    return str(max(rounded, smallest_shown(threshold, base)))


def assign_record_keys(*, reset: bool = False) -> int:
    """Draws a record key for every person without one (all of them with ``reset``).

    The database draws them (``random()``): the keys exist nowhere else, and the SQL carries
    no secret. Safe to run concurrently (a person keeps the first key drawn).
    """
    connection = connections[ALIAS]
    modulus = RECORD_KEY_MODULUS
    if connection.vendor == "postgresql":
        draw = f"floor(random() * {modulus})::integer"
    else:
        # SQLite's random() is a signed 64-bit integer; 2^64 is a multiple of R: no bias.
        draw = f"((random() %% {modulus}) + {modulus}) %% {modulus}"
    statement = (
        "INSERT INTO eds_person_record_key (person_id, record_key) "  # noqa: S608 (constants)
        f"SELECT p.person_id, {draw} FROM person p "
        "WHERE NOT EXISTS (SELECT 1 FROM eds_person_record_key k WHERE k.person_id = p.person_id) "
        "ON CONFLICT (person_id) DO NOTHING"
    )
    with transaction.atomic(using=ALIAS), connection.cursor() as cursor:
        if reset:
            PersonRecordKey.objects.using(ALIAS).all().delete()
        cursor.execute(statement, [])
        return max(cursor.rowcount, 0)


@dataclass(frozen=True)
class Measure:
    """The true figures of a count and what the guard compares; never shown as such."""

    persons: int
    visits: int
    person_cell_key: int
    visit_cell_key: int
    # Persons (episodes) counted per record key modulo SKETCH_BUCKETS: two sets whose sketches
    # differ by d (sum of absolute differences) differ by at least d members.
    person_sketch: list[int] = field(default_factory=list)
    visit_sketch: list[int] = field(default_factory=list)
    # The effective box: what the matching episodes really span (None: nothing matched).
    sites: frozenset[int] = frozenset()
    kinds: frozenset[int] = frozenset()
    sexes: frozenset[int] = frozenset()
    days: tuple[int, int] | None = None
    ages: tuple[int, int] | None = None


_MEASURE_SQL = """
WITH v (vid, pid, site, kind, sex, age, day) AS ({cohort}),
k AS (
    SELECT v.vid, v.pid, rk.record_key AS rk
    FROM v LEFT JOIN eds_person_record_key rk ON rk.person_id = v.pid
)
SELECT 1, COALESCE(p.rk %% {buckets}, -1), 0, 0, COUNT(*), COALESCE(SUM(p.rk), 0), 0, 0, 0, 0
FROM (SELECT DISTINCT pid, rk FROM k) p
GROUP BY 2
UNION ALL
SELECT 2, COALESCE(((k.rk + k.vid) %% {modulus}) %% {buckets}, -1), 0, 0, COUNT(*),
       COALESCE(SUM((k.rk + k.vid) %% {modulus}), 0), 0, 0, 0, 0
FROM k
GROUP BY 2
UNION ALL
SELECT 3, COALESCE(v.site, -1), v.kind, v.sex, COUNT(*), 0,
       MIN(v.day), MAX(v.day), MIN(v.age), MAX(v.age)
FROM v
GROUP BY 2, 3, 4
"""


def _cohort_sql(visits: QuerySet) -> tuple[str, list]:
    year = ExtractYear("visit_start_date")
    rows = visits.annotate(
        _disclosure_sex=F("person__gender_concept_id"),
        _disclosure_age=Cast(year - F("person__year_of_birth"), IntegerField()),
        _disclosure_day=Cast(
            year * 10000 + ExtractMonth("visit_start_date") * 100 + ExtractDay("visit_start_date"),
            IntegerField(),
        ),
    ).values_list(
        "visit_occurrence_id",
        "person_id",
        "care_site_id",
        "visit_concept_id",
        "_disclosure_sex",
        "_disclosure_age",
        "_disclosure_day",
    )
    sql, params = rows.query.get_compiler(using=ALIAS).as_sql()
    return sql, list(params)


def measure(visits: QuerySet) -> Measure:
    """Counts the episodes of ``visits`` and their persons with everything the guard needs.

    One statement on the warehouse. Persons without a record key get one and the count runs
    again (new data loaded since the last draw).
    """
    cohort, params = _cohort_sql(visits)
    sql = _MEASURE_SQL.format(cohort=cohort, buckets=SKETCH_BUCKETS, modulus=RECORD_KEY_MODULUS)
    for attempt in range(3):
        with connections[ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        missing = sum(int(row[4]) for row in rows if row[0] == 1 and int(row[1]) < 0)
        if not missing:
            break
        if attempt < 2:
            assign_record_keys()
        else:  # pragma: no cover (persons keep arriving faster than keys are drawn)
            logger.warning("%d persons still without a record key; counted with key 0", missing)
    return _measure_from(rows)


def _measure_from(rows: list[tuple]) -> Measure:
    person_sketch = [0] * SKETCH_BUCKETS
    visit_sketch = [0] * SKETCH_BUCKETS
    sums = {1: 0, 2: 0}
    sites: set[int] = set()
    kinds: set[int] = set()
    sexes: set[int] = set()
    days: list[int] = []
    ages: list[int] = []
    for part, bucket, kind, sex, count, total, day_lo, day_hi, age_lo, age_hi in rows:
        part, bucket, count = int(part), int(bucket), int(count)
        if part in (1, 2):
            sketch = person_sketch if part == 1 else visit_sketch
            sketch[bucket if bucket >= 0 else 0] += count
            sums[part] += int(total)
        else:
            sites.add(bucket)
            kinds.add(int(kind))
            sexes.add(int(sex))
            days += [int(day_lo), int(day_hi)]
            ages += [int(age_lo), int(age_hi)]
    return Measure(
        persons=sum(person_sketch),
        visits=sum(visit_sketch),
        person_cell_key=sums[1] % RECORD_KEY_MODULUS,
        visit_cell_key=sums[2] % RECORD_KEY_MODULUS,
        person_sketch=person_sketch,
        visit_sketch=visit_sketch,
        sites=frozenset(sites),
        kinds=frozenset(kinds),
        sexes=frozenset(sexes),
        days=(min(days), max(days)) if days else None,
        ages=(min(ages), max(ages)) if ages else None,
    )
