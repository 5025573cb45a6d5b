"""The export engine: an approved specification becomes a published dataset, in parts.

    plan = plan_run(request, target=path, parts=4)      # counts, k-anonymity classes, parts
    for part in plan.parts: run_part(request, plan, part.index)   # any worker, any order
    manifest = publish(request, plan)                   # assembles, manifest last, rename

The plan is plain JSON (``RunPlan.as_dict`` / ``RunPlan.from_dict``) so that a run row can keep
it and tasks can pass ids only. ``run_part`` writes its files into a staging folder next to the
target and marks the part done last; running it again replaces the part (idempotent).
``publish`` refuses until every part is done, and the target appears all at once.

Persons: the cohort's persons are streamed once per part (a part holds the persons whose internal
id falls in its residue class, so that no part is a range of ids); opposed persons
(``excluded_person_keys``) and, for consent-based projects, persons without consent
(``allowed_person_keys``) never enter the person map, nor do persons of a k-anonymity class
below the threshold. The map (internal id -> project pseudonym, date shift) is computed here in
Python, once per person, and loaded into a temporary table that every query joins: a row whose
person is not in the map cannot leave, and the key is never in SQL text. The map also holds a
rank drawn from the run's own seed: every table is written in that order, so that the order of
rows says nothing of the warehouse's ids and differs from one run to the next. Doctors and
associations get project pseudonyms from two more temporary tables (a few thousand rows).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.utils.translation import gettext as _

from warehouse import reference
from warehouse.cohort import CohortCriteria, cohort_visits
from warehouse.keys import SecretKey

from . import manifest as manifest_module
from .omop_plan import PART_INDEX, PART_OF, location_numbers
from .output import RowWriter, fsync_path, sha256_of, write_from_csv_stream
from .plan import (
    DatasetPlan,
    Kind,
    TablePlan,
    _as_date,
    build_plan,
    keyed_params,
    keyed_pseudonym,
    person_class_joins,
)
from .scrub import DateShift, ScrubCounts, TextPolicy, name_pattern, scrub

PERSON_BATCH = 20_000
# Dates move by whole weeks, so that weekdays, nights and weekends (what unscheduled care is
# about) survive; at most a quarter, so that seasons do too.
MAX_SHIFT_WEEKS = 13


class ExportError(RuntimeError):
    """The run cannot go on (parts missing, target already there...)."""


@dataclass(frozen=True)
class ExportRequest:
    """Everything a run needs, built by the caller from the decision and the registers."""

    specification: dict[str, Any]
    key: SecretKey
    excluded_person_keys: frozenset[str] = frozenset()
    # None: not a consent-based project; otherwise only these persons may appear (CON-07).
    allowed_person_keys: frozenset[str] | None = None
    register_snapshot: int | None = None
    threshold: int | None = None
    # Codes of the quasi-identifiers; None: the approved variables the catalogue marks so.
    quasi_identifiers: tuple[str, ...] | None = None
    alias: str = "warehouse"
    # The decision whose approved specification this is (its number and the SHA-256 of its
    # approved specification): the manifest names them, so that a dataset answers "under which
    # decision?" and a corrected decision on the same version gives a different manifest.
    decision_number: str = ""
    decision_sha256: str = ""
    # Free text: the data steward's review of a sample of scrubbed notes ({"by", "user_id",
    # "at", "sample_size", "texts_in_pool"}), written into the manifest's residual-risk note.
    text_review: dict[str, Any] | None = None

    @property
    def small_cell_threshold(self) -> int:
        return self.threshold if self.threshold is not None else settings.EDS_SMALL_CELL_THRESHOLD

    def dataset_plan(self) -> DatasetPlan:
        return build_plan(self.specification, quasi_identifiers=self.quasi_identifiers)

    def criteria(self) -> CohortCriteria:
        return criteria_from_dict(self.specification.get("criteria") or {})


def criteria_from_dict(data: dict[str, Any]) -> CohortCriteria:
    from datetime import date

    values: dict[str, Any] = {}
    for name in CohortCriteria.__dataclass_fields__:
        value = data.get(name)
        if value in (None, "", []):
            continue
        if name in ("period_start", "period_end"):
            value = date.fromisoformat(value) if isinstance(value, str) else value
        elif isinstance(value, list | tuple):
            value = tuple(int(v) for v in value) if name == "associations" else tuple(value)
        values[name] = value
    return CohortCriteria(**values)


@dataclass(frozen=True)
class Part:
    """The persons whose internal id is ``index`` modulo ``of`` (``of`` 1: every person).

    ``person_from``/``person_to`` (a range of ids) are those of plans written before parts were
    residue classes; they are still honoured so that a run planned then can finish."""

    index: int
    person_from: int | None = None  # inclusive; None: from the first
    person_to: int | None = None  # exclusive; None: to the last
    of: int = 1


@dataclass
class RunPlan:
    target: str
    staging: str
    spec_sha256: str
    parts: list[Part]
    persons_in_cohort: int
    persons_excluded: int  # objections
    persons_without_consent: int
    small_classes: list[list[Any]]
    suppression: dict[str, Any]
    created: float = field(default_factory=time.time)
    # Orders the rows of this run's files (not a secret: it only permutes).
    seed: str = field(default_factory=lambda: secrets.token_hex(16))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunPlan:
        values = dict(data)
        values["parts"] = [Part(**part) for part in data["parts"]]
        return cls(**values)

    def part_dir(self, index: int) -> Path:
        return Path(self.staging) / f"part-{index:04d}"


# --- Database session ----------------------------------------------------------------------


class _Session:
    """One transaction on the warehouse, with the temporary tables of a run."""

    def __init__(self, alias: str, key: SecretKey | None = None) -> None:
        self.alias = alias
        self.connection = connections[alias]
        self.postgres = self.connection.vendor == "postgresql"
        self.key = key
        self.part: Part | None = None

    @contextlib.contextmanager
    def open(self) -> Iterator[_Session]:
        nested = self.connection.in_atomic_block
        with transaction.atomic(using=self.alias), self.connection.cursor() as cursor:
            self.cursor = cursor
            previous_zone = None
            if self.postgres:
                if not nested:
                    # Every table of a part reads the same snapshot of the warehouse.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SHOW TimeZone")
                previous_zone = cursor.fetchone()[0]
                # Weeks, months and shifted times are those of the local calendar.
                cursor.execute("SELECT set_config('TimeZone', %s, true)", [settings.TIME_ZONE])
            # No cleanup on failure: rolling back the transaction (or savepoint) drops the
            # temporary tables and the zone, and an aborted transaction accepts no command.
            if not self.postgres and self.key is not None:
                key = self.key
                self.connection.connection.create_function(
                    "eds_pseudonym",
                    2,
                    lambda purpose, value: keyed_pseudonym(key, purpose, value),
                    deterministic=True,
                )
            self._create_temporary_tables()
            yield self
            self._drop_temporary_tables()
            if previous_zone is not None:
                cursor.execute("SELECT set_config('TimeZone', %s, true)", [previous_zone])

    def _create_temporary_tables(self) -> None:
        self._drop_temporary_tables()
        self.cursor.execute(
            "CREATE TEMPORARY TABLE export_person (person_id bigint PRIMARY KEY, "
            "pseudonym varchar(32) NOT NULL, shift_days integer NOT NULL, rank bigint NOT NULL, "
            "number bigint)"
        )
        for table, column in (("export_provider", "provider_id"), ("export_site", "care_site_id")):
            self.cursor.execute(
                f"CREATE TEMPORARY TABLE {table} ({column} bigint PRIMARY KEY, "
                "pseudonym varchar(32) NOT NULL, number bigint NOT NULL)"
            )
        # The OMOP shape's integer ids of episodes, and the places it delivers.
        self.cursor.execute(
            "CREATE TEMPORARY TABLE export_visit_n (visit_occurrence_id bigint PRIMARY KEY, "
            "number bigint NOT NULL)"
        )
        self.cursor.execute(
            "CREATE TEMPORARY TABLE export_location (value varchar(40) PRIMARY KEY, "
            "number bigint NOT NULL)"
        )
        self.cursor.execute(
            "CREATE TEMPORARY TABLE export_visit (visit_occurrence_id bigint PRIMARY KEY)"
        )
        self.cursor.execute(
            "CREATE TEMPORARY TABLE export_region (departement varchar(3) PRIMARY KEY, "
            "region varchar(3) NOT NULL)"
        )
        self.load(
            "export_region",
            ("departement", "region"),
            sorted(reference.region_of_departement().items()),
        )

    def _drop_temporary_tables(self) -> None:
        for table in (
            "export_person",
            "export_visit",
            "export_region",
            "export_provider",
            "export_site",
            "export_visit_n",
            "export_location",
        ):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def load(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.postgres:
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with self.cursor.cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("%s" for _ in columns)
            self.cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                rows,
            )

    def load_pseudonyms(self, plan: DatasetPlan) -> None:
        """Project pseudonyms of the doctors and associations, when the plan delivers them."""
        joins = " ".join(join for table in plan.tables for join in table.joins)
        for table, source, purpose in (
            ("export_provider", "provider", "provider"),
            ("export_site", "care_site", "care_site"),
        ):
            if table not in joins:
                continue
            column = f"{source}_id"
            self.cursor.execute(f"SELECT {column} FROM {source}")  # noqa: S608 (constants)
            named = sorted(
                (keyed_pseudonym(self.key, purpose, row[0]), row[0])
                for row in self.cursor.fetchall()
            )
            # Numbered in the order of their pseudonyms (the OMOP shape's integer ids).
            rows = [(ident, name, number) for number, (name, ident) in enumerate(named, 1)]
            self.load(table, (column, "pseudonym", "number"), rows)
            self.analyze(table)
        if "export_location" in joins:
            self.load("export_location", ("value", "number"), location_numbers())

    def number_persons_and_visits(self, part: Part, visits_restricted: bool) -> None:
        """The OMOP shape's integer ids: persons and episodes numbered in the run's order."""
        self.cursor.execute(
            "UPDATE export_person SET number = n.number FROM (SELECT person_id, "
            "(row_number() OVER (ORDER BY rank) - 1) * %s + %s + 1 AS number "
            "FROM export_person) AS n WHERE n.person_id = export_person.person_id",
            [part.of, part.index],
        )
        restrict = (
            "JOIN export_visit ev ON ev.visit_occurrence_id = v.visit_occurrence_id "
            if visits_restricted
            else ""
        )
        self.cursor.execute(
            "INSERT INTO export_visit_n (visit_occurrence_id, number) "  # noqa: S608
            "SELECT v.visit_occurrence_id, (row_number() OVER (ORDER BY m.rank, "
            "v.visit_occurrence_id) - 1) * %s + %s + 1 FROM visit_occurrence v "
            f"JOIN export_person m ON m.person_id = v.person_id {restrict}",
            [part.of, part.index],
        )
        self.analyze("export_visit_n")

    def params(self, sql: str) -> dict[str, bytes] | None:
        """The bind parameters of keyed expressions, when ``sql`` has any (PostgreSQL)."""
        if self.postgres and "%(" in sql:
            return keyed_params(self.key)
        return None

    def analyze(self, table: str) -> None:
        if self.postgres:
            self.cursor.execute(f"ANALYZE {table}")

    def stream(self, sql: str, params: list[Any]) -> Iterator[list[tuple]]:
        """Rows in batches; on PostgreSQL through a server-side cursor."""
        if self.postgres:
            raw = self.connection.connection
            name = f"export_{uuid.uuid4().hex[:12]}"
            with raw.cursor(name=name) as named:
                named.itersize = PERSON_BATCH
                named.execute(sql, params)
                while batch := named.fetchmany(PERSON_BATCH):
                    yield batch
        else:
            self.cursor.execute(sql, params)
            while batch := self.cursor.fetchmany(PERSON_BATCH):
                yield batch


# --- Persons ---------------------------------------------------------------------------------


def pseudonym(key: SecretKey, person_key: str) -> str:
    """The project pseudonym: HMAC-SHA256(project key, internal person key), 128 bits in hex."""
    return key.sign(person_key)[:32]


def shift_days(key: SecretKey, person_key: str) -> int:
    """A per-person whole number of weeks, never zero, from -13 to +13, in days."""
    value = int(key.sign("date-shift:" + person_key)[:8], 16) % (2 * MAX_SHIFT_WEEKS)
    weeks = value - MAX_SHIFT_WEEKS if value < MAX_SHIFT_WEEKS else value - MAX_SHIFT_WEEKS + 1
    return weeks * 7


def _cohort_sql(session: _Session, criteria: CohortCriteria, *fields: str) -> tuple[str, list]:
    query = cohort_visits(criteria).using(session.alias).values(*fields).query
    sql, params = query.get_compiler(using=session.alias).as_sql()
    return sql, list(params)


def _person_query(
    session: _Session, request: ExportRequest, plan: DatasetPlan, part: Part | None
) -> tuple[str, list]:
    cohort, params = _cohort_sql(session, request.criteria(), "person_id")
    expressions = [
        column.pg if session.postgres else column.raw for column in plan.person_quasi_identifiers
    ]
    select = ", ".join(["t.person_id", "t.person_source_value", *expressions])
    where = [f"t.person_id IN ({cohort})"]
    if part is not None and part.person_from is not None:
        where.append("t.person_id >= %s")
        params.append(part.person_from)
    if part is not None and part.person_to is not None:
        where.append("t.person_id < %s")
        params.append(part.person_to)
    if part is not None and part.of > 1:
        where.append("t.person_id %% %s = %s")
        params += [part.of, part.index]
    joins = " ".join(person_class_joins(plan))
    sql = (
        f"SELECT {select} FROM person t {joins} "  # noqa: S608 (built from the catalogue)
        f"WHERE {' AND '.join(where)} ORDER BY t.person_id"
    )
    return sql, params


def _class_of(row: tuple, plan: DatasetPlan, postgres: bool) -> tuple:
    values = row[2:]
    if postgres:
        return tuple(None if value is None else str(value) for value in values)
    return tuple(
        None if value is None else str(column.transform(value, 0) if column.transform else value)
        for column, value in zip(plan.person_quasi_identifiers, values, strict=True)
    )


def _admitted(request: ExportRequest, person_key: str) -> str:
    if person_key in request.excluded_person_keys:
        return "excluded"
    if request.allowed_person_keys is not None and person_key not in request.allowed_person_keys:
        return "no_consent"
    return "admitted"


# --- Plan ------------------------------------------------------------------------------------


def _staging_for(target: Path) -> Path:
    return target.parent / f".{target.name}.parts"


def plan_run(request: ExportRequest, *, target: Path | str, parts: int = 1) -> RunPlan:
    """Counts the cohort, computes the k-anonymity classes and splits the persons into parts."""
    target = Path(target)
    if target.exists():
        raise ExportError(_("The dataset %(name)s already exists.") % {"name": target.name})
    plan = request.dataset_plan()
    threshold = request.small_cell_threshold
    classes: Counter[tuple] = Counter()
    counts: Counter[str] = Counter()
    session = _Session(request.alias)
    with session.open():
        sql, params = _person_query(session, request, plan, None)
        for batch in session.stream(sql, params):
            for row in batch:
                verdict = _admitted(request, row[1])
                counts[verdict] += 1
                if verdict == "admitted" and plan.person_quasi_identifiers:
                    classes[_class_of(row, plan, session.postgres)] += 1
    small = sorted(
        (list(key) for key, size in classes.items() if size < threshold),
        key=lambda key: [str(v) for v in key],
    )
    suppressed = sum(size for key, size in classes.items() if size < threshold)
    admitted = counts["admitted"]
    # Residue classes of the internal id: as many parts as asked, none empty when avoidable.
    count = max(1, min(parts, admitted or 1))
    bounds = [Part(index, of=count) for index in range(count)]
    staging = _staging_for(target)
    staging.mkdir(parents=True, exist_ok=True)
    return RunPlan(
        target=str(target),
        staging=str(staging),
        spec_sha256=spec_sha256(request.specification),
        parts=bounds,
        persons_in_cohort=sum(counts.values()),
        persons_excluded=counts["excluded"],
        persons_without_consent=counts["no_consent"],
        small_classes=small,
        suppression={
            "threshold": threshold,
            "quasi_identifiers": [column.code for column in plan.person_quasi_identifiers],
            "classes": len(classes),
            "classes_below_threshold": len(small),
            "persons_suppressed": suppressed,
            # Event-level quasi-identifiers (dates, places of care) are delivered generalised as
            # approved; they are not grouped into classes.
            "event_quasi_identifiers": list(plan.event_quasi_identifiers),
        },
    )


def spec_sha256(specification: dict[str, Any]) -> str:
    declared = specification.get("content_sha256")
    if declared:
        return declared
    return manifest_module.canonical_sha256(specification)


# --- One part --------------------------------------------------------------------------------


def run_part(request: ExportRequest, plan: RunPlan, index: int) -> dict[str, Any]:
    """Writes one part's files; returns (and stores, last) the part's summary."""
    part = plan.parts[index]
    dataset = request.dataset_plan()
    final = plan.part_dir(index)
    work = final.with_name(final.name + f".tmp-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    small = {tuple(key) for key in plan.small_classes}
    try:
        session = _Session(request.alias, request.key)
        with session.open():
            keys = _load_person_map(session, request, dataset, part, small, plan.seed)
            session.load_pseudonyms(dataset)
            visits_restricted = _load_cohort_visits(session, request)
            if dataset.shape == "omop":
                session.number_persons_and_visits(part, visits_restricted)
            session.part = part
            files = {}
            for table in dataset.tables:
                files[table.table] = _export_table(
                    session, table, work, visits_restricted, keys, request
                )
        summary = {"index": index, "tables": files}
        (work / "part.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        for path in work.iterdir():
            fsync_path(path)
        if final.exists():
            shutil.rmtree(final)
        os.rename(work, final)
        fsync_path(final.parent)
        return summary
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _delivered_persons(session, request, dataset, part, small) -> Iterator[list[tuple]]:
    """Batches of the person rows that enter the person map: admitted (no objection, consent
    where required) and outside the k-anonymity classes below the threshold (``small``)."""
    sql, params = _person_query(session, request, dataset, part)
    for batch in session.stream(sql, params):
        yield [
            row
            for row in batch
            if _admitted(request, row[1]) == "admitted"
            and not (small and _class_of(row, dataset, session.postgres) in small)
        ]


def _rank(seed: str, pseudonym_: str) -> int:
    """The person's place in this run's row order: 63 bits of SHA-256(seed, pseudonym)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{pseudonym_}".encode()).digest()[:8]) >> 1


def _load_person_map(session, request, dataset, part, small, seed) -> dict[int, str] | None:
    """Fills export_person; returns person_id -> internal key when free text needs names."""
    needs_names = any(table.needs_python for table in dataset.tables)
    keys: dict[int, str] | None = {} if needs_names else None
    # Each batch is loaded before the next is fetched: FETCH and COPY take turns on the
    # connection, and memory holds one batch.
    for batch in _delivered_persons(session, request, dataset, part, small):
        rows = []
        for row in batch:
            person_key = row[1]
            name = pseudonym(request.key, person_key)
            rows.append((row[0], name, shift_days(request.key, person_key), _rank(seed, name)))
            if keys is not None:
                keys[row[0]] = person_key
        session.load("export_person", ("person_id", "pseudonym", "shift_days", "rank"), rows)
    session.analyze("export_person")
    return keys


def iter_delivered_pseudonyms(request: ExportRequest, plan: RunPlan) -> Iterator[list[str]]:
    """The project pseudonyms of the persons the parts of ``plan`` deliver, in batches.

    The person map of every part at once, by the rules of ``run_part`` (objections, consent,
    the classes below the threshold recorded in the plan), read from the warehouse as it is
    now: for a caller that must know who a dataset delivered without reading its files back (a
    specification without the pseudonym column). Only the warehouse is queried, in one
    transaction held while the batches are consumed.
    """
    dataset = request.dataset_plan()
    small = {tuple(key) for key in plan.small_classes}
    session = _Session(request.alias)
    with session.open():
        for batch in _delivered_persons(session, request, dataset, None, small):
            yield [pseudonym(request.key, row[1]) for row in batch]


def _load_cohort_visits(session: _Session, request: ExportRequest) -> bool:
    criteria = request.criteria()
    if criteria == CohortCriteria():
        return False  # every episode of the cohort's persons
    cohort, params = _cohort_sql(session, criteria, "visit_occurrence_id", "person_id")
    session.cursor.execute(
        "INSERT INTO export_visit (visit_occurrence_id) "  # noqa: S608 (Django's compiled SQL)
        f"SELECT c.visit_occurrence_id FROM ({cohort}) c "
        "JOIN export_person m ON m.person_id = c.person_id",
        params,
    )
    session.analyze("export_visit")
    return True


def _table_sql(
    table: TablePlan, session: _Session, visits_restricted: bool, *, python: bool
) -> str:
    if not session.postgres:
        expressions = [column.raw for column in table.columns]
    elif python:
        expressions = [column.pg for column in table.columns]
    else:
        # COPY writes the CSV: instants in UTC with a Z, as Parquet stores them (and as the
        # dictionary says), whatever the session's zone.
        expressions = [
            f"to_char(({column.pg}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
            if column.kind == Kind.TIMESTAMP
            else column.pg
            for column in table.columns
        ]
    if table.person_linked:
        if python:
            expressions += ["m.shift_days", "m.person_id", table.reference_date]
        joins = ["JOIN export_person m ON m.person_id = t.person_id"]
        if table.visit_linked and visits_restricted:
            joins.append("JOIN export_visit ev ON ev.visit_occurrence_id = t.visit_occurrence_id")
        where = [f"({table.row_filter})"] if table.row_filter else []
        if table.visit_linked and not visits_restricted:
            where.append("t.visit_occurrence_id IS NOT NULL")
        distinct = ""
        # The run's own order (see _rank): not the warehouse's ids, not another run's order.
        order = " ORDER BY m.rank"
    else:
        # The associations (or doctors) of the cohort's episodes: not about a person.
        if python:
            expressions += ["0", "NULL", "NULL"]
        key = f"{table.table}_id"
        visits = f"SELECT v.{key} FROM visit_occurrence v " + (  # noqa: S608
            "JOIN export_visit ev ON ev.visit_occurrence_id = v.visit_occurrence_id"
            if visits_restricted
            else "JOIN export_person m ON m.person_id = v.person_id"
        )
        joins = []
        where = [f"t.{key} IN ({visits})"]
        distinct = "DISTINCT "
        order = " ORDER BY 1"
    sql = f"SELECT {distinct}{', '.join(expressions)} FROM {table.table} t "  # noqa: S608
    sql += " ".join(part for part in [*joins, *table.joins] if part)
    if where:
        sql += " WHERE " + " AND ".join(where)
    part = getattr(session, "part", None) or Part(0)
    # The OMOP shape's part-unique numbering (integers, safe in SQL text).
    sql = sql.replace(PART_OF, str(int(part.of))).replace(PART_INDEX, str(int(part.index)))
    return sql + order


_PG_TYPES = {"int": "int8", "float": "float8", "text": "text", "date": "date"}


def _export_table(session, table, folder, visits_restricted, keys, request) -> dict[str, Any]:
    csv_path = folder / f"{table.table}.csv"
    parquet_path = folder / f"{table.table}.parquet"
    scrubbed: ScrubCounts | None = None
    if session.postgres and not table.needs_python:
        sql = _table_sql(table, session, visits_restricted, python=False)
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with session.cursor.cursor.copy(statement, session.params(statement)) as copy:
            rows, csv_sha = write_from_csv_stream(copy, table.columns, csv_path, parquet_path)
    else:
        rows, csv_sha, scrubbed = _export_rows(
            session, table, visits_restricted, keys, csv_path, parquet_path, request
        )
    entry: dict[str, Any] = {
        "rows": rows,
        "files": {
            csv_path.name: csv_sha,
            parquet_path.name: sha256_of(parquet_path),
        },
    }
    if scrubbed is not None and table.needs_python:
        # Counts only (never a piece of text): the manifest's residual-risk note adds them up.
        entry["scrubbed"] = scrubbed.as_dict()
    return entry


def _export_rows(session, table, visits_restricted, keys, csv_path, parquet_path, request):
    """Rows through Python: SQLite's generalisations, and free text to scrub.

    Returns the rows written, the CSV's SHA-256 and what the scrubber replaced (counts)."""
    from warehouse.vault import names_for_scrubbing

    sql = _table_sql(table, session, visits_restricted, python=True)
    width = len(table.columns)
    names: dict[int, Any] = {}
    if table.needs_python and keys:
        by_key = names_for_scrubbing(keys.values())
        person_of = {key: person_id for person_id, key in keys.items()}
        names = {
            person_of[key]: pattern
            for key, values in by_key.items()
            if (pattern := name_pattern(values)) is not None
        }
    # Ages and times of day in the text follow the precision approved for the structured
    # variables (a 5-year band of birth: ages in 5-year bands; no time of day approved: none).
    policy = TextPolicy.from_generalisations(
        {item.variable.code: str(item.generalisation) for item in request.dataset_plan().variables}
    )
    scrubbed = ScrubCounts()
    writer = RowWriter(table.columns, csv_path, parquet_path)
    try:
        if session.postgres:
            rows = _copy_rows(session, table, sql)
        else:
            rows = (row for batch in session.stream(sql, None) for row in batch)
        transforms = [
            column.transform if not session.postgres else None for column in table.columns
        ]
        for row in rows:
            shift, person_id, reference = row[width], row[width + 1], row[width + 2]
            # Dates in the text move with the person's shift, from the row's own day.
            day = _as_date(reference) if person_id is not None else None
            dates = DateShift(int(shift), day) if day is not None else None
            values = []
            for column, transform, value in zip(table.columns, transforms, row, strict=False):
                if transform is not None:
                    value = transform(value, shift)
                if column.scrub:
                    before = value
                    value = scrub(value, names.get(person_id), policy, shift=dates)
                    if before:
                        scrubbed.add(before, value)
                values.append(value)
            writer.write(tuple(values))
        count, digest = writer.close()
        return count, digest, scrubbed
    except BaseException:
        writer.abort()
        raise


def _copy_rows(session, table, sql):
    types = [_PG_TYPES.get(column.kind, "timestamptz") for column in table.columns]
    statement = f"COPY ({sql}) TO STDOUT"
    with session.cursor.cursor.copy(statement, session.params(statement)) as copy:
        copy.set_types([*types, "int4", "int8", "date"])
        yield from copy.rows()


# --- Publish ---------------------------------------------------------------------------------


def publish(request: ExportRequest, plan: RunPlan) -> dict[str, Any]:
    """Assembles the parts, writes the dictionary and the manifest last, then renames at once."""
    target = Path(plan.target)
    if target.exists():
        raise ExportError(_("The dataset %(name)s already exists.") % {"name": target.name})
    summaries = []
    for part in plan.parts:
        marker = plan.part_dir(part.index) / "part.json"
        if not marker.exists():
            raise ExportError(
                _("Part %(index)s of the run is not done yet.") % {"index": part.index + 1}
            )
        summaries.append(json.loads(marker.read_text(encoding="utf-8")))
    dataset = request.dataset_plan()
    work = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        files = manifest_module.assemble(dataset, plan, summaries, work)
        if dataset.shape == "omop":
            files += _write_omop_reference_tables(request, dataset, work)
        files.append(manifest_module.write_dictionary(dataset, work))
        files.append(manifest_module.write_value_labels(dataset, work))
        manifest = manifest_module.build(request, plan, dataset, summaries, files)
        manifest_module.write(manifest, work)  # last of the files
        manifest_module.write_archive(work)  # the files and the manifest in one zip
        for path in work.iterdir():
            fsync_path(path)
        fsync_path(work)
        os.rename(work, target)
        fsync_path(target.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    shutil.rmtree(plan.staging, ignore_errors=True)
    return manifest


def _write_omop_reference_tables(request, dataset, work: Path) -> list[dict]:
    """location, concept and cdm_source: reference data, no person, written once."""
    from datetime import date as date_type

    from . import omop_plan

    entries = []
    published = omop_plan.published_tables(dataset, request.specification, request.decision_number)
    for table, rows in published.items():
        columns = omop_plan.reference_columns(table)
        csv_path, parquet_path = work / f"{table}.csv", work / f"{table}.parquet"
        writer = RowWriter(columns, csv_path, parquet_path)
        try:
            for row in rows:
                values = []
                for column in columns:
                    value = row.get(column.name)
                    if column.kind == Kind.DATE and isinstance(value, str):
                        value = date_type.fromisoformat(value)
                    values.append(value)
                writer.write(tuple(values))
            count, digest = writer.close()
        except BaseException:
            writer.abort()
            raise
        entries.append(manifest_module._file_entry(csv_path, digest, count))
        entries.append(manifest_module._file_entry(parquet_path, rows=count))
    return entries


def export_dataset(request: ExportRequest, *, target: Path | str, parts: int = 1) -> dict:
    """Plan, every part and publish in this process: the demo's and the tests' shortcut."""
    plan = plan_run(request, target=target, parts=parts)
    try:
        for part in plan.parts:
            run_part(request, plan, part.index)
        return publish(request, plan)
    except BaseException:
        shutil.rmtree(plan.staging, ignore_errors=True)
        raise
