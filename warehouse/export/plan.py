"""What a dataset contains: the approved variables turned into tables, columns and SQL (MIN-01).

Only the variables of the approved specification are read, each under the generalisation the
commission approved; a code that is not in the catalogue, a direct identifier, a variable kept
in the vault or a generalisation the catalogue does not allow for it fails the plan, so that
no other field can be requested at run time.

Every output column is named after its variable's code (``visit.start`` -> ``visit_start``).
The person pseudonym, when approved, is the linking column of every table. Rows of a table are
those of the cohort's persons (and, for event tables, of the cohort's episodes); a table whose
approved variables select rows by concept (vital signs, observations, notes, diagnoses by
vocabulary) keeps only the rows of those concepts, and each such variable's column is empty on
the rows of another concept.

Each column carries two ways of computing it: one SQL expression for PostgreSQL, where rows
leave through COPY already generalised, and a portable raw expression plus a Python transform
for SQLite (the demo) and for the columns that need Python anyway (scrubbed free text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _

from warehouse import catalogue, codelists
from warehouse.catalogue import Generalisation, Sensitivity

PSEUDONYM_CODE = "person.pseudonym"

# Tables whose rows belong to an episode (restricted to the cohort's episodes).
_VISIT_LINKED = {
    "visit_occurrence",
    "visit_detail",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "note",
}
# Tables whose rows belong to a person but not to one episode.
_PERSON_ONLY = {"person", "observation_period", "death"}
# Not about a person: the places of the associations that cared for the cohort.
_REFERENCE = {"care_site"}
SUPPORTED_TABLES = _VISIT_LINKED | _PERSON_ONLY | _REFERENCE
# Output order of the tables (and of the files in the manifest).
TABLE_ORDER = (
    "person",
    "observation_period",
    "visit_occurrence",
    "visit_detail",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "note",
    "death",
    "care_site",
)
# Variables that no generalisation makes meaningful without other internal ids.
_UNSUPPORTED = {
    # A link to another episode's internal id: delivering it would give every project the same
    # episode ids (MIN-03); it needs a per-project episode pseudonym first.
    "visit.preceding",
}


class SpecificationError(ValueError):
    """The approved specification asks for something the engine must not or cannot deliver."""


class Kind:
    """The value types of output columns (CSV text, Parquet logical type)."""

    INT = "int"
    FLOAT = "float"
    TEXT = "text"
    DATE = "date"
    TIMESTAMP = "timestamp"


Transform = Callable[[Any, int], Any]


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    code: str
    generalisation: str
    kind: str
    pg: str  # generalised value, PostgreSQL
    raw: str  # raw value, portable SQL
    transform: Transform | None = None  # raw value, shift in days -> generalised value
    scrub: bool = False


@dataclass(frozen=True)
class TablePlan:
    table: str
    columns: tuple[ColumnPlan, ...]
    joins: tuple[str, ...]
    row_filter: str  # portable SQL, "" when every row of the cohort is kept

    @property
    def person_linked(self) -> bool:
        return self.table not in _REFERENCE

    @property
    def visit_linked(self) -> bool:
        return self.table in _VISIT_LINKED

    @property
    def needs_python(self) -> bool:
        return any(column.scrub for column in self.columns)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


@dataclass(frozen=True)
class ApprovedVariable:
    variable: catalogue.Variable
    generalisation: Generalisation


@dataclass(frozen=True)
class DatasetPlan:
    tables: tuple[TablePlan, ...]
    variables: tuple[ApprovedVariable, ...]
    # Person-level quasi-identifiers: the k-anonymity classes (one value per person).
    person_quasi_identifiers: tuple[ColumnPlan, ...] = field(default=())
    # Quasi-identifiers of events, delivered generalised as approved but not grouped in classes.
    event_quasi_identifiers: tuple[str, ...] = field(default=())

    def table(self, name: str) -> TablePlan:
        return next(table for table in self.tables if table.table == name)


def _model_fields(table: str) -> dict[str, models.Field]:
    from django.apps import apps

    for model in apps.get_app_config("warehouse").get_models():
        if model._meta.db_table == table:
            return {f.column: f for f in model._meta.concrete_fields}
    raise LookupError(table)


def _kind_of(field_: models.Field) -> str:
    if isinstance(field_, models.DateTimeField):
        return Kind.TIMESTAMP
    if isinstance(field_, models.DateField):
        return Kind.DATE
    if isinstance(field_, models.FloatField):
        return Kind.FLOAT
    if isinstance(field_, models.CharField | models.TextField):
        return Kind.TEXT
    return Kind.INT


def column_name(code: str) -> str:
    return code.replace(".", "_")


# --- Python transforms (SQLite path), the same results as the PostgreSQL expressions ---------


def _local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(_local_zone())


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    return value


def _shift_timestamp(value, shift):
    moment = _as_datetime(value)
    # Wall-clock arithmetic in the local zone, as PostgreSQL adds "n days" in the session zone.
    return None if moment is None else moment + timedelta(days=shift)


def _shift_date(value, shift):
    day = _as_date(value)
    return None if day is None else day + timedelta(days=shift)


def _week(reader):
    def transform(value, shift):
        day = reader(value)
        if day is None:
            return None
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"

    return transform


def _month(reader):
    def transform(value, shift):
        day = reader(value)
        return None if day is None else f"{day.year}-{day.month:02d}"

    return transform


def _five_year_band(value, shift):
    if value is None:
        return None
    low = int(value) // 5 * 5
    return f"{low}-{low + 4}"


def _as_int(value, shift):
    return None if value is None else int(value)


def _timestamp_value(value, shift):
    return _as_datetime(value)


def _date_value(value, shift):
    return _as_date(value)


# --- Building the plan -------------------------------------------------------------------------


class _Joins:
    """Joins a table's columns need, each added once, with stable aliases."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def add(self, key: str, sql: str) -> None:
        self.items.setdefault(key, sql)

    def concept(self, source: str) -> str:
        alias = f"c_{source.split('.')[-1]}"
        self.add(alias, f"LEFT JOIN concept {alias} ON {alias}.concept_id = {source}")
        return f"{alias}.concept_code"

    def location(self, location_column: str, via_care_site: bool) -> str:
        if via_care_site:
            self.add(
                "s_site", f"LEFT JOIN care_site s_site ON s_site.care_site_id = {location_column}"
            )
            location_column = "s_site.location_id"
        self.add(
            "l_place", f"LEFT JOIN location l_place ON l_place.location_id = {location_column}"
        )
        return "l_place.county"

    def region(self, departement: str) -> str:
        self.add(
            "r_place", f"LEFT JOIN export_region r_place ON r_place.departement = {departement}"
        )
        return "r_place.region"


def _concept_condition(variable: catalogue.Variable) -> str:
    column, vocabulary, codes = variable.concept_filter
    ids = codelists.concept_ids(vocabulary)
    if codes == "*":
        wanted = sorted(ids.values())
    else:
        wanted = sorted(ids[code] for code in codes.split("|"))
    if not wanted:
        return "1 = 0"
    # Integers from the shipped code lists, not input: safe to inline.
    return f"t.{column} IN ({', '.join(str(int(value)) for value in wanted)})"


def _variable_column(
    approved: ApprovedVariable, joins: _Joins, fields: dict[str, models.Field]
) -> ColumnPlan:
    variable, how = approved.variable, approved.generalisation
    name, code = column_name(variable.code), variable.code
    source = f"t.{variable.column}"
    G = Generalisation
    if code == PSEUDONYM_CODE:
        return ColumnPlan(name, code, how, Kind.TEXT, "m.pseudonym", "m.pseudonym")
    if variable.sensitivity == Sensitivity.FREE_TEXT:
        return ColumnPlan(name, code, how, Kind.TEXT, source, source, scrub=True)
    if code == "person.birth_date":
        year = "t.year_of_birth"
        if how == G.YEAR:
            return ColumnPlan(name, code, how, Kind.INT, year, year, _as_int)
        band = f"(({year} / 5) * 5)::text || '-' || (({year} / 5) * 5 + 4)::text"
        return ColumnPlan(name, code, how, Kind.TEXT, band, year, _five_year_band)
    if how in (G.DEPARTEMENT, G.REGION):
        departement = joins.location(source, via_care_site=variable.column == "care_site_id")
        if how == G.DEPARTEMENT:
            return ColumnPlan(name, code, how, Kind.TEXT, departement, departement)
        region = joins.region(departement)
        return ColumnPlan(name, code, how, Kind.TEXT, region, region)
    kind = _kind_of(fields[variable.column])
    if how in (G.SHIFTED_DATE, G.WEEK, G.MONTH):
        timestamp = kind == Kind.TIMESTAMP
        reader = _as_datetime if timestamp else _as_date
        if how == G.SHIFTED_DATE:
            if timestamp:
                pg = f"{source} + m.shift_days * INTERVAL '1 day'"
                return ColumnPlan(name, code, how, kind, pg, source, _shift_timestamp)
            pg = f"{source} + m.shift_days"
            return ColumnPlan(name, code, how, kind, pg, source, _shift_date)
        if how == G.WEEK:
            pg = f"to_char({source}, 'IYYY-\"W\"IW')"
            return ColumnPlan(name, code, how, Kind.TEXT, pg, source, _week(reader))
        pg = f"to_char({source}, 'YYYY-MM')"
        return ColumnPlan(name, code, how, Kind.TEXT, pg, source, _month(reader))
    # Exact values: concepts are delivered as their codes, never as internal concept ids.
    if variable.column.endswith("_concept_id"):
        concept = joins.concept(source)
        return ColumnPlan(name, code, how, Kind.TEXT, concept, concept)
    transform = {Kind.TIMESTAMP: _timestamp_value, Kind.DATE: _date_value}.get(kind)
    return ColumnPlan(name, code, how, kind, source, source, transform)


def approved_variables(specification: Mapping[str, Any]) -> tuple[ApprovedVariable, ...]:
    """The specification's variables, checked against the catalogue (MIN-01, MIN-02, MIN-04)."""
    entries = specification.get("variables")
    if not isinstance(entries, list) or not entries:
        raise SpecificationError(_("The approved specification lists no variable."))
    approved: list[ApprovedVariable] = []
    seen: set[str] = set()
    for entry in entries:
        code = entry.get("code") if isinstance(entry, Mapping) else None
        variable = catalogue.BY_CODE.get(code or "")
        if variable is None:
            raise SpecificationError(
                _("“%(code)s” is not a variable of the catalogue.") % {"code": code}
            )
        if code in seen:
            raise SpecificationError(_("“%(code)s” is listed twice.") % {"code": code})
        seen.add(code)
        if not variable.exportable or variable.in_vault:
            raise SpecificationError(
                _("“%(code)s” is a direct identifier and never leaves the warehouse.")
                % {"code": code}
            )
        for key in ("table", "column"):
            if entry.get(key) not in (None, getattr(variable, key)):
                raise SpecificationError(
                    _("“%(code)s” does not come from %(place)s.")
                    % {"code": code, "place": entry.get(key)}
                )
        try:
            how = Generalisation(entry.get("generalisation") or variable.default)
        except ValueError:
            how = None
        if how not in variable.generalisations:
            raise SpecificationError(
                _("“%(code)s” cannot be delivered as “%(how)s”.")
                % {"code": code, "how": entry.get("generalisation")}
            )
        if how == Generalisation.EXCLUDED:
            continue
        if code in _UNSUPPORTED:
            raise SpecificationError(
                _("“%(code)s” cannot be delivered by the export engine yet.") % {"code": code}
            )
        if variable.table not in SUPPORTED_TABLES:
            raise SpecificationError(
                _("The table of “%(code)s” cannot be exported.") % {"code": code}
            )
        approved.append(ApprovedVariable(variable, how))
    if not approved:
        raise SpecificationError(_("Every approved variable is excluded: nothing to deliver."))
    return tuple(approved)


def build_plan(
    specification: Mapping[str, Any], *, quasi_identifiers: Iterable[str] | None = None
) -> DatasetPlan:
    approved = approved_variables(specification)
    by_table: dict[str, list[ApprovedVariable]] = {}
    pseudonym = next((a for a in approved if a.variable.code == PSEUDONYM_CODE), None)
    for item in approved:
        if item.variable.code != PSEUDONYM_CODE:
            by_table.setdefault(item.variable.table, []).append(item)
    if pseudonym and "person" not in by_table:
        by_table["person"] = []
    tables = []
    for table in TABLE_ORDER:
        if table not in by_table:
            continue
        items = by_table[table]
        if pseudonym and table in SUPPORTED_TABLES - _REFERENCE:
            items = [pseudonym, *items]
        fields = _model_fields(table)
        joins = _Joins()
        filters = {
            _concept_condition(item.variable) for item in items if item.variable.concept_filter
        }
        columns = []
        for item in items:
            column = _variable_column(item, joins, fields)
            if item.variable.concept_filter and len(filters) > 1:
                # Several concepts share the table: a variable is empty on the others' rows.
                condition = _concept_condition(item.variable)
                column = ColumnPlan(
                    column.name,
                    column.code,
                    column.generalisation,
                    column.kind,
                    f"CASE WHEN {condition} THEN {column.pg} END",
                    f"CASE WHEN {condition} THEN {column.raw} END",
                    column.transform,
                    column.scrub,
                )
            columns.append(column)
        row_filter = " OR ".join(f"({condition})" for condition in sorted(filters))
        tables.append(TablePlan(table, tuple(columns), tuple(joins.items.values()), row_filter))

    wanted = (
        set(quasi_identifiers)
        if quasi_identifiers is not None
        else {
            item.variable.code
            for item in approved
            if item.variable.sensitivity == Sensitivity.QUASI_IDENTIFIER
        }
    )
    person_qi, event_qi = [], []
    person_fields = _model_fields("person")
    person_joins = _Joins()
    for item in approved:
        if item.variable.code not in wanted:
            continue
        if item.variable.table == "person":
            person_qi.append(_variable_column(item, person_joins, person_fields))
        else:
            event_qi.append(item.variable.code)
    return DatasetPlan(
        tables=tuple(tables),
        variables=approved,
        person_quasi_identifiers=tuple(person_qi),
        event_quasi_identifiers=tuple(sorted(event_qi)),
    )


def person_class_joins(plan: DatasetPlan) -> tuple[str, ...]:
    """The joins the person-level quasi-identifiers need, on ``person t``."""
    joins = _Joins()
    fields = _model_fields("person")
    for column in plan.person_quasi_identifiers:
        item = next(a for a in plan.variables if a.variable.code == column.code)
        _variable_column(item, joins, fields)
    return tuple(joins.items.values())
