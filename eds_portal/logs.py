"""Logs as JSON lines, each with the id of the request (or task) that wrote it.

- ``RequestIdMiddleware`` (first of the middleware) gives each request an id: the load
  balancer's ``X-Request-ID`` when it sends a well-formed one, else a new one. It is sent back
  in the response's ``X-Request-ID`` header, written on every log line of the request and on
  every audit event it writes, and travels with the Celery tasks the request starts (their log
  lines and events carry it too). One line per request says what was served: the route (never
  the path, which may hold a receipt number or an invitation's token), status and duration.
- ``JsonFormatter``: one JSON object per line (``DJANGO_LOG_FORMAT=json``, the default in
  production); ``plain`` is for a developer's terminal.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
# What an id may look like when it comes from outside: no spaces, quotes or line breaks that
# could forge a log line.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# Celery message header carrying the id to the worker.
TASK_HEADER = "eds_request_id"

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("eds_request_id", default="")

request_logger = logging.getLogger("eds_portal.request")


def current_request_id() -> str:
    """The id of the request or task being served, or "" outside of both."""
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if _ACCEPTED.fullmatch(value) else None


def bind_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


def unbind_request_id(token: contextvars.Token) -> None:
    _request_id.reset(token)


class RequestIdMiddleware:
    """Gives the request its id (see the module's docstring) and logs it once served."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = accepted_request_id(request.META.get(_META_KEY)) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = bind_request_id(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            match = getattr(request, "resolver_match", None)
            # The load balancer's health checks would drown everything else.
            quiet = getattr(match, "url_name", "") == "healthz" and response.status_code == 200
            request_logger.log(
                logging.DEBUG if quiet else logging.INFO,
                "request served",
                extra={
                    "method": request.method,
                    "route": getattr(match, "route", "") or "",
                    "view": getattr(match, "view_name", "") or "",
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            unbind_request_id(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``%(request_id)s`` in plain logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id() or "-"
        return True


# Attributes every LogRecord has: the rest came from ``extra=`` and goes into the JSON object.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "") or current_request_id()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id if request_id not in ("", "-") else None,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


# --- Celery: the id travels with the tasks a request starts ----------------------------------


def _before_publish(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


def _task_prerun(task_id=None, task=None, **kwargs) -> None:
    if task is None or getattr(task.request, "is_eager", False):
        return  # an eager task runs inside the request, under its id already
    incoming = accepted_request_id(getattr(task.request, TASK_HEADER, None))
    if incoming is None:
        headers = getattr(task.request, "headers", None) or {}
        incoming = accepted_request_id(headers.get(TASK_HEADER))
    _task_tokens[task_id] = bind_request_id(incoming or f"task-{task_id}")


def _task_postrun(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        unbind_request_id(token)


def connect_celery_signals() -> None:
    from celery import signals

    signals.before_task_publish.connect(_before_publish, weak=False)
    signals.task_prerun.connect(_task_prerun, weak=False)
    signals.task_postrun.connect(_task_postrun, weak=False)
