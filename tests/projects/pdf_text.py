"""What a PDF made by WeasyPrint says, and what it declares, for the tests (no PDF library here).

WeasyPrint writes compressed streams, objects in object streams, and text as glyph codes of
embedded fonts (Identity-H) with a ToUnicode map per font. ``pdf_text`` follows the fonts the
content streams select and maps their glyphs back to text, in drawing order; ``pdf_objects``
is every object's dictionary and every stream, decompressed (the catalogue, the XMP metadata).
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+)\s+0\s+obj\s*(.*?)\s*endobj", re.S)
_STREAM = re.compile(rb"^(<<.*>>)\s*stream\r?\n", re.S)
_REFERENCE = re.compile(rb"/([^\s/<>\[\]()]+)\s+(\d+)\s+0\s+R")
_TEXT_OPERATION = re.compile(
    rb"/([^\s/<>\[\]()]+)\s+[-\d.]+\s+Tf|\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|\bET\b"
)
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")


def _inflate(dictionary: bytes, data: bytes) -> bytes:
    if b"/FlateDecode" in dictionary:
        return zlib.decompress(data)
    return data


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary, decompressed stream or None), object streams unpacked."""
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(pdf):
        number, body = int(match.group(1)), match.group(2)
        stream = _STREAM.match(body)
        if stream is None:
            found[number] = (body, None)
            continue
        dictionary = stream.group(1)
        length = re.search(rb"/Length\s+(\d+)", dictionary)
        start = stream.end()
        data = body[start : start + int(length.group(1))] if length else body[start:]
        found[number] = (dictionary, _inflate(dictionary, data))
    for dictionary, data in list(found.values()):
        if data is None or b"/ObjStm" not in dictionary:
            continue
        first = int(re.search(rb"/First\s+(\d+)", dictionary).group(1))
        header = [int(n) for n in data[:first].split()]
        pairs = list(zip(header[::2], header[1::2], strict=True))
        for index, (number, offset) in enumerate(pairs):
            end = pairs[index + 1][1] if index + 1 < len(pairs) else len(data) - first
            found[number] = (data[first + offset : first + end].strip(), None)
    return found


def pdf_objects(pdf: bytes) -> str:
    """Every dictionary and stream of the PDF, decompressed, as text (for ``in`` checks)."""
    parts = []
    for dictionary, data in _objects(pdf).values():
        parts.append(dictionary.decode("latin-1"))
        if data is not None:
            parts.append(data.decode("latin-1"))
    return "\n".join(parts)


def _cmap(data: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    text = data.decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for source, target in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>", block):
            mapping[int(source, 16)] = bytes.fromhex(target).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for low, high, target in re.findall(
            r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]*>|\[[^\]]*\])", block
        ):
            low_code, high_code = int(low, 16), int(high, 16)
            if target.startswith("["):
                for offset, item in enumerate(re.findall(r"<([0-9A-Fa-f]*)>", target)):
                    mapping[low_code + offset] = bytes.fromhex(item).decode("utf-16-be")
            else:
                start = int(target[1:-1], 16)
                for offset in range(high_code - low_code + 1):
                    mapping[low_code + offset] = chr(start + offset)
    return mapping


def _fonts(objects: dict[int, tuple[bytes, bytes | None]]) -> dict[bytes, dict[int, str]]:
    """Resource name of each font -> its glyph-to-text map."""
    unicode_maps: dict[int, dict[int, str]] = {}
    for number, (dictionary, _data) in objects.items():
        to_unicode = re.search(rb"/ToUnicode\s+(\d+)\s+0\s+R", dictionary)
        if b"/Type0" in dictionary and to_unicode:
            stream = objects.get(int(to_unicode.group(1)), (b"", None))[1] or b""
            unicode_maps[number] = _cmap(stream)
    fonts: dict[bytes, dict[int, str]] = {}
    for dictionary, _data in objects.values():
        for name, number in _REFERENCE.findall(dictionary):
            if int(number) in unicode_maps:
                fonts[name] = unicode_maps[int(number)]
    return fonts


def _stream_text(data: bytes, fonts: dict[bytes, dict[int, str]]) -> list[str]:
    lines: list[str] = []
    current: dict[int, str] = {}
    line: list[str] = []
    for match in _TEXT_OPERATION.finditer(data):
        font, array, single = match.groups()
        if font is not None:
            current = fonts.get(font, {})
            continue
        if array is None and single is None:  # ET: the end of a text object
            lines.append("".join(line))
            line = []
            continue
        strings = _HEX.findall(array) if array is not None else [single]
        for string in strings:
            for index in range(0, len(string), 4):
                line.append(current.get(int(string[index : index + 4], 16), ""))
    if line:
        lines.append("".join(line))
    return lines


def _page_numbers(objects: dict[int, tuple[bytes, bytes | None]], number: int) -> list[int]:
    dictionary = objects[number][0]
    if re.search(rb"/Type\s*/Pages\b", dictionary):
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", dictionary).group(1)
        pages: list[int] = []
        for kid in re.findall(rb"(\d+)\s+0\s+R", kids):
            pages.extend(_page_numbers(objects, int(kid)))
        return pages
    return [number]


def pdf_pages_text(pdf: bytes) -> list[str]:
    """The text each page draws, page by page."""
    objects = _objects(pdf)
    fonts = _fonts(objects)
    catalogue = next(d for d, _s in objects.values() if re.search(rb"/Type\s*/Catalog\b", d))
    root = int(re.search(rb"/Pages\s+(\d+)\s+0\s+R", catalogue).group(1))
    pages = []
    for number in _page_numbers(objects, root):
        dictionary = objects[number][0]
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+\s+0\s+R)", dictionary)
        lines: list[str] = []
        for reference in re.findall(rb"(\d+)\s+0\s+R", contents.group(1) if contents else b""):
            data = objects[int(reference)][1] or b""
            lines.extend(_stream_text(data, fonts))
        pages.append("\n".join(lines))
    return pages


def pdf_text(pdf: bytes) -> str:
    """The text the PDF draws, one line per text object, page after page."""
    return "\n".join(pdf_pages_text(pdf))


def normalised(text: str) -> str:
    """Spaces of every kind (the French typography's narrow ones too) as one plain space."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
