"""The one writer of the tables people download: CSV for spreadsheets, and XLSX.

Every export of the portal (audit trail, registers, pipeline, transparency, record of
processing) goes through ``table_response``:

- text that a spreadsheet would run as a formula (a cell starting with ``=``, ``+``, ``-``,
  ``@``, a tab or a line break...) is neutralised with a leading apostrophe, whoever typed it;
- CSV is UTF-8 with a byte order mark (Excel reads accents right) and the separator people's
  spreadsheets expect: ``;`` in French, ``,`` in English, or the one asked for with
  ``?separator=semicolon|comma``;
- ``?format=xlsx`` gives the same rows as an Excel workbook (every cell text or number, never
  a formula).

Datasets delivered to researchers are not exports of this kind: they are data files, written
byte for byte and hashed in their manifest (``warehouse.export``).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import translation

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
SEPARATORS = {"semicolon": ";", "comma": ","}
BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet takes for the start of a formula (or of a DDE command), full-width forms
# included (Excel folds them).
_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def neutralise(value: Any) -> Any:
    """A cell as it may safely reach a spreadsheet: numbers and dates stay what they are, text
    that would start a formula gets a leading apostrophe, None becomes an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if text[:1] in _FORMULA_STARTS:
        return "'" + text
    return text


def separator_for(request: HttpRequest | None) -> str:
    """``;`` or ``,``: the one asked for, else the one of the reader's language."""
    if request is not None:
        asked = request.GET.get("separator", "")
        if asked in SEPARATORS:
            return SEPARATORS[asked]
    language = (translation.get_language() or "fr").split("-")[0]
    return ";" if language == "fr" else ","


def format_for(request: HttpRequest | None) -> str:
    asked = request.GET.get("format", CSV) if request is not None else CSV
    return asked if asked in FORMATS else CSV


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence[Any]], *, separator: str = ";") -> Iterator[str]:
    """The rows as CSV text, BOM first, every cell neutralised."""
    writer = csv.writer(_Echo(), delimiter=separator)
    yield BOM
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def _illegal_characters_removed(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", text)


def write_xlsx(rows: Iterable[Sequence[Any]], target: Any, *, sheet_title: str = "export") -> None:
    """The rows as a workbook of one sheet, written to ``target`` (a path or a binary file)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "export")
    for row in rows:
        cells = []
        for value in row:
            value = neutralise(value)
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=_illegal_characters_removed(value))
                # Text, whatever it starts with: openpyxl would store "=..." as a formula.
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(sheet, value=value)
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


def table_response(
    request: HttpRequest,
    rows: Iterable[Sequence[Any]],
    *,
    filename: str,
    streaming: bool = False,
    sheet_title: str = "export",
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    """The download of a table (its first row the header) as CSV or XLSX, as the request asks.

    ``filename`` has no extension; ``streaming`` sends a large CSV as it is read.
    """
    file_format = format_for(request)
    if file_format == XLSX:
        # Write-only workbooks keep rows in a temporary file, not in memory.
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        write_xlsx(rows, spool, sheet_title=sheet_title)
        spool.seek(0)
        return FileResponse(
            spool,
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )
    lines = csv_lines(rows, separator=separator_for(request))
    disposition = f'attachment; filename="{filename}.csv"'
    if streaming:
        return StreamingHttpResponse(
            lines, content_type=CSV_CONTENT_TYPE, headers={"Content-Disposition": disposition}
        )
    return HttpResponse(
        "".join(lines), content_type=CSV_CONTENT_TYPE, headers={"Content-Disposition": disposition}
    )
