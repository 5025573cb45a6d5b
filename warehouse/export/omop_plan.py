"""The OMOP-shaped delivery: the same approved rows, in OMOP CDM v5.4 tables and fields.

Chosen in the data request (``delivery_shape: "omop"``) and frozen in the approved
specification. Every table delivered has exactly the fields of the official field list, in its
order (``omop.fields``); a field is filled only when an approved variable (or a key linking the
tables) fills it, and is null otherwise, required or not: the commission approved variables,
not OMOP's required fields. Constants that say nothing of a person are filled where OMOP
requires them (``*_type_concept_id`` = 32817 "EHR", race and ethnicity = 0, "no matching
concept": France records neither).

Identifiers are integers, as OMOP wants: ``person_id``, ``visit_occurrence_id`` and each
table's own id are numbered in the run's shuffled order (part by part, so that parts never
collide: ``n * parts + part + 1``); doctors and associations are numbered in the order of their
project pseudonyms. The project pseudonyms themselves are in ``person_source_value``,
``visit_source_value``, ``provider_source_value`` and ``care_site_source_value``, so that
deletion notices (which name person pseudonyms) still find their rows. Dates are the shifted
days; a date approved as a week or a month is the first day of that (shifted) week or month, as
the dictionary says. Concept ids are the warehouse's: the standard concept where the shipped
code lists map one (0 otherwise), and the source concept beside it.

``location`` (the places approved, generalised), ``concept`` (the concepts the files use) and
``cdm_source`` (what the delivery is) are reference tables written at publication.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext as _

from warehouse import catalogue
from warehouse.catalogue import Generalisation as G

from . import omop
from .plan import (
    ApprovedVariable,
    ColumnPlan,
    DatasetPlan,
    Kind,
    TablePlan,
    _concept_condition,
    _Joins,
    _model_fields,
    _shifted_day,
    _truncated,
    _variable_column,
    approved_variables,
    person_quasi_identifiers,
)

SHAPE = omop.OMOP_SHAPE
# The codes of the columns that are not variables: keys and constants, and fields left null.
KEY_CODE = "omop.key"
NULL_CODE = "omop.null"
TYPE_EHR = 32817
# Written at publication from reference data (no person in them).
PUBLISHED_TABLES = ("location", "concept", "cdm_source")
# The part's numbering: replaced by the engine with the part's figures (integers).
PART_OF, PART_INDEX = "__PART_OF__", "__PART_INDEX__"

_OWN_KEY = {
    "observation_period": "observation_period_id",
    "visit_detail": "visit_detail_id",
    "condition_occurrence": "condition_occurrence_id",
    "drug_exposure": "drug_exposure_id",
    "procedure_occurrence": "procedure_occurrence_id",
    "measurement": "measurement_id",
    "observation": "observation_id",
    "note": "note_id",
}
# Concept fields that say which kind of row it is: filled whenever the table is delivered (the
# row filter of the approved variables already tells them).
_ROW_CONCEPTS = {
    "visit_detail": ("visit_detail_concept_id",),
    "measurement": ("measurement_concept_id", "unit_concept_id"),
    "observation": ("observation_concept_id",),
    "note": ("note_type_concept_id",),
}
_TYPE_FIELDS = {
    "observation_period": "period_type_concept_id",
    "visit_occurrence": "visit_type_concept_id",
    "visit_detail": "visit_detail_type_concept_id",
    "condition_occurrence": "condition_type_concept_id",
    "drug_exposure": "drug_type_concept_id",
    "procedure_occurrence": "procedure_type_concept_id",
    "measurement": "measurement_type_concept_id",
    "observation": "observation_type_concept_id",
    "death": "death_type_concept_id",
}
_SQL_TABLES = (
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
    "provider",
)


def shape_of(specification: Mapping[str, Any]) -> str:
    """``omop.delivery_shape_of``, refusing an unknown shape as the plan refuses the rest."""
    try:
        return omop.delivery_shape_of(dict(specification))
    except ValueError:
        from .plan import SpecificationError

        raise SpecificationError(
            _("“%(shape)s” is not a delivery format.")
            % {"shape": specification.get("delivery_shape")}
        ) from None


# --- Expressions ----------------------------------------------------------------------------


def _column(name: str, code: str, how: str, kind: str, pg: str, raw: str | None = None, **kw):
    return ColumnPlan(name, code, how, kind, pg, pg if raw is None else raw, **kw)


def _null(name: str, datatype: str) -> ColumnPlan:
    kind = {
        "integer": Kind.INT,
        "float": Kind.FLOAT,
        "date": Kind.DATE,
        "datetime": Kind.TIMESTAMP,
    }.get(datatype, Kind.TEXT)
    cast = {Kind.INT: "bigint", Kind.FLOAT: "double precision", Kind.DATE: "date"}.get(kind)
    pg = f"CAST(NULL AS {cast})" if cast else "CAST(NULL AS text)"
    if kind == Kind.TIMESTAMP:
        pg = "CAST(NULL AS timestamptz)"
    return ColumnPlan(name, NULL_CODE, G.EXACT, kind, pg, "NULL", link=True)


def _key(name: str, pg: str) -> ColumnPlan:
    return _column(name, KEY_CODE, G.EXACT, Kind.INT, pg, link=True)


def _number(order: str) -> str:
    """A part-unique integer id in the run's order (see PART_OF)."""
    return f"((row_number() OVER (ORDER BY {order}) - 1) * {PART_OF} + {PART_INDEX} + 1)"


def _week_start(timestamp: bool):
    day_of = _shifted_day(timestamp)

    def transform(value, shift):
        day = day_of(value, shift)
        return None if day is None else day - timedelta(days=day.weekday())

    return transform


def _month_start(timestamp: bool):
    day_of = _shifted_day(timestamp)

    def transform(value, shift):
        day = day_of(value, shift)
        return None if day is None else date(day.year, day.month, 1)

    return transform


def _dates(item: ApprovedVariable, fields: dict) -> tuple[ColumnPlan, ColumnPlan | None]:
    """(the date field, the datetime field or None) of a date variable, on the shifted day."""
    variable, how = item.variable, item.generalisation
    source = f"t.{variable.column}"
    timestamp = fields[variable.column].get_internal_type() == "DateTimeField"
    shifted = (
        f"({source} + m.shift_days * INTERVAL '1 day')"
        if timestamp
        else f"({source} + m.shift_days)"
    )
    day = f"{shifted}::date" if timestamp else shifted
    code = variable.code
    if how == G.WEEK:
        pg = f"date_trunc('week', {day})::date"
        date_column = _column(
            "", code, how, Kind.DATE, pg, source, transform=_week_start(timestamp)
        )
    elif how == G.MONTH:
        pg = f"date_trunc('month', {day})::date"
        date_column = _column(
            "", code, how, Kind.DATE, pg, source, transform=_month_start(timestamp)
        )
    else:
        date_column = _column(
            "", code, how, Kind.DATE, day, source, transform=_shifted_day(timestamp)
        )
    moment = None
    if how in (G.SHIFTED_HOUR, G.SHIFTED_MINUTE):
        unit = "hour" if how == G.SHIFTED_HOUR else "minute"
        moment = _column(
            "",
            code,
            how,
            Kind.TIMESTAMP,
            f"date_trunc('{unit}', {shifted})",
            source,
            transform=_truncated(unit),
        )
    return date_column, moment


# Date variables: (date field, datetime field) in their OMOP table.
_DATE_FIELDS = {
    "observation_period.start": ("observation_period_start_date", None),
    "observation_period.end": ("observation_period_end_date", None),
    "visit.start": ("visit_start_date", "visit_start_datetime"),
    "visit.end": ("visit_end_date", "visit_end_datetime"),
    "call.received": ("visit_detail_start_date", "visit_detail_start_datetime"),
    "act.start": ("visit_detail_start_date", "visit_detail_start_datetime"),
    "call.ended": ("visit_detail_end_date", "visit_detail_end_datetime"),
    "act.end": ("visit_detail_end_date", "visit_detail_end_datetime"),
    "diagnosis.date": ("condition_start_date", "condition_start_datetime"),
    "prescription.date": ("drug_exposure_start_date", "drug_exposure_start_datetime"),
    "procedure.date": ("procedure_date", "procedure_datetime"),
    "death.date": ("death_date", "death_datetime"),
}
# Coded or measured variables: OMOP field -> warehouse column ("=code" for the concept's code).
_VALUE_FIELDS: dict[str, dict[str, str]] = {
    "person.sex": {"gender_concept_id": "gender_concept_id", "gender_source_value": "=code"},
    "visit.kind": {"visit_concept_id": "visit_concept_id", "visit_source_value": "=code"},
    "call.reason": {"value_as_concept_id": "value_as_concept_id", "value_source_value": "=code"},
    "call.dispatch": {
        "value_as_concept_id": "value_as_concept_id",
        "value_source_value": "=code",
    },
    "outcome.kind": {"value_as_concept_id": "value_as_concept_id", "value_source_value": "=code"},
    "call.priority": {"value_as_number": "value_as_number"},
    "outcome.sick_leave_days": {"value_as_number": "value_as_number"},
    "diagnosis.icpc2": {
        "condition_concept_id": "condition_concept_id",
        "condition_source_value": "condition_source_value",
        "condition_source_concept_id": "condition_source_concept_id",
    },
    "diagnosis.icd10": {
        "condition_concept_id": "condition_concept_id",
        "condition_source_value": "condition_source_value",
        "condition_source_concept_id": "condition_source_concept_id",
    },
    "prescription.atc": {
        "drug_concept_id": "drug_concept_id",
        "drug_source_value": "drug_source_value",
        "drug_source_concept_id": "drug_source_concept_id",
    },
    "prescription.quantity": {"quantity": "quantity"},
    "prescription.days": {"days_supply": "days_supply"},
    "procedure.code": {
        "procedure_concept_id": "procedure_concept_id",
        "procedure_source_value": "procedure_source_value",
    },
    "death.cause": {"cause_source_value": "cause_source_value"},
}
for _code in (v.code for v in catalogue.VARIABLES if v.code.startswith("vitals.")):
    _VALUE_FIELDS[_code] = {"value_as_number": "value_as_number"}


def _value_columns(item: ApprovedVariable, fields: dict, joins: _Joins) -> dict[str, ColumnPlan]:
    variable = item.variable
    code, how = variable.code, item.generalisation
    found: dict[str, ColumnPlan] = {}
    if code in _DATE_FIELDS:
        day_field, moment_field = _DATE_FIELDS[code]
        day, moment = _dates(item, fields)
        found[day_field] = day
        if moment is not None and moment_field:
            found[moment_field] = moment
        return found
    if code == "person.birth_date":
        year = "t.year_of_birth"
        if how == G.FIVE_YEAR_BAND:
            # The first year of the 5-year band (the dictionary says so).
            pg = f"(({year} / 5) * 5)"
            return {
                "year_of_birth": _column(
                    "",
                    code,
                    how,
                    Kind.INT,
                    pg,
                    year,
                    transform=lambda value, shift: None if value is None else int(value) // 5 * 5,
                )
            }
        return {"year_of_birth": _column("", code, how, Kind.INT, year)}
    if code in ("person.residence", "association.departement"):
        place = _variable_column(item, joins, fields)
        # A département and a region may share a code ("11"): the level prefixes the value.
        joins.add(
            "loc",
            f"LEFT JOIN export_location loc ON loc.value = '{how}:' || {place.pg}",
        )
        return {"location_id": _column("", code, how, Kind.INT, "loc.number")}
    if code == "visit.doctor":
        joins.add(
            "p_doc", f"LEFT JOIN export_provider p_doc ON p_doc.provider_id = t.{variable.column}"
        )
        return {"provider_id": _column("", code, how, Kind.INT, "p_doc.number")}
    if code == "visit.association":
        if how != G.EXACT:
            return {}  # a place without a care site: not representable, said in the dictionary
        joins.add(
            "s_pse", f"LEFT JOIN export_site s_pse ON s_pse.care_site_id = t.{variable.column}"
        )
        return {"care_site_id": _column("", code, how, Kind.INT, "s_pse.number")}
    if code == "visit.preceding":
        joins.add(
            "vnp",
            "LEFT JOIN export_visit_n vnp ON vnp.visit_occurrence_id = "
            "t.preceding_visit_occurrence_id",
        )
        return {"preceding_visit_occurrence_id": _column("", code, how, Kind.INT, "vnp.number")}
    if variable.sensitivity == catalogue.Sensitivity.FREE_TEXT:
        return {"note_text": _column("", code, how, Kind.TEXT, f"t.{variable.column}", scrub=True)}
    mapping = _VALUE_FIELDS.get(code)
    if mapping is None:
        return {}
    for field, column in mapping.items():
        if column == "=code":
            source = f"t.{variable.column}"
            concept = joins.concept(source)
            found[field] = _column("", code, how, Kind.TEXT, concept)
        else:
            kind = Kind.FLOAT if field in ("value_as_number", "quantity") else Kind.INT
            if field.endswith("_source_value"):
                kind = Kind.TEXT
            found[field] = _column("", code, how, kind, f"t.{column}")
    return found


def _named(column: ColumnPlan, name: str, condition: str | None) -> ColumnPlan:
    pg, raw = column.pg, column.raw
    if condition:
        pg, raw = f"CASE WHEN {condition} THEN {pg} END", f"CASE WHEN {condition} THEN {raw} END"
    return ColumnPlan(
        name,
        column.code,
        column.generalisation,
        column.kind,
        pg,
        raw,
        column.transform,
        column.scrub,
        column.link,
    )


def _table(table: str, items: list[ApprovedVariable]) -> TablePlan:
    fields = _model_fields(table)
    joins = _Joins()
    filters = {_concept_condition(item.variable) for item in items if item.variable.concept_filter}
    filled: dict[str, ColumnPlan] = {}
    for item in items:
        condition = (
            _concept_condition(item.variable)
            if item.variable.concept_filter and len(filters) > 1
            else None
        )
        for name, column in _value_columns(item, fields, joins).items():
            column = _named(column, name, condition)
            if name in filled:
                # Two variables of one field on different rows (a call's and an act's start).
                previous = filled[name]
                column = ColumnPlan(
                    name,
                    previous.code,
                    previous.generalisation,
                    column.kind,
                    f"COALESCE({previous.pg}, {column.pg})",
                    f"COALESCE({previous.raw}, {column.raw})",
                    previous.transform or column.transform,
                    previous.scrub or column.scrub,
                )
            filled[name] = column
    # Keys and the constants OMOP requires.
    if table == "person":
        filled["person_id"] = _key("person_id", "m.number")
        filled["person_source_value"] = _column(
            "person_source_value", "person.pseudonym", G.EXACT, Kind.TEXT, "m.pseudonym", link=True
        )
        filled["race_concept_id"] = _key("race_concept_id", "0")
        filled["ethnicity_concept_id"] = _key("ethnicity_concept_id", "0")
    elif table in ("care_site", "provider"):
        alias = "s_self" if table == "care_site" else "p_self"
        filled[f"{table}_id"] = _key(f"{table}_id", f"{alias}.number")
        filled[f"{table}_source_value"] = _column(
            f"{table}_source_value",
            "care_site.pseudonym" if table == "care_site" else "visit.doctor",
            G.EXACT,
            Kind.TEXT,
            f"{alias}.pseudonym",
            link=True,
        )
        joins.add(
            alias,
            f"JOIN export_{'site' if table == 'care_site' else 'provider'} {alias} "
            f"ON {alias}.{table}_id = t.{table}_id",
        )
    else:
        filled["person_id"] = _key("person_id", "m.number")
    if table in _OWN_KEY:
        own = _OWN_KEY[table]
        filled[own] = _key(own, _number(f"m.rank, t.{own}"))
    if table in plan_visit_linked():
        joins.add(
            "vn",
            "JOIN export_visit_n vn ON vn.visit_occurrence_id = t.visit_occurrence_id",
        )
        filled["visit_occurrence_id"] = _key("visit_occurrence_id", "vn.number")
        if table == "visit_occurrence":
            pg, raw = _visit_pseudonym()
            filled["visit_source_value"] = _column(
                "visit_source_value", "visit.pseudonym", G.EXACT, Kind.TEXT, pg, raw, link=True
            )
    for name in _ROW_CONCEPTS.get(table, ()):
        filled.setdefault(name, _key(name, f"t.{name}"))
    if table in _TYPE_FIELDS:
        filled[_TYPE_FIELDS[table]] = _key(_TYPE_FIELDS[table], str(TYPE_EHR))
    columns = []
    for field in omop.fields(table):
        planned = filled.get(field.name)
        if planned is None:
            columns.append(_null(field.name, field.datatype))
        else:
            columns.append(_named(planned, field.name, None))
    row_filter = " OR ".join(f"({condition})" for condition in sorted(filters))
    return TablePlan(table, tuple(columns), tuple(joins.items.values()), row_filter)


def _visit_pseudonym() -> tuple[str, str]:
    from .plan import _keyed_sql

    return _keyed_sql("visit", "t.visit_occurrence_id")


def plan_visit_linked() -> set[str]:
    from .plan import _VISIT_LINKED

    return _VISIT_LINKED


def build_omop_plan(specification: Mapping[str, Any], *, quasi_identifiers=None) -> DatasetPlan:
    approved = approved_variables(specification)
    by_table: dict[str, list[ApprovedVariable]] = {"person": []}
    for item in approved:
        if item.variable.code == "person.pseudonym":
            continue
        by_table.setdefault(item.variable.table, []).append(item)
    if any(item.variable.code == "visit.doctor" for item in approved):
        by_table.setdefault("provider", [])
    exact_site = any(
        item.variable.code == "visit.association" and item.generalisation == G.EXACT
        for item in approved
    )
    if exact_site:
        by_table.setdefault("care_site", [])
    tables = tuple(_table(table, by_table[table]) for table in _SQL_TABLES if table in by_table)
    person_qi, event_qi = person_quasi_identifiers(approved, quasi_identifiers)
    return DatasetPlan(
        tables=tables,
        variables=approved,
        person_quasi_identifiers=person_qi,
        event_quasi_identifiers=event_qi,
        shape=SHAPE,
    )


def places(plan: DatasetPlan) -> list[str]:
    """The generalisations of the places the plan delivers (for the location table)."""
    return sorted(
        {
            item.generalisation
            for item in plan.variables
            if item.variable.code in ("person.residence", "association.departement")
        }
    )


# --- Reference tables written at publication ------------------------------------------------


def location_numbers() -> list[tuple[str, int]]:
    """``<level>:<code>`` -> location_id: départements from 1, regions from 1001 (public codes)."""
    from warehouse import reference

    rows = [
        (f"departement:{code}", number)
        for number, code in enumerate(sorted(reference.departement_names()), 1)
    ]
    rows += [
        (f"region:{code}", number)
        for number, code in enumerate(sorted(reference.region_names()), 1001)
    ]
    return rows


def _location_rows(plan: DatasetPlan) -> list[dict[str, Any]]:
    from warehouse import reference

    wanted = places(plan)
    departements = reference.departement_names()
    region_of = reference.region_of_departement()
    regions = reference.region_names()
    rows = []
    for value, number in location_numbers():
        level, code = value.split(":", 1)
        if level not in wanted:
            continue
        if level == "departement":
            row = {
                "county": code,
                "state": region_of.get(code),
                "location_source_value": f"{code} {departements[code]}"[:50],
            }
        else:
            names = regions[code]
            name = names[0] if isinstance(names, tuple) else names
            row = {"state": code, "location_source_value": f"{code} {name}"[:50]}
        rows.append({"location_id": number, "country_source_value": "FR", **row})
    return rows


def _concept_rows() -> list[dict[str, Any]]:
    from warehouse import codelists

    return [
        {
            "concept_id": concept.concept_id,
            "concept_name": (concept.name_en or concept.concept_code)[:255],
            "domain_id": concept.domain_id,
            "vocabulary_id": concept.vocabulary_id,
            "concept_class_id": concept.concept_class_id,
            "standard_concept": concept.standard_concept or None,
            "concept_code": concept.concept_code,
            "valid_start_date": date(1970, 1, 1),
            "valid_end_date": date(2099, 12, 31),
        }
        for concept in codelists.concepts()
    ]


def _cdm_source_row(specification: Mapping[str, Any], decision_number: str) -> dict[str, Any]:
    import hashlib

    from django.utils import timezone

    from warehouse import codelists

    vocabulary = hashlib.sha256((codelists.DATA_DIR / "concepts.csv").read_bytes()).hexdigest()[:12]
    reference = decision_number or f"v{specification.get('version', '')}"
    return omop.cdm_source_row(
        source_name="EDS SOS Médecins France (CONTACT)",
        abbreviation="EDS-SOS",
        holder="SOS Médecins France",
        description=(
            f"Pseudonymised extract approved by decision {reference}: project pseudonyms, dates "
            "shifted by whole weeks per person, generalisations as approved."
        )[:255],
        release_date=timezone.localdate(),
        vocabulary_version=f"EDS {vocabulary}",
        documentation_reference="data_dictionary.csv",
    )


def published_tables(
    plan: DatasetPlan, specification: Mapping[str, Any], decision_number: str
) -> dict[str, list[dict[str, Any]]]:
    """The reference tables of an OMOP-shaped dataset: table -> rows (field -> value)."""
    tables: dict[str, list[dict[str, Any]]] = {
        "concept": _concept_rows(),
        "cdm_source": [_cdm_source_row(specification, decision_number)],
    }
    if places(plan):
        tables["location"] = _location_rows(plan)
    return tables


def reference_columns(table: str) -> tuple[ColumnPlan, ...]:
    """The output columns of a reference table (every field, typed from the field list)."""
    return tuple(_null(field.name, field.datatype) for field in omop.fields(table))
