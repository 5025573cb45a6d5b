"""Automatic disclosure checks on the outputs a project asks to take out (MIN-08, MIN-09, TRA-12).

Why not ``acro`` (PyPI): ACRO checks tables while the researcher computes them from the
microdata in their own session (``acro.crosstab``, ``pivot_table``, regressions): it needs the
person-level rows, which never enter the portal (MIN-07), and it passes a finished file
(``add_custom``) to a human without checking it. It also brings pandas, NumPy, SciPy,
statsmodels, matplotlib, lxml and rdflib into the web process. The portal only ever sees the
finished table, so the rules of the SDC guidelines for research outputs are written here, on
the table itself, with the portal's one small-cell threshold (``EDS_SMALL_CELL_THRESHOLD``).

A table is read as: a header row; the first column, and the next ones whose values are not
numbers, are labels; every other column holds numbers. A row or column labelled "Total" (or
"Ensemble") is a margin. Suppressed cells ("<11", "*", "") are skipped. For a table of
magnitudes (sums, means), each value column ``V`` comes with ``V__n`` (contributors),
``V__top1`` and ``V__top2`` (the two largest contributions); those companion columns are
checked, then left out of the released copy (``release_copy``).

Findings carry a rule, a place and parameters, never a sentence: the sentence is written when
shown (``describe``), in the reader's language.
"""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

# ACRO's defaults (SACRO / ESSnet guidelines): (n, k) = (2, 90 %), p = 10 %.
NK_N = 2
NK_K_PERCENT = 90
P_PERCENT = 10

MAX_ROWS = 5000
MAX_COLUMNS = 200
COMPANIONS = ("__n", "__top1", "__top2")
TOTAL_LABEL = re.compile(r"^\s*(total|totaux|ensemble|all|overall)\b", re.IGNORECASE)
PERCENT_HEADER = re.compile(r"%|\bpct\b|percent|pourcent|proportion|\btaux\b|\brate\b", re.I)
SUPPRESSED = re.compile(r"^\s*(<\s*\d+|\*+|-|n\.?d\.?|na|s)?\s*$", re.IGNORECASE)
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


class Rule(enum.StrEnum):
    """What a finding is about. Values are stable: stored with the findings and named in tests."""

    SMALL_CELL = "small_cell"
    """A count from 1 to threshold - 1 (or a magnitude with too few contributors)."""
    DOMINANCE_NK = "dominance_nk"
    """The two largest contributions make more than k % of a magnitude cell."""
    DOMINANCE_P = "dominance_p"
    """The rest of a magnitude cell lets the second contributor estimate the first within p %."""
    MISSING_CONTRIBUTORS = "missing_contributors"
    """A table of magnitudes without the contributors of each cell: dominance cannot be checked."""
    ZERO = "zero"
    """A zero count: it tells that nobody in the group has the attribute."""
    FULL_CELL = "full_cell"
    """A count equal to its margin: everybody in the group has the attribute."""
    DIFFERENCING = "differencing"
    """The difference with the same cell of a released table is a small group."""
    PERCENT_WITHOUT_DENOMINATOR = "percent_without_denominator"
    """Percentages without the counts they are computed on."""
    MISSING_DECLARED_COUNTS = "missing_declared_counts"
    """A figure without the counts it is drawn from."""
    UNREADABLE = "unreadable"
    """The table could not be read as rows and columns."""


@dataclass(frozen=True)
class Finding:
    rule: str
    row: str = ""
    column: str = ""
    value: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


class TableUnreadable(ValueError):
    pass


def _cells(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableUnreadable("encoding") from exc
    sample = text[:4096]
    delimiter = max(";,\t", key=sample.count) if sample else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for index, row in enumerate(reader):
        if index > MAX_ROWS:
            raise TableUnreadable("rows")
        rows.append([cell.strip() for cell in row[:MAX_COLUMNS]])
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        raise TableUnreadable("empty")
    return Table(rows[0], rows[1:])


def parse_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = []
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            if index > MAX_ROWS:
                raise TableUnreadable("rows")
            rows.append([_cells(value) for value in row[:MAX_COLUMNS]])
        workbook.close()
    except TableUnreadable:
        raise
    except Exception as exc:  # a damaged workbook raises anything from zipfile to KeyError
        raise TableUnreadable("xlsx") from exc
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        raise TableUnreadable("empty")
    return Table(rows[0], rows[1:])


def number(text: str) -> float | None:
    cleaned = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "").rstrip("%")
    if not NUMBER.match(cleaned):
        return None
    return float(cleaned.replace(",", "."))


def _is_suppressed(text: str) -> bool:
    return bool(SUPPRESSED.match(text))


def _companion_base(header: str) -> str | None:
    for suffix in COMPANIONS:
        if header.endswith(suffix):
            return header[: -len(suffix)]
    return None


@dataclass
class _Layout:
    labels: list[int]
    values: list[int]
    percents: list[int]
    companions: dict[str, dict[str, int]]
    total_columns: set[int]
    total_rows: set[int]


def _layout(table: Table) -> _Layout:
    width = len(table.header)
    columns = [[row[i] if i < len(row) else "" for row in table.rows] for i in range(width)]
    labels = []
    for i, column in enumerate(columns):
        filled = [v for v in column if not _is_suppressed(v)]
        # The first column always holds the rows' labels (départements are numbers too).
        textual = filled and all(number(v) is None for v in filled)
        if len(labels) == i and (i == 0 or textual):
            labels.append(i)
    companions: dict[str, dict[str, int]] = {}
    values, percents = [], []
    for i in range(width):
        if i in labels:
            continue
        header = table.header[i]
        base = _companion_base(header)
        if base is not None:
            companions.setdefault(base, {})[header[len(base) :]] = i
        elif PERCENT_HEADER.search(header) or any(v.endswith("%") for v in columns[i]):
            percents.append(i)
        else:
            values.append(i)
    total_columns = {i for i in values if TOTAL_LABEL.match(table.header[i])}
    total_rows = {
        r for r, row in enumerate(table.rows) if any(TOTAL_LABEL.match(row[i]) for i in labels)
    }
    return _Layout(labels, values, percents, companions, total_columns, total_rows)


def _row_label(table: Table, layout: _Layout, r: int) -> str:
    row = table.rows[r]
    return " / ".join(row[i] for i in layout.labels if i < len(row) and row[i]) or str(r + 2)


def _cell(row: list[str], i: int) -> str:
    return row[i] if i < len(row) else ""


def check_table(
    table: Table,
    *,
    threshold: int,
    magnitude: bool = False,
    released: Iterable[tuple[str, Table]] = (),
) -> list[Finding]:
    """Every finding on ``table``; an empty list when it passes."""
    layout = _layout(table)
    findings: list[Finding] = []
    if layout.percents and not layout.values:
        findings.append(
            Finding(Rule.PERCENT_WITHOUT_DENOMINATOR, column=table.header[layout.percents[0]])
        )
    if magnitude:
        findings += _check_magnitudes(table, layout, threshold)
    else:
        findings += _check_counts(table, layout, threshold)
        for reference, other in released:
            findings += _check_differencing(table, layout, reference, other, threshold)
    return findings


def _check_counts(table: Table, layout: _Layout, threshold: int) -> list[Finding]:
    findings = []
    inner_columns = [i for i in layout.values if i not in layout.total_columns]
    inner_rows = [r for r in range(len(table.rows)) if r not in layout.total_rows]
    for r, row in enumerate(table.rows):
        label = _row_label(table, layout, r)
        row_total = next(
            (number(_cell(row, i)) for i in layout.total_columns if number(_cell(row, i))), None
        )
        for i in layout.values:
            text = _cell(row, i)
            value = number(text)
            if value is None:
                continue
            place = {"row": label, "column": table.header[i], "value": text}
            if 1 <= value <= threshold - 1:
                findings.append(Finding(Rule.SMALL_CELL, **place, params={"threshold": threshold}))
                continue
            margin = i in layout.total_columns or r in layout.total_rows
            if value == 0 and not margin:
                findings.append(Finding(Rule.ZERO, **place))
            elif not margin and value > 0:
                column_total = next(
                    (
                        number(_cell(table.rows[t], i))
                        for t in layout.total_rows
                        if number(_cell(table.rows[t], i))
                    ),
                    None,
                )
                if row_total is not None and value == row_total and len(inner_columns) >= 2:
                    findings.append(Finding(Rule.FULL_CELL, **place, params={"margin": "row"}))
                elif column_total is not None and value == column_total and len(inner_rows) >= 2:
                    findings.append(Finding(Rule.FULL_CELL, **place, params={"margin": "column"}))
    return findings


def _check_magnitudes(table: Table, layout: _Layout, threshold: int) -> list[Finding]:
    findings = []
    for i in layout.values:
        header = table.header[i]
        companions = layout.companions.get(header, {})
        if "__n" not in companions or "__top1" not in companions or "__top2" not in companions:
            findings.append(Finding(Rule.MISSING_CONTRIBUTORS, column=header))
            continue
        for r, row in enumerate(table.rows):
            text = _cell(row, i)
            total = number(text)
            if total is None:
                continue
            place = {"row": _row_label(table, layout, r), "column": header, "value": text}
            contributors = number(_cell(row, companions["__n"])) or 0
            top1 = abs(number(_cell(row, companions["__top1"])) or 0)
            top2 = abs(number(_cell(row, companions["__top2"])) or 0)
            absolute = abs(total)
            if contributors < threshold:
                findings.append(
                    Finding(
                        Rule.SMALL_CELL,
                        **place,
                        params={"threshold": threshold, "contributors": int(contributors)},
                    )
                )
                continue
            if absolute > 0 and top1 + top2 > absolute * NK_K_PERCENT / 100:
                share = round(100 * (top1 + top2) / absolute)
                findings.append(
                    Finding(
                        Rule.DOMINANCE_NK,
                        **place,
                        params={"n": NK_N, "k": NK_K_PERCENT, "share": share},
                    )
                )
            # With the defaults, a cell failing the p % rule also fails (2, 90 %); both are
            # reported because the thresholds are settings that may be changed apart.
            if top1 > 0 and absolute - top1 - top2 < top1 * P_PERCENT / 100:
                findings.append(Finding(Rule.DOMINANCE_P, **place, params={"p": P_PERCENT}))
    return findings


def _cell_map(table: Table, layout: _Layout) -> dict[tuple[str, str], float]:
    cells = {}
    for r, row in enumerate(table.rows):
        label = _row_label(table, layout, r)
        for i in layout.values:
            value = number(_cell(row, i))
            if value is not None:
                cells[(label.casefold(), table.header[i].casefold())] = value
    return cells


def _check_differencing(
    table: Table, layout: _Layout, reference: str, other: Table, threshold: int
) -> list[Finding]:
    """Cells present in both tables (same row and column labels) whose difference is small:
    subtracting one from the other isolates that many persons."""
    mine = _cell_map(table, layout)
    theirs = _cell_map(other, _layout(other))
    findings = []
    for r, row in enumerate(table.rows):
        label = _row_label(table, layout, r)
        for i in layout.values:
            key = (label.casefold(), table.header[i].casefold())
            if key not in theirs or key not in mine:
                continue
            difference = abs(mine[key] - theirs[key])
            if 1 <= difference <= threshold - 1:
                findings.append(
                    Finding(
                        Rule.DIFFERENCING,
                        row=label,
                        column=table.header[i],
                        value=_cell(row, i),
                        params={
                            "release": reference,
                            "other": _format(theirs[key]),
                            "difference": _format(difference),
                            "threshold": threshold,
                        },
                    )
                )
    return findings


def _format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_declared_counts(text: str) -> Table:
    """A figure's counts, one "label; count" (or "label: count") a line, as a one-column table."""
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        label, _sep, count = line.rpartition(";") if ";" in line else line.rpartition(":")
        rows.append([label.strip() or line, count.strip()])
    return Table(["label", "count"], rows)


def check_declared_counts(text: str, *, threshold: int) -> list[Finding]:
    table = parse_declared_counts(text)
    if not any(number(row[1]) is not None for row in table.rows):
        return [Finding(Rule.MISSING_DECLARED_COUNTS)]
    return [f for f in check_table(table, threshold=threshold) if f.rule == Rule.SMALL_CELL]


def release_copy(data: bytes) -> bytes | None:
    """The CSV without its companion columns (``__n``, ``__top1``, ``__top2``); None when it
    has none, so that the checked file itself is released."""
    table = parse_csv(data)
    keep = [i for i, h in enumerate(table.header) if _companion_base(h) is None]
    if len(keep) == len(table.header):
        return None
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    for row in [table.header, *table.rows]:
        writer.writerow([_cell(row, i) for i in keep])
    return out.getvalue().encode("utf-8")


def describe(finding: dict[str, Any]) -> str:
    """The finding in words a researcher can act on, in the active language."""
    rule = finding.get("rule")
    defaults = {"n": NK_N, "k": NK_K_PERCENT, "p": P_PERCENT}
    defaults |= dict.fromkeys(("share", "release", "other", "difference", "threshold"), "?")
    p = {**defaults, **finding.get("params", {}), **finding}
    messages = {
        Rule.SMALL_CELL: (
            _(
                "%(contributors)s contributors: a magnitude needs at least %(threshold)s. "
                "Merge categories or suppress the cell."
            )
            if "contributors" in p.get("params", {})
            else _(
                "Count of %(value)s, below the threshold of %(threshold)s: merge categories, "
                "widen the bands or suppress the cell (and a second cell so it cannot be "
                "recomputed from the totals)."
            )
        ),
        Rule.DOMINANCE_NK: _(
            "The %(n)s largest contributions make %(share)s %% of this cell (more than %(k)s %%): "
            "the value reveals them. Suppress or merge the cell."
        ),
        Rule.DOMINANCE_P: _(
            "The second contributor could estimate the first one's value within %(p)s %%: "
            "suppress or merge the cell."
        ),
        Rule.MISSING_CONTRIBUTORS: _(
            'A table of magnitudes needs, for each value column, the columns "%(column)s__n", '
            '"%(column)s__top1" and "%(column)s__top2" (contributors and the two largest '
            "contributions); they are checked and left out of the released copy."
        ),
        Rule.ZERO: _(
            "Zero: it tells that nobody in this group has this attribute. Merge categories, or "
            "justify it if it is a structural zero (impossible by definition)."
        ),
        Rule.FULL_CELL: _(
            "Equal to its total: everybody in this group has this attribute. Merge categories "
            "or justify why it reveals nothing."
        ),
        Rule.DIFFERENCING: _(
            "Released table %(release)s has %(other)s in the same cell: the difference, "
            "%(difference)s, is below %(threshold)s and isolates a small group. Align the "
            "definitions or suppress the cell."
        ),
        Rule.PERCENT_WITHOUT_DENOMINATOR: _(
            'Percentages (column "%(column)s") without the counts they are computed on: add '
            "the denominators so that small groups can be checked."
        ),
        Rule.MISSING_DECLARED_COUNTS: _(
            'A figure must come with the counts it is drawn from, one "label; count" per line, '
            "so that they can be checked."
        ),
        Rule.UNREADABLE: _(
            "This table could not be read as rows and columns (CSV in UTF-8, or the first sheet "
            "of an XLSX workbook)."
        ),
    }
    template = messages.get(rule, "")
    try:
        return template % p
    except (KeyError, TypeError, ValueError):
        return template
