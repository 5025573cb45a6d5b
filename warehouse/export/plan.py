"""What a dataset contains: the approved variables turned into tables, columns and SQL (MIN-01).

Only the variables of the approved specification are read, each under the generalisation the
commission approved; a code that is not in the catalogue, a direct identifier, a variable kept
in the vault or a generalisation the catalogue does not allow for it fails the plan, so that
no other field can be requested at run time.

Every output column is named after its variable's code (``visit.start`` -> ``visit_start``).
Linking columns come first and are always delivered: ``person_pseudonym`` in every table about
a person (``person`` itself is always delivered, so that the other tables join it), and
``visit_pseudonym`` in every table about an episode. Doctors and associations leave as
project pseudonyms too (``visit_doctor``, ``visit_association``, ``care_site_pseudonym``),
never as warehouse ids: every identifier a dataset holds is keyed with the project's key, so
two projects' files share none (MIN-03). Rows of a table are
those of the cohort's persons (and, for event tables, of the cohort's episodes); a table whose
approved variables select rows by concept (vital signs, observations, notes, diagnoses by
vocabulary) keeps only the rows of those concepts, and each such variable's column is empty on
the rows of another concept.

Every date leaves derived from the shifted date (the person's whole number of weeks): the
shifted day by default, the hour or the minute only when approved, the ISO week or the month of
the shifted day. No column is computed on the real date, so no pair of delivered columns gives
the shift away.

Each column carries two ways of computing it: one SQL expression for PostgreSQL, where rows
leave through COPY already generalised, and a portable raw expression plus a Python transform
for SQLite (the demo) and for the columns that need Python anyway (scrubbed free text).
Keyed expressions (the episode pseudonym) name their secrets as ``%(visit_i)s`` and
``%(visit_o)s`` bind parameters (``keyed_params``): the key is never in SQL text.
"""

from __future__ import annotations

import hashlib
import hmac
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
VISIT_PSEUDONYM_CODE = "visit.pseudonym"
CARE_SITE_PSEUDONYM_CODE = "care_site.pseudonym"
PERSON_LINK = "person_pseudonym"
VISIT_LINK = "visit_pseudonym"

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
# The day of a row of a table holding free text: "le 4 mai" in a note is the 4 May nearest it.
REFERENCE_DATES = {"note": "note_date"}
# Tables whose rows belong to a person but not to one episode.
_PERSON_ONLY = {"person", "observation_period", "death"}
# Not about a person: the places of the associations that cared for the cohort.
_REFERENCE = {"care_site"}
SUPPORTED_TABLES = _VISIT_LINKED | _PERSON_ONLY | _REFERENCE
# Reference tables of the OMOP shape too (the doctors of the cohort's episodes).
_REFERENCE_TABLES = _REFERENCE | {"provider"}
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
# Variables that no generalisation makes deliverable.
_UNSUPPORTED: set[str] = set()

# Columns that are not variables of the catalogue: the links between a dataset's tables.
LINKS: dict[str, tuple[str, str, str, str]] = {
    VISIT_PSEUDONYM_CODE: (
        "Pseudonyme de l'épisode",
        "Episode pseudonym",
        "Pseudonyme de l'épisode propre au projet (HMAC de l'identifiant interne avec la clé du "
        "projet) : relie les lignes d'un même épisode d'une table à l'autre.",
        "Project-specific episode pseudonym (HMAC of the internal id with the project's key): "
        "links the rows of one episode across tables.",
    ),
    CARE_SITE_PSEUDONYM_CODE: (
        "Pseudonyme de l'association",
        "Association pseudonym",
        "Pseudonyme de l'association propre au projet; c'est la valeur de visit_association "
        "quand celle-ci est livrée exacte.",
        "Project-specific pseudonym of the association; the value of visit_association when it "
        "is delivered exact.",
    ),
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
    link: bool = False  # a linking column (pseudonym), not an approved variable


@dataclass(frozen=True)
class TablePlan:
    table: str
    columns: tuple[ColumnPlan, ...]
    joins: tuple[str, ...]
    row_filter: str  # portable SQL, "" when every row of the cohort is kept

    @property
    def person_linked(self) -> bool:
        return self.table not in _REFERENCE_TABLES

    @property
    def visit_linked(self) -> bool:
        return self.table in _VISIT_LINKED

    @property
    def needs_python(self) -> bool:
        return any(column.scrub for column in self.columns)

    @property
    def reference_date(self) -> str:
        """The row's own day (real, never delivered as such), for the dates its free text
        writes without a year: the scrubber shifts them with the person's shift."""
        column = REFERENCE_DATES.get(self.table)
        return f"t.{column}" if column else "NULL"

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
    # "portal" (tables named after the catalogue's variables) or "omop" (OMOP CDM v5.4).
    shape: str = "portal"

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


def describe(column: ColumnPlan) -> tuple[str, str, str, str]:
    """French and English label and description of an output column (for the dictionary)."""
    if column.code in LINKS:
        return LINKS[column.code]
    if column.code == "omop.key":
        return (
            "Clé OMOP",
            "OMOP key",
            "Identifiant entier propre à cette livraison (numéroté dans l'ordre aléatoire du "
            "jeu), ou constante exigée par OMOP.",
            "Integer id of this delivery only (numbered in the dataset's random order), or a "
            "constant OMOP requires.",
        )
    if column.code == "omop.null":
        return (
            "Non livré",
            "Not delivered",
            "Champ OMOP qu'aucune variable approuvée ne remplit : toujours vide.",
            "OMOP field that no approved variable fills: always empty.",
        )
    variable = catalogue.BY_CODE[column.code]
    return variable.label_fr, variable.label_en, variable.description_fr, variable.description_en


# --- Keyed identifiers ------------------------------------------------------------------------

_HMAC_BLOCK = 64


def _subkey(key, purpose: str) -> bytes:
    """A key derived from the project key for one kind of identifier (32 bytes)."""
    return bytes.fromhex(key.sign(f"{purpose}-pseudonym"))


def keyed_pseudonym(key, purpose: str, value: Any) -> str | None:
    """HMAC-SHA256(subkey, str(value)), 128 bits in hex: what ``_keyed_sql`` computes in SQL."""
    if value is None:
        return None
    digest = hmac.new(_subkey(key, purpose), str(value).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def keyed_params(key) -> dict[str, bytes]:
    """The bind parameters of ``_keyed_sql``: the derived key xor-ed with HMAC's pads."""
    params = {}
    for purpose in ("visit",):
        subkey = _subkey(key, purpose).ljust(_HMAC_BLOCK, b"\0")
        params[f"{purpose}_i"] = bytes(byte ^ 0x36 for byte in subkey)
        params[f"{purpose}_o"] = bytes(byte ^ 0x5C for byte in subkey)
    return params


def _keyed_sql(purpose: str, value: str) -> tuple[str, str]:
    """(PostgreSQL, SQLite) expressions of ``keyed_pseudonym(purpose, value)``.

    HMAC written out with PostgreSQL's sha256(): H((K ^ opad) || H((K ^ ipad) || message)), the
    padded keys being bind parameters. SQLite calls a function the engine registers per run.
    """
    inner = f"sha256(%({purpose}_i)s::bytea || convert_to(({value})::text, 'UTF8'))"
    pg = f"left(encode(sha256(%({purpose}_o)s::bytea || {inner}), 'hex'), 32)"
    return pg, f"eds_pseudonym('{purpose}', {value})"


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
    if moment is None:
        return None
    # Wall-clock arithmetic in the local zone, as PostgreSQL adds "n days" in the session zone.
    local = moment.replace(tzinfo=None) + timedelta(days=shift)
    return local.replace(tzinfo=_local_zone())


def _shift_date(value, shift):
    day = _as_date(value)
    return None if day is None else day + timedelta(days=shift)


def _shifted_day(timestamp: bool):
    def transform(value, shift):
        if timestamp:
            moment = _shift_timestamp(value, shift)
            return None if moment is None else moment.date()
        return _shift_date(value, shift)

    return transform


def _truncated(unit: str):
    def transform(value, shift):
        moment = _shift_timestamp(value, shift)
        if moment is None:
            return None
        moment = moment.replace(second=0, microsecond=0)
        if unit == "hour":
            moment = moment.replace(minute=0)
        # Back to an instant in the local zone (an hour that DST skipped moves forward).
        return moment.replace(tzinfo=None).replace(tzinfo=_local_zone())

    return transform


def _week(timestamp: bool):
    day_of = _shifted_day(timestamp)

    def transform(value, shift):
        day = day_of(value, shift)
        if day is None:
            return None
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"

    return transform


def _month(timestamp: bool):
    day_of = _shifted_day(timestamp)

    def transform(value, shift):
        day = day_of(value, shift)
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
    assert variable.concept_filter is not None  # the caller picks such variables
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


SHIFTED = (
    Generalisation.SHIFTED_DATE,
    Generalisation.SHIFTED_HOUR,
    Generalisation.SHIFTED_MINUTE,
    Generalisation.WEEK,
    Generalisation.MONTH,
)


def _variable_column(
    approved: ApprovedVariable, joins: _Joins, fields: dict[str, models.Field]
) -> ColumnPlan:
    variable, how = approved.variable, approved.generalisation
    name, code = column_name(variable.code), variable.code
    source = f"t.{variable.column}"
    G = Generalisation
    if code == PSEUDONYM_CODE:
        return ColumnPlan(name, code, how, Kind.TEXT, "m.pseudonym", "m.pseudonym", link=True)
    if code == "visit.preceding":
        pg, raw = _keyed_sql("visit", source)
        return ColumnPlan(name, code, how, Kind.TEXT, pg, raw)
    if code == "visit.doctor":
        joins.add("p_doc", f"LEFT JOIN export_provider p_doc ON p_doc.provider_id = {source}")
        return ColumnPlan(name, code, how, Kind.TEXT, "p_doc.pseudonym", "p_doc.pseudonym")
    if code == "visit.association" and how == G.EXACT:
        joins.add("s_pse", f"LEFT JOIN export_site s_pse ON s_pse.care_site_id = {source}")
        return ColumnPlan(name, code, how, Kind.TEXT, "s_pse.pseudonym", "s_pse.pseudonym")
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
    if how in SHIFTED:
        timestamp = kind == Kind.TIMESTAMP
        # Every date is computed on the shifted date, never on the real one.
        if timestamp:
            shifted = f"({source} + m.shift_days * INTERVAL '1 day')"
            day = f"{shifted}::date"
        else:
            shifted = day = f"({source} + m.shift_days)"
        if how == G.SHIFTED_DATE:
            return ColumnPlan(name, code, how, Kind.DATE, day, source, _shifted_day(timestamp))
        if how in (G.SHIFTED_HOUR, G.SHIFTED_MINUTE):
            if not timestamp:
                raise SpecificationError(
                    _("“%(code)s” is a date: it has no time of day.") % {"code": code}
                )
            unit = "hour" if how == G.SHIFTED_HOUR else "minute"
            pg = f"date_trunc('{unit}', {shifted})"
            return ColumnPlan(name, code, how, Kind.TIMESTAMP, pg, source, _truncated(unit))
        if how == G.WEEK:
            pg = f"to_char({day}, 'IYYY-\"W\"IW')"
            return ColumnPlan(name, code, how, Kind.TEXT, pg, source, _week(timestamp))
        pg = f"to_char({day}, 'YYYY-MM')"
        return ColumnPlan(name, code, how, Kind.TEXT, pg, source, _month(timestamp))
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
        seen.add(variable.code)
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


def _link_columns(table: str) -> list[ColumnPlan]:
    """The linking columns a table starts with."""
    links = []
    if table in _VISIT_LINKED or table in _PERSON_ONLY:
        links.append(
            ColumnPlan(
                PERSON_LINK,
                PSEUDONYM_CODE,
                Generalisation.EXACT,
                Kind.TEXT,
                "m.pseudonym",
                "m.pseudonym",
                link=True,
            )
        )
    if table in _VISIT_LINKED:
        pg, raw = _keyed_sql("visit", "t.visit_occurrence_id")
        links.append(
            ColumnPlan(
                VISIT_LINK,
                VISIT_PSEUDONYM_CODE,
                Generalisation.EXACT,
                Kind.TEXT,
                pg,
                raw,
                link=True,
            )
        )
    if table == "care_site":
        links.append(
            ColumnPlan(
                column_name(CARE_SITE_PSEUDONYM_CODE),
                CARE_SITE_PSEUDONYM_CODE,
                Generalisation.EXACT,
                Kind.TEXT,
                "s_self.pseudonym",
                "s_self.pseudonym",
                link=True,
            )
        )
    return links


def build_plan(
    specification: Mapping[str, Any], *, quasi_identifiers: Iterable[str] | None = None
) -> DatasetPlan:
    from . import omop_plan

    if omop_plan.shape_of(specification) == omop_plan.SHAPE:
        return omop_plan.build_omop_plan(specification, quasi_identifiers=quasi_identifiers)
    approved = approved_variables(specification)
    # The person table is always delivered: every other table joins it on person_pseudonym.
    by_table: dict[str, list[ApprovedVariable]] = {"person": []}
    for item in approved:
        if item.variable.code != PSEUDONYM_CODE:
            by_table.setdefault(item.variable.table, []).append(item)
    tables = []
    for table in TABLE_ORDER:
        if table not in by_table:
            continue
        items = by_table[table]
        fields = _model_fields(table)
        joins = _Joins()
        if table == "care_site":
            joins.add("s_self", "JOIN export_site s_self ON s_self.care_site_id = t.care_site_id")
        filters = {
            _concept_condition(item.variable) for item in items if item.variable.concept_filter
        }
        columns = _link_columns(table)
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

    person_qi, event_qi = person_quasi_identifiers(approved, quasi_identifiers)
    return DatasetPlan(
        tables=tuple(tables),
        variables=approved,
        person_quasi_identifiers=person_qi,
        event_quasi_identifiers=event_qi,
    )


def person_quasi_identifiers(
    approved: tuple[ApprovedVariable, ...], quasi_identifiers: Iterable[str] | None
) -> tuple[tuple[ColumnPlan, ...], tuple[str, ...]]:
    """The person-level quasi-identifier columns (k-anonymity classes) and the event-level codes."""
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
    return tuple(person_qi), tuple(sorted(event_qi))


def person_link_column(specification: Mapping[str, Any]) -> str:
    """The column of the person file that holds the project pseudonym, in this shape."""
    from . import omop_plan

    if omop_plan.shape_of(specification) == omop_plan.SHAPE:
        return "person_source_value"
    return PERSON_LINK


def person_class_joins(plan: DatasetPlan) -> tuple[str, ...]:
    """The joins the person-level quasi-identifiers need, on ``person t``."""
    joins = _Joins()
    fields = _model_fields("person")
    for column in plan.person_quasi_identifiers:
        item = next(a for a in plan.variables if a.variable.code == column.code)
        _variable_column(item, joins, fields)
    return tuple(joins.items.values())
