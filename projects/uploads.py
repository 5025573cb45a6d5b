"""What an uploaded document really is, and a name that is safe to store and to hand back.

The type is decided by the content only: the extension and the content type the browser sends
are whatever the sender wants them to be. Three formats are accepted, those a protocol, an
information note, a declaration of interests or a CV are written in:

- PDF: starts with ``%PDF-1.x`` / ``%PDF-2.x`` and ends with the ``%%EOF`` marker;
- DOCX: a ZIP container with ``[Content_Types].xml`` declaring a Word document (not a template,
  not a macro-enabled one) and ``word/document.xml``;
- ODT: a ZIP container whose first member is ``mimetype`` holding exactly
  ``application/vnd.oasis.opendocument.text``, without Basic macros or scripts.

ZIP containers are read without extracting anything: the end-of-central-directory record is
checked before ``zipfile`` parses the directory (member count and directory size), then the
declared uncompressed sizes, and only two small members are read, with bounded reads.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.utils.translation import gettext as _

from eds_portal.errors import Refused

# A Word or Writer document with many images has a few hundred members; anything far beyond is
# not a document someone wrote.
MAX_ZIP_MEMBERS = 5000
# Read into memory by zipfile at once: bounded before it is read.
MAX_ZIP_DIRECTORY_BYTES = 4 * 1024 * 1024
# Declared total once decompressed (text compresses about tenfold, images not at all).
MAX_ZIP_UNCOMPRESSED_BYTES = 512 * 1024 * 1024
# Members read to recognise the format are small XML or text files.
MAX_MEMBER_READ_BYTES = 1024 * 1024

# Acrobat looks for the end marker within the last kilobyte; so do we.
PDF_TAIL_BYTES = 1024
PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")

ZIP_LOCAL_HEADER = b"PK\x03\x04"
ZIP_END_RECORD = b"PK\x05\x06"
ZIP_END_RECORD_FORMAT = "<4s4H2LH"
ZIP_END_RECORD_SIZE = struct.calcsize(ZIP_END_RECORD_FORMAT)
ZIP_MAX_COMMENT = 0xFFFF

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_MAIN_TYPE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"

MAX_NAME_CHARACTERS = 100
# The stored name adds a prefix; 255 bytes is the usual limit of one path component.
MAX_NAME_BYTES = 150
DEFAULT_STEM = "document"
EXTENSION = re.compile(r"\.(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,5}$")
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


class UploadRefused(Refused):
    """A file that will not be stored; ``message`` says why, in words for the sender."""

    def __init__(self, message: str) -> None:
        super().__init__([message])
        self.message = message


@dataclass(frozen=True)
class DocumentType:
    code: str
    extension: str
    content_type: str
    label: str


PDF = DocumentType("pdf", "pdf", "application/pdf", "PDF")
DOCX = DocumentType(
    "docx",
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "DOCX (Word)",
)
ODT = DocumentType("odt", "odt", "application/vnd.oasis.opendocument.text", "ODT (OpenDocument)")
ACCEPTED_TYPES = (PDF, DOCX, ODT)
ACCEPT_ATTRIBUTE = ",".join(
    [f".{t.extension}" for t in ACCEPTED_TYPES] + [t.content_type for t in ACCEPTED_TYPES]
)


def max_upload_bytes() -> int:
    return settings.EDS_MAX_UPLOAD_BYTES


def max_upload_megabytes() -> str:
    megabytes = max_upload_bytes() / (1024 * 1024)
    return f"{megabytes:.0f}" if megabytes >= 1 else f"{megabytes:.2f}"


def size_limit_message() -> str:
    return _("The file is larger than the limit of %(limit)s MB.") % {
        "limit": max_upload_megabytes()
    }


def _not_accepted() -> UploadRefused:
    return UploadRefused(
        _("This file is not a PDF, ODT or DOCX document (its content was checked, not its name).")
    )


def detect_document_type(fileobj: IO[bytes], size: int) -> DocumentType:
    """The real type of ``fileobj`` (``size`` bytes), or ``UploadRefused``.

    Reads from the start of the file; leaves the position at 0.
    """
    if size <= 0:
        raise UploadRefused(_("The file is empty."))
    if size > max_upload_bytes():
        raise UploadRefused(size_limit_message())
    try:
        fileobj.seek(0)
        head = fileobj.read(8)
        if head.startswith(b"%PDF-"):
            return _check_pdf(fileobj, size)
        if head.startswith(ZIP_LOCAL_HEADER):
            return _check_zip_document(fileobj, size)
        raise _not_accepted()
    finally:
        fileobj.seek(0)


def _check_pdf(fileobj: IO[bytes], size: int) -> DocumentType:
    fileobj.seek(0)
    if not PDF_HEADER.match(fileobj.read(8)):
        raise _not_accepted()
    fileobj.seek(max(0, size - PDF_TAIL_BYTES))
    if b"%%EOF" not in fileobj.read(PDF_TAIL_BYTES):
        raise UploadRefused(_("This PDF file is incomplete or damaged (no end marker)."))
    return PDF


def _zip_end_record(fileobj: IO[bytes], size: int) -> tuple[int, int, int]:
    """(members, directory size, directory offset) from the end record, before any parsing."""
    tail_length = min(size, ZIP_END_RECORD_SIZE + ZIP_MAX_COMMENT)
    fileobj.seek(size - tail_length)
    tail = fileobj.read(tail_length)
    position = tail.rfind(ZIP_END_RECORD)
    if position < 0 or len(tail) - position < ZIP_END_RECORD_SIZE:
        raise _not_accepted()
    (
        _signature,
        disk,
        directory_disk,
        disk_entries,
        entries,
        directory_size,
        directory_offset,
        _comment_length,
    ) = struct.unpack(ZIP_END_RECORD_FORMAT, tail[position : position + ZIP_END_RECORD_SIZE])
    if disk != 0 or directory_disk != 0 or disk_entries != entries:
        raise _not_accepted()  # multi-volume archives are not documents
    return entries, directory_size, directory_offset


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(info) as member:
        return member.read(limit)


def _check_zip_document(fileobj: IO[bytes], size: int) -> DocumentType:
    entries, directory_size, _offset = _zip_end_record(fileobj, size)
    # 0xFFFF means "see the ZIP64 record": far more members than a document has.
    if entries == 0 or entries > MAX_ZIP_MEMBERS or entries == 0xFFFF:
        raise UploadRefused(_("This archive has too many members to be a document."))
    if directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise UploadRefused(_("This archive has too many members to be a document."))
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
            _check_members(infos)
            return _zip_type(archive, infos)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        ValueError,
        OSError,
        RuntimeError,
    ) as exc:
        # Damaged, truncated, encrypted or using an unknown compression method.
        raise _not_accepted() from exc


def _check_members(infos: list[zipfile.ZipInfo]) -> None:
    if not infos or len(infos) > MAX_ZIP_MEMBERS:
        raise UploadRefused(_("This archive has too many members to be a document."))
    # Data before the first member would make the file something else too (an executable
    # with a document appended, for instance).
    if infos[0].header_offset != 0:
        raise _not_accepted()
    if sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED_BYTES:
        raise UploadRefused(_("This archive expands to an unreasonable size; it was refused."))
    if any(info.flag_bits & 0x1 for info in infos):
        raise UploadRefused(_("Encrypted documents are not accepted; remove the password."))


def _zip_type(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> DocumentType:
    names = {info.filename for info in infos}
    first = infos[0]
    if first.filename == "mimetype":
        mimetype = _read_member(archive, first, len(ODT_MIMETYPE) + 1)
        if mimetype == ODT_MIMETYPE:
            if any(name.startswith(("Basic/", "Scripts/")) for name in names):
                raise _macros_refused()
            return ODT
        raise _not_accepted()  # another OpenDocument kind (spreadsheet, drawing...)
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        types = _read_member(archive, archive.getinfo("[Content_Types].xml"), MAX_MEMBER_READ_BYTES)
        if b"macroEnabled" in types or any(name.endswith("vbaProject.bin") for name in names):
            raise _macros_refused()
        if DOCX_MAIN_TYPE not in types:
            raise _not_accepted()
        return DOCX
    raise _not_accepted()


def _macros_refused() -> UploadRefused:
    return UploadRefused(
        _("Documents containing macros are not accepted; save it as a plain document or PDF.")
    )


def _name_character(ch: str) -> str:
    category = unicodedata.category(ch)
    if category.startswith("L") or category == "Nd" or ch in "._-":
        return ch
    return "_"


def sanitise_filename(name: str, document_type: DocumentType) -> str:
    """A harmless file name: no folder, no control character, the detected type's extension.

    Letters (accented ones included), digits, ``.``, ``_`` and ``-`` are kept; anything else
    becomes ``_``. The result never starts with a dot and is never empty.
    """
    # NFKC first: compatibility forms such as the fullwidth solidus become a real "/".
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = "".join(_name_character(ch) for ch in text.strip()).lstrip("._-")
    # The sender's extension goes (the detected type decides); "v2.0" is not an extension.
    extension = EXTENSION.search(text)
    stem = text[: extension.start()] if extension else text
    stem = re.sub(r"\.{2,}", ".", stem)
    stem = re.sub(r"_{2,}", "_", stem)
    suffix = f".{document_type.extension}"
    # One character is kept for the mark of a reserved name.
    stem = _truncate(stem, MAX_NAME_CHARACTERS - len(suffix) - 1, MAX_NAME_BYTES - len(suffix) - 1)
    stem = stem.strip("._- ") or DEFAULT_STEM
    if stem.upper().split(".")[0] in WINDOWS_RESERVED:
        stem = f"{stem}_"  # names a device on Windows, where the file may be saved
    return stem + suffix


def _truncate(text: str, characters: int, utf8_bytes: int) -> str:
    text = text[:characters]
    while len(text.encode("utf-8")) > utf8_bytes:
        text = text[:-1]
    return text


class UploadSizeLimitHandler(FileUploadHandler):
    """Drops an uploaded file as soon as it passes ``EDS_MAX_UPLOAD_BYTES``.

    Django writes any uploaded file to a temporary file however large it is; this handler
    stops that at the limit (the rest of the form is still read) and notes the field name in
    ``request.oversized_uploads`` so the view can say why the file is missing.
    """

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.limit = max_upload_bytes()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            oversized = getattr(self.request, "oversized_uploads", None)
            if oversized is None:
                oversized = set()
                self.request.oversized_uploads = oversized
            oversized.add(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
