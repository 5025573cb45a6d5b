"""Writing and verifying the hash-chained audit trail.

``record_event`` is called by actions inside their transaction: if the action rolls back, so
does its event, and an event never exists for a change that did not happen. Appends are
serialised (an advisory lock on PostgreSQL, the database lock on SQLite) so the chain never
forks.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from eds_portal.logs import current_request_id
from eds_portal.models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant will do; it only has to be the same for every process appending to the chain.
_ADVISORY_LOCK_KEY = 0x45445341  # "EDSA"


def _never() -> bool:
    return False


def _always() -> bool:
    return True


@dataclass(frozen=True)
class RequestAddress:
    """The client's address during a request, and what tells whether it may be kept.

    The two questions are asked only when an event is written (they may read the session).
    """

    ip: str | None
    public_page: Callable[[], bool] = _never
    signed_in: Callable[[], bool] = _always


_request_address: contextvars.ContextVar[RequestAddress | None] = contextvars.ContextVar(
    "audit_address", default=None
)


def set_request_address(
    ip: str | None,
    *,
    public_page: Callable[[], bool] = _never,
    signed_in: Callable[[], bool] = _always,
) -> contextvars.Token:
    return _request_address.set(RequestAddress(ip, public_page, signed_in))


def reset_request_ip(token: contextvars.Token) -> None:
    _request_address.reset(token)


def _request_ip_or_hash(actor_id: int | None) -> tuple[str | None, str]:
    """(ip, client_hash) of an event written during the current request (LOG-04).

    Staff signed in: the address. A public page (the objection form, the status page, the
    transparency portal), or a request by nobody signed in: a hash under the period's rotating
    key (``eds_portal.addresses``), never the address.
    """
    address = _request_address.get()
    if address is None or not address.ip:
        return None, ""
    if address.public_page() or (actor_id is None and not address.signed_in()):
        from eds_portal.addresses import address_hash

        return None, address_hash(address.ip)
    return address.ip, ""


def _jsonable(value: Any) -> Any:
    """What the JSON column will give back, so the hash is computed on what is stored."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def compute_hash(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    before: Any,
    after: Any,
    ip: str | None,
    prev_hash: str,
    client_hash: str = "",
    request_id: str = "",
) -> str:
    payload = {
        "seq": seq,
        "occurred_at": _timestamp(occurred_at),
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": before,
        "after": after,
        "ip": ip,
        "prev_hash": prev_hash,
    }
    # Only when set: events written before the field existed keep the hash they were given.
    if client_hash:
        payload["client_hash"] = client_hash
    if request_id:
        payload["request_id"] = request_id
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _event_hash(event: AuditEvent) -> str:
    return compute_hash(
        seq=event.seq,
        occurred_at=event.occurred_at,
        actor_id=event.actor_id,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        before=event.before,
        after=event.after,
        ip=event.ip,
        prev_hash=event.prev_hash,
        client_hash=event.client_hash,
        request_id=event.request_id,
    )


def target_of(obj: Any) -> tuple[str, str]:
    """The (type, id) pair that names a model instance in the trail."""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}", str(obj.pk)


def record_event(
    *,
    action: str,
    actor: Any = None,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    before: Any = None,
    after: Any = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event to the trail, in the caller's transaction.

    ``actor`` is a user or None for the system; ``target`` a model instance, or name it with
    ``target_type`` and ``target_id``. ``before`` and ``after`` hold JSON-able values with as
    little personal data as possible (LOG-04): ids and states, not names. Without ``ip``, the
    request's address is recorded, or only its rotating hash for public and anonymous requests
    (``_request_ip_or_hash``); an explicit ``ip`` is kept as it is.
    """
    if target is not None:
        target_type, target_id = target_of(target)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor_id = None
    client_hash = ""
    if ip is None:
        ip, client_hash = _request_ip_or_hash(actor_id)
    before, after = _jsonable(before), _jsonable(after)
    request_id = current_request_id()

    with transaction.atomic(using="default"):
        connection = connections["default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
        last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
        seq = last["seq"] + 1 if last else 1
        prev_hash = last["hash"] if last else GENESIS_HASH
        occurred_at = timezone.now()
        digest = compute_hash(
            seq=seq,
            occurred_at=occurred_at,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=before,
            after=after,
            ip=ip,
            prev_hash=prev_hash,
            client_hash=client_hash,
            request_id=request_id,
        )
        return AuditEvent.objects.create(
            seq=seq,
            occurred_at=occurred_at,
            actor_id=actor_id,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            before=before,
            after=after,
            ip=ip,
            client_hash=client_hash,
            request_id=request_id,
            prev_hash=prev_hash,
            hash=digest,
        )


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "broken_seq": self.broken_seq,
            "reason": self.reason,
        }


def _events_in_order() -> Iterator[AuditEvent]:
    # Ordered by primary key (insertion order), not by seq: rows whose seq was rewritten to
    # reorder the chain then show up out of place.
    return AuditEvent.objects.order_by("pk").iterator(chunk_size=2000)


def verify_chain() -> ChainReport:
    """Recompute every link; report the first event that does not follow from the one before.

    Once old periods are purged (``eds_portal.audit_epochs``), the chain starts after the last
    purged period's signed checkpoint, from its last hash.
    """
    from eds_portal.audit_epochs import chain_start

    expected_seq, expected_prev = chain_start()
    checked = 0
    for event in _events_in_order():
        if event.seq != expected_seq:
            return ChainReport(
                checked,
                event.seq,
                f"event #{event.seq} found where #{expected_seq} was expected "
                "(an event was deleted or the order was changed)",
            )
        if event.prev_hash != expected_prev:
            return ChainReport(
                checked,
                event.seq,
                f"event #{event.seq} does not point to the hash of the event before it",
            )
        if _event_hash(event) != event.hash:
            return ChainReport(checked, event.seq, f"the content of event #{event.seq} was altered")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked)
