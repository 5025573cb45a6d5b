"""The API's exception handler (settings ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

DRF's own handler answers its exceptions and Django's ``Http404`` (404) and
``PermissionDenied`` (403). Added here: an uncaught ``Refused`` becomes the documented 409,
``{"detail": ..., "reasons": [...]}`` (and ``field_errors`` when the refusal has some).
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from eds_portal.errors import Refused


def refusal_body(refused: Refused) -> dict[str, Any]:
    detail = refused.detail if refused.detail is not None else str(refused)
    body: dict[str, Any] = {
        "detail": str(detail),
        "reasons": [str(reason) for reason in refused.reasons],
    }
    field_errors = getattr(refused, "field_errors", None)
    if field_errors:
        body["field_errors"] = {k: [str(m) for m in v] for k, v in field_errors.items()}
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refused):
        # The refusal was the answer, as when views returned it themselves: no rollback.
        return Response(refusal_body(exc), status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
