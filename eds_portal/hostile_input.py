"""Text and numbers that no page or API should try to store or parse: refused at the edge.

PostgreSQL refuses a NUL byte in text and JSON; a lone surrogate cannot be encoded at all; other
control characters have no business in a protocol, a search or an address and break exports.
``RefuseHostileInputMiddleware`` answers 400 for such a path, query string or form body, before
any view runs; the API's JSON parser does the same for JSON bodies. A view that must keep what
was typed (the draft's sections) says ``keeps_hostile_text = True`` and refuses it itself.

Numbers are parsed by ``strict_int``: ASCII digits only (``"²".isdigit()`` and ``int("٣")`` are
both true in Python), within a signed 64-bit integer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.utils.translation import gettext_lazy

__all__ = [
    "HOSTILE_TEXT_MESSAGE",
    "RefuseHostileInputMiddleware",
    "has_hostile_text",
    "is_hostile",
    "strict_int",
]

INT64_MAX = 2**63 - 1

# C0 controls but tab, line feed and carriage return (typed in text areas), DEL, C1 controls,
# and the surrogate halves (a JSON "\ud800" decodes to one).
_HOSTILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# In a path or a query string, no control character at all.
_HOSTILE_IN_ADDRESS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ASCII_INTEGER = re.compile(r"-?[0-9]+")

HOSTILE_TEXT_MESSAGE = gettext_lazy(
    "The text holds a control character (such as a NUL byte) or an invalid character. "
    "Remove it and try again."
)
HOSTILE_ADDRESS_MESSAGE = gettext_lazy(
    "The address holds a control character (such as a NUL byte) or an invalid character."
)
HUGE_NUMBER_MESSAGE = gettext_lazy("The address holds a number too large to name anything.")


def is_hostile(text: str, *, address: bool = False) -> bool:
    return bool((_HOSTILE_IN_ADDRESS if address else _HOSTILE).search(text))


def has_hostile_text(data: Any) -> bool:
    """True when a string anywhere in ``data`` (keys included) is hostile."""
    if isinstance(data, str):
        return is_hostile(data)
    if isinstance(data, Mapping):
        return any(has_hostile_text(key) or has_hostile_text(v) for key, v in data.items())
    if hasattr(data, "lists"):  # a QueryDict
        return any(has_hostile_text(key) or has_hostile_text(v) for key, v in data.lists())
    if isinstance(data, list | tuple):
        return any(has_hostile_text(item) for item in data)
    return False


def strict_int(raw: Any, *, minimum: int = -INT64_MAX - 1, maximum: int = INT64_MAX) -> int | None:
    """The integer written in ``raw`` in ASCII digits, within the bounds; None otherwise."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _ASCII_INTEGER.fullmatch(raw) and len(raw) <= 20:
        value = int(raw)
    else:
        return None
    return value if minimum <= value <= maximum else None


def _query_is_hostile(query_string: str) -> bool:
    try:
        raw = query_string.encode("iso-8859-1")
    except UnicodeEncodeError:
        raw = query_string.encode("utf-8", "surrogatepass")
    for pair in raw.split(b"&"):
        for piece in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(piece.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return True
            if is_hostile(text, address=True):
                return True
    return False


def _path_has_huge_number(path: str) -> bool:
    # A number segment beyond 64 bits can name no object (SQLite cannot even bind it).
    return any(
        segment.isascii() and segment.isdigit() and strict_int(segment) is None
        for segment in path.split("/")
    )


def refusal(request: HttpRequest, message: Any) -> HttpResponse:
    """The 400 answer: JSON on the API, the portal's page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": str(message)}, status=400)
    body: str
    try:
        body = loader.render_to_string("400.html", {"message": message}, request=request)
    except Exception:  # the refusal must not become a 500
        body = str(message)
    return HttpResponseBadRequest(body)


class RefuseHostileInputMiddleware:
    """400 for a path, query string or form body holding control characters or invalid text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Django decodes the path and re-percent-encodes bytes that are not UTF-8.
        path = request.path_info
        if is_hostile(path, address=True) or _query_is_hostile(
            request.META.get("QUERY_STRING", "")
        ):
            return refusal(request, HOSTILE_ADDRESS_MESSAGE)
        if _path_has_huge_number(path):
            return refusal(request, HUGE_NUMBER_MESSAGE)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.method not in {"POST", "PUT", "PATCH"} or request.path_info.startswith("/api/"):
            # The API's bodies go through its parser (eds_portal.api.parsers).
            return None
        view_class = getattr(view_func, "view_class", None)
        if getattr(view_class, "keeps_hostile_text", False):
            return None
        content_type = request.content_type or ""
        if content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            return None
        try:
            post = request.POST
        except Exception:  # a malformed body is Django's to answer
            return None
        if has_hostile_text(post) or any(
            is_hostile(upload.name or "")
            for field in request.FILES
            for upload in request.FILES.getlist(field)
        ):
            return refusal(request, HOSTILE_TEXT_MESSAGE)
        return None
