"""What an output file really is, decided by its content (like ``projects.uploads``).

Tables: CSV (UTF-8 text) or XLSX (a workbook without macros). Figures: PNG, SVG (without
scripts, event handlers, embedded HTML or external references) or PDF. Texts: plain UTF-8 text
or PDF.
"""

from __future__ import annotations

import io
import re
import zipfile

from django.utils.translation import gettext as _

from access.models_outputs import OutputKind
from projects.uploads import PDF, DocumentType, UploadRefused, detect_document_type

CSV = DocumentType("csv", "csv", "text/csv", "CSV")
XLSX = DocumentType(
    "xlsx",
    "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "XLSX (Excel)",
)
PNG = DocumentType("png", "png", "image/png", "PNG")
SVG = DocumentType("svg", "svg", "image/svg+xml", "SVG")
TXT = DocumentType("txt", "txt", "text/plain", "TXT")

ACCEPTED = {
    OutputKind.TABLE: (CSV, XLSX),
    OutputKind.FIGURE: (PNG, SVG, PDF),
    OutputKind.TEXT: (TXT, PDF),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_DANGER = re.compile(
    rb"<script|<foreignobject|javascript:|\son[a-z]+\s*=|<!entity|(?:xlink:)?href\s*=\s*[\"']"
    rb"(?!#)",
    re.IGNORECASE,
)


def accept_attribute(kind: str) -> str:
    return ",".join(f".{t.extension}" for t in ACCEPTED[OutputKind(kind)])


def _text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    if any(name.endswith("vbaProject.bin") for name in names):
        raise UploadRefused(_("Workbooks containing macros are not accepted."))
    return "xl/workbook.xml" in names


def detect_output_type(data: bytes, kind: str) -> DocumentType:
    """The type of ``data`` among those accepted for ``kind``, or ``UploadRefused``."""
    if not data:
        raise UploadRefused(_("The file is empty."))
    found: DocumentType | None = None
    if data.startswith(PNG_SIGNATURE):
        found = PNG
    elif data.startswith(b"%PDF-"):
        detect_document_type(io.BytesIO(data), len(data))
        found = PDF
    elif _is_xlsx(data):
        found = XLSX
    else:
        text = _text(data)
        if text is not None:
            head = text.lstrip()[:1000].lower()
            if "<svg" in head or (head.startswith("<?xml") and "<svg" in text.lower()):
                if SVG_DANGER.search(data):
                    raise UploadRefused(
                        _(
                            "This SVG figure contains scripts, links or embedded content; "
                            "export it again as a plain drawing."
                        )
                    )
                found = SVG
            elif kind == OutputKind.TABLE:
                found = CSV
            else:
                found = TXT
    accepted = ACCEPTED[OutputKind(kind)]
    if found not in accepted:
        raise UploadRefused(
            _("This kind of output accepts %(types)s files (the content was checked).")
            % {"types": ", ".join(t.label for t in accepted)}
        )
    return found
