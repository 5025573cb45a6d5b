"""The OMOP CDM v5.4 shape of a delivery: the official fields, and a check of a delivered folder.

``warehouse/data/omop_cdm54_fields.csv`` holds, for the tables the warehouse uses, four columns
of the OHDSI field list (``inst/csv/OMOP_CDMv5.4_Field_Level.csv`` of OHDSI/CommonDataModel,
Apache License 2.0, copyright the Observational Health Data Sciences and Informatics community),
rows in the official order. A test compares it with the official file.

Pure functions: no database, no settings. A dataset delivered in the OMOP shape is a folder of
``<omop_table>.csv`` files; ``check_folder`` says what in it departs from the standard, and
leaves to the caller what may be null (the portal withholds some required fields on purpose).
"""

from __future__ import annotations

import csv
import datetime
import functools
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

FIELDS_CSV = Path(__file__).resolve().parent.parent / "data" / "omop_cdm54_fields.csv"

# The shapes of a delivery, as the approved specification names them ("delivery_shape"; the
# projects app offers them as projects.sections.DeliveryShape): the portal's own tables, or
# OMOP CDM v5.4. A specification without the key predates the option: the portal's tables.
PORTAL_SHAPE = "portal"
OMOP_SHAPE = "omop"
DELIVERY_SHAPES = (PORTAL_SHAPE, OMOP_SHAPE)

CDM_VERSION = "v5.4"
# The concept of the CDM vocabulary (class "CDM") that names version 5.4 in cdm_source.
CDM_VERSION_CONCEPT_IDS = {"v5.4": 756265}

# A CSV cell larger than the csv module's default (128 KiB) is legitimate in a note's text.
_FIELD_SIZE_LIMIT = 1 << 28
_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# ISO 8601: a date, "T" (or a space, as RFC 3339 allows), a time to the minute at least, an
# optional fraction and an optional offset ("Z" or ±HH:MM).
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_VARCHAR = re.compile(r"varchar\((\d+|max)\)", re.IGNORECASE)
# Of a wrong value, the report quotes this many characters at most.
_SHOWN_VALUE = 40


@dataclass(frozen=True)
class OmopField:
    name: str
    required: bool
    datatype: str


@functools.cache
def _fields_by_table() -> dict[str, tuple[OmopField, ...]]:
    by_table: dict[str, list[OmopField]] = {}
    with FIELDS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_table.setdefault(row["cdmTableName"], []).append(
                OmopField(
                    name=row["cdmFieldName"],
                    required=row["isRequired"] == "Yes",
                    datatype=row["cdmDatatype"],
                )
            )
    return {table: tuple(fields) for table, fields in by_table.items()}


def tables() -> tuple[str, ...]:
    """The OMOP tables the portal knows, in the official order."""
    return tuple(_fields_by_table())


def fields(table: str) -> tuple[OmopField, ...]:
    """The fields of an OMOP CDM v5.4 table, in the official order (KeyError if unknown)."""
    try:
        return _fields_by_table()[table]
    except KeyError:
        raise KeyError(
            f"{table!r} is not one of the OMOP CDM v5.4 tables the portal knows"
        ) from None


def delivery_shape_of(specification: dict[str, Any]) -> str:
    """ "portal" or "omop": the shape an approved specification asks for (absent: "portal")."""
    shape = specification.get("delivery_shape") or PORTAL_SHAPE
    if shape not in DELIVERY_SHAPES:
        raise ValueError(f"unknown delivery shape {shape!r}")
    return shape


# --- Values ---------------------------------------------------------------------------------


def _is_integer(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None


def _is_float(value: str) -> bool:
    return _FLOAT.fullmatch(value) is not None and math.isfinite(float(value))


def _is_date(value: str) -> bool:
    if _DATE.fullmatch(value) is None:
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: str) -> bool:
    if _DATETIME.fullmatch(value) is None:
        return False
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def value_problem(datatype: str, value: str) -> str | None:
    """Why a non-empty CSV value is not of the OMOP datatype, or None when it is."""
    kind = datatype.strip().lower()
    if kind == "integer":
        return None if _is_integer(value) else "not an integer"
    if kind == "float":
        return None if _is_float(value) else "not a number"
    if kind == "date":
        return None if _is_date(value) else "not a date (YYYY-MM-DD)"
    if kind == "datetime":
        return None if _is_datetime(value) else "not an ISO 8601 date and time"
    varchar = _VARCHAR.fullmatch(kind)
    if varchar:
        limit = varchar.group(1)
        if limit != "max" and len(value) > int(limit):
            return f"longer than {limit} characters"
        return None
    raise ValueError(f"unknown OMOP datatype {datatype!r}")


def _shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN_VALUE else value[:_SHOWN_VALUE] + "…")


# --- A delivered folder ---------------------------------------------------------------------


@dataclass
class _Column:
    field: OmopField
    filled: int = 0
    bad: int = 0
    first_bad: str = ""
    first_bad_line: int = 0


def check_folder(path: str | Path, *, allowed_null: Collection[tuple[str, str]] = ()) -> list[str]:
    """What departs from OMOP CDM v5.4 in a folder of ``<omop_table>.csv`` files.

    Reported, file by file: a file whose name is not an OMOP table; a header that is not
    exactly the table's fields in the official order; a line with another number of cells than
    the header; a required field that is empty on every line of a non-empty file, unless
    ``(table, field)`` is in ``allowed_null``; values that are not of the field's datatype
    (integer, float, date YYYY-MM-DD, ISO 8601 datetime, varchar(n) longer than n). Files other
    than ``*.csv`` (Parquet, the manifest) are not read. An empty list: nothing to report.
    """
    folder = Path(path)
    if not folder.is_dir():
        return [_("%(folder)s: not a folder") % {"folder": folder}]
    allowed = {(str(table), str(field)) for table, field in allowed_null}
    known = _fields_by_table()
    problems: list[str] = []
    for file in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".csv"):
        table = file.stem
        if table not in known:
            problems.append(
                _("%(file)s: “%(table)s” is not an OMOP CDM v5.4 table")
                % {"file": file.name, "table": table}
            )
            continue
        problems.extend(_check_file(file, table, known[table], allowed))
    return problems


def _check_file(
    file: Path, table: str, expected: tuple[OmopField, ...], allowed: set[tuple[str, str]]
) -> list[str]:
    problems: list[str] = []
    names = [f.name for f in expected]
    csv.field_size_limit(_FIELD_SIZE_LIMIT)
    try:
        with file.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, None)
            if header is None:
                return [_("%(file)s: empty file, without the header line") % {"file": file.name}]
            if header != names:
                problems.append(_header_problem(file.name, header, names))
            by_name = {f.name: f for f in expected}
            # Values are checked under their own column, wherever the header put it.
            columns = [_Column(by_name[name]) if name in by_name else None for name in header]
            rows = 0
            bad_lengths = 0
            first_bad_line = 0
            for row in reader:
                rows += 1
                if len(row) != len(header):
                    bad_lengths += 1
                    first_bad_line = first_bad_line or reader.line_num
                    continue
                for column, value in zip(columns, row, strict=True):
                    if column is None or value == "":
                        continue
                    column.filled += 1
                    if value_problem(column.field.datatype, value) is not None:
                        column.bad += 1
                        if column.bad == 1:
                            column.first_bad, column.first_bad_line = value, reader.line_num
    except UnicodeDecodeError:
        return [*problems, _("%(file)s: not UTF-8 text") % {"file": file.name}]
    except csv.Error as error:
        return [
            *problems,
            _("%(file)s: not readable as CSV (%(error)s)") % {"file": file.name, "error": error},
        ]
    if bad_lengths:
        problems.append(
            _("%(file)s: %(count)s line(s) do not have %(cells)s cells (the first: line %(line)s)")
            % {
                "file": file.name,
                "count": bad_lengths,
                "cells": len(header),
                "line": first_bad_line,
            }
        )
    for column in columns:
        if column is None:
            continue
        field = column.field
        if column.bad:
            problems.append(
                _(
                    "%(file)s: %(field)s (%(datatype)s): %(count)s value(s) not valid "
                    "(expected: %(expected)s), the first %(value)s on line %(line)s"
                )
                % {
                    "file": file.name,
                    "field": field.name,
                    "datatype": field.datatype,
                    "count": column.bad,
                    "expected": _expected(field.datatype),
                    "value": _shown(column.first_bad),
                    "line": column.first_bad_line,
                }
            )
        if field.required and rows and column.filled == 0 and (table, field.name) not in allowed:
            problems.append(
                _("%(file)s: %(field)s is required by OMOP and empty on every line")
                % {"file": file.name, "field": field.name}
            )
    return problems


def _expected(datatype: str) -> str:
    kind = datatype.strip().lower()
    varchar = _VARCHAR.fullmatch(kind)
    if varchar:
        return _("at most %(n)s characters") % {"n": varchar.group(1)}
    return {
        "integer": _("an integer"),
        "float": _("a number"),
        "date": _("a date YYYY-MM-DD"),
        "datetime": _("an ISO 8601 date and time"),
    }[kind]


def _header_problem(file_name: str, header: list[str], names: list[str]) -> str:
    missing = [name for name in names if name not in header]
    extra = [name for name in header if name not in names]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    parts = []
    if missing:
        parts.append(_("missing: %(fields)s") % {"fields": ", ".join(missing)})
    if extra:
        parts.append(_("not OMOP fields: %(fields)s") % {"fields": ", ".join(extra)})
    if duplicated:
        parts.append(_("repeated: %(fields)s") % {"fields": ", ".join(duplicated)})
    if not parts:
        parts.append(_("the fields are not in the official order"))
    return _("%(file)s: the header differs from OMOP CDM v5.4 (%(details)s)") % {
        "file": file_name,
        "details": "; ".join(parts),
    }


# --- cdm_source -----------------------------------------------------------------------------


def _iso_date(value: datetime.date | str, name: str) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if not _is_date(text):
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), not {text!r}")
    return text


def cdm_source_row(
    *,
    source_name: str,
    abbreviation: str,
    holder: str,
    description: str,
    release_date: datetime.date | str,
    vocabulary_version: str,
    cdm_version: str = CDM_VERSION,
    cdm_release_date: datetime.date | str | None = None,
    documentation_reference: str = "",
    etl_reference: str = "",
) -> dict[str, Any]:
    """The one row of ``cdm_source``: every field, in the official order, ready for the CSV.

    ``release_date`` is the source's (the warehouse extract's); ``cdm_release_date`` (the
    delivery's) defaults to it. Dates come back as YYYY-MM-DD strings, absent optional texts as
    None (an empty CSV cell). A value OMOP would refuse (missing, too long) raises ValueError.
    """
    if cdm_version not in CDM_VERSION_CONCEPT_IDS:
        raise ValueError(f"unknown CDM version {cdm_version!r}: the portal delivers v5.4")
    row: dict[str, Any] = {
        "cdm_source_name": source_name,
        "cdm_source_abbreviation": abbreviation,
        "cdm_holder": holder,
        "source_description": description or None,
        "source_documentation_reference": documentation_reference or None,
        "cdm_etl_reference": etl_reference or None,
        "source_release_date": _iso_date(release_date, "release_date"),
        "cdm_release_date": _iso_date(
            release_date if cdm_release_date is None else cdm_release_date, "cdm_release_date"
        ),
        "cdm_version": cdm_version,
        "cdm_version_concept_id": CDM_VERSION_CONCEPT_IDS[cdm_version],
        "vocabulary_version": vocabulary_version,
    }
    for field in fields("cdm_source"):
        value = row[field.name]
        if value is None or value == "":
            if field.required:
                raise ValueError(f"cdm_source.{field.name} is required")
            continue
        problem = value_problem(field.datatype, str(value))
        if problem:
            raise ValueError(f"cdm_source.{field.name}: {problem}")
    return row
