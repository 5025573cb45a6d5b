"""Health of the services the portal needs: each database, Redis, a worker, beat, disk space.

``/healthz`` (public, for the load balancer) says "ok" or "failing" per check and answers 503
when one fails; it names no host, address or error. The detailed page (staff) adds timings,
free space, the heartbeat's age and the kind of each error. A check is "skipped" when the
deployment does not use what it checks (no Redis in the embedded demo broker, no worker where
tasks run eagerly).
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

OK = "ok"
FAILING = "failing"
SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    # For staff only: timings, sizes, the kind of error. Never a password or a URL.
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failing(self) -> bool:
        return self.status == FAILING


def _timed(name: str, probe: Callable[[], dict[str, Any] | None]) -> CheckResult:
    started = time.monotonic()
    try:
        details = probe() or {}
    except Skip as skip:
        return CheckResult(name, SKIPPED, {"reason": str(skip)})
    except Exception as exc:
        return CheckResult(
            name,
            FAILING,
            {"error": type(exc).__name__, "ms": round((time.monotonic() - started) * 1000, 1)},
        )
    details.setdefault("ms", round((time.monotonic() - started) * 1000, 1))
    return CheckResult(name, details.pop("_status", OK), details)


class Skip(Exception):
    """The deployment does not use what this check checks."""


def _database(alias: str) -> Callable[[], dict[str, Any]]:
    def probe() -> dict[str, Any]:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connections[alias].vendor}

    return probe


def _redis() -> dict[str, Any]:
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise Skip("the broker is not Redis")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _worker() -> dict[str, Any]:
    if not settings.EDS_HEALTH_CHECK_WORKER:
        raise Skip("not checked here (EDS_HEALTH_CHECK_WORKER)")
    from eds_portal.celery import app

    replies = app.control.ping(timeout=settings.EDS_HEALTH_WORKER_TIMEOUT) or []
    if not replies:
        return {"_status": FAILING, "workers": 0}
    return {"workers": len(replies)}


def _beat() -> dict[str, Any]:
    if not settings.EDS_HEALTH_CHECK_WORKER:
        raise Skip("not checked here (EDS_HEALTH_CHECK_WORKER)")
    from eds_portal.models import Heartbeat

    beat_at = Heartbeat.objects.filter(name="beat").values_list("beat_at", flat=True).first()
    if beat_at is None:
        return {"_status": FAILING, "last_beat": None}
    age = (timezone.now() - beat_at).total_seconds()
    status = OK if age <= settings.EDS_HEALTH_BEAT_STALE_SECONDS else FAILING
    return {"_status": status, "last_beat": beat_at.isoformat(), "age_seconds": round(age)}


def _existing(path: Path) -> Path:
    # The datasets' folder may not exist yet: its nearest existing parent is on the same disk.
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _disk() -> dict[str, Any]:
    usage = shutil.disk_usage(_existing(Path(settings.EDS_DATASETS_DIR)))
    free_mb = usage.free // (1024 * 1024)
    return {
        "_status": OK if free_mb >= settings.EDS_HEALTH_MIN_FREE_MB else FAILING,
        "free_mb": free_mb,
        "total_mb": usage.total // (1024 * 1024),
        "min_free_mb": settings.EDS_HEALTH_MIN_FREE_MB,
    }


def run_checks() -> list[CheckResult]:
    checks: list[tuple[str, Callable[[], dict[str, Any] | None]]] = [
        (f"database.{alias}", _database(alias)) for alias in settings.DATABASES
    ]
    checks += [("redis", _redis), ("worker", _worker), ("beat", _beat), ("disk", _disk)]
    return [_timed(name, probe) for name, probe in checks]


WEB_CHECKS = ("database.", "redis")


def web_checks(results: list[CheckResult]) -> list[CheckResult]:
    """What a web process needs to serve pages: its databases and Redis (sessions, throttles,
    the queue it hands tasks to). A dead worker or beat does not stop the web from serving."""
    return [result for result in results if result.name.startswith(WEB_CHECKS)]


def healthy(results: list[CheckResult]) -> bool:
    return not any(result.failing for result in results)


def public_summary(results: list[CheckResult]) -> dict[str, Any]:
    """What anyone may read: the verdict and each check's status, nothing else."""
    return {
        "status": "ok" if healthy(results) else "unavailable",
        "checks": {result.name: result.status for result in results},
    }


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"at": None, "results": None}


def cached_checks() -> list[CheckResult]:
    """The checks, at most once per ``EDS_HEALTH_CACHE_SECONDS`` in this process: a public URL
    asked in a loop must not make the portal ping its worker in a loop."""
    ttl = settings.EDS_HEALTH_CACHE_SECONDS
    now = time.monotonic()
    with _cache_lock:
        if ttl > 0 and _cache["at"] is not None and now - _cache["at"] < ttl:
            return _cache["results"]
    results = run_checks()
    with _cache_lock:
        _cache["at"], _cache["results"] = time.monotonic(), results
    return results
