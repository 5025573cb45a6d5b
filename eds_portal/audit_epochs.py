"""The audit trail in epochs: signed checkpoints, their verification, archive and purge (LOG-04).

The chain (``eds_portal.audit``) is cut into calendar months (UTC). Once a month is over, the
nightly task writes its checkpoint: the last event's number and hash, the previous checkpoint's
hash, signed with an Ed25519 key read from a file the database does not hold
(``EDS_AUDIT_SIGNING_KEY_FILE``). The checkpoint is also written as a file in
``EDS_AUDIT_CHECKPOINT_DIR`` and mailed to the DPOs, so that rewriting the database (events and
checkpoints together) is caught by the copies kept elsewhere.

A period past the logs' retention (``EDS_RETENTION_AUDIT_DAYS``) is exported with its
checkpoint to ``EDS_AUDIT_ARCHIVE_DIR`` and only then deleted (the database trigger refuses to
delete events of a period not archived); the chain then verifies from the last purged
checkpoint's hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eds_portal.audit import GENESIS_HASH, record_event
from eds_portal.models import AuditCheckpoint, AuditEvent

logger = logging.getLogger(__name__)

STATEMENT_FORMAT = "eds-audit-checkpoint/1"


# --- Keys ---------------------------------------------------------------------------------------


def create_signing_key(path: Path) -> str:
    """Writes a new private key (PEM, mode 0600) at ``path``; returns its key id."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key_id(key.public_key())


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"audit key file {path!r} cannot be read: {exc}") from exc


def signing_key() -> Ed25519PrivateKey | None:
    path = settings.EDS_AUDIT_SIGNING_KEY_FILE
    if not path:
        return None
    key = serialization.load_pem_private_key(_read(path), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"EDS_AUDIT_SIGNING_KEY_FILE={path!r} is not an Ed25519 key.")
    return key


def verify_key() -> Ed25519PublicKey | None:
    """The public key: its own file when given (a verifier needs no private key), else derived."""
    path = settings.EDS_AUDIT_VERIFY_KEY_FILE
    if path:
        key = serialization.load_pem_public_key(_read(path))
        if not isinstance(key, Ed25519PublicKey):
            raise ImproperlyConfigured(f"EDS_AUDIT_VERIFY_KEY_FILE={path!r} is not Ed25519.")
        return key
    private = signing_key()
    return private.public_key() if private is not None else None


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --- Periods ------------------------------------------------------------------------------------


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return month_start(start + timedelta(days=32))


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checkpoint_hash(checkpoint: AuditCheckpoint) -> str:
    """What the next checkpoint points to: the statement and its signature."""
    return hashlib.sha256(f"{checkpoint.statement}\n{checkpoint.signature}".encode()).hexdigest()


def checkpoint_document(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    """The checkpoint as written to its file and mailed: verifiable with the public key alone."""
    return {
        "statement": json.loads(checkpoint.statement),
        "signature": checkpoint.signature,
        "key_id": checkpoint.key_id,
    }


def _write_file(checkpoint: AuditCheckpoint) -> Path:
    directory = Path(settings.EDS_AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"checkpoint-{checkpoint.epoch:06d}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(checkpoint_document(checkpoint), indent=2, sort_keys=True))
    os.replace(temporary, path)
    return path


def _mail_dpos(checkpoint: AuditCheckpoint) -> None:
    from eds_portal import mail
    from eds_portal.models import User
    from eds_portal.roles import Role

    recipients = list(
        User.objects.filter(groups__name=Role.DPO.value, is_active=True).values_list(
            "email", flat=True
        )
    )
    if not recipients:
        return
    mail.queue_mail(
        kind="audit.checkpoint",
        reference=str(checkpoint.epoch),
        to=recipients,
        subject=_("Audit trail checkpoint %(epoch)s") % {"epoch": checkpoint.epoch},
        body=_(
            "The audit trail's period from %(start)s to %(end)s is closed. Keep this signed "
            "checkpoint apart from the portal: it proves later that the trail was not rewritten."
        )
        % {
            "start": checkpoint.period_start.date().isoformat(),
            "end": checkpoint.period_end.date().isoformat(),
        }
        + "\n\n"
        + json.dumps(checkpoint_document(checkpoint), indent=2, sort_keys=True),
    )


def close_periods(*, now: datetime | None = None) -> list[AuditCheckpoint]:
    """Writes the checkpoint of every closed month not yet checkpointed; returns them.

    Months without events get no checkpoint; the next checkpoint starts where the last ended.
    """
    key = signing_key()
    if key is None:
        logger.warning("EDS_AUDIT_SIGNING_KEY_FILE is not set: no audit checkpoint written")
        return []
    current = month_start(now or timezone.now())
    written: list[AuditCheckpoint] = []
    while True:
        with transaction.atomic(using="default"):
            connection = connections["default"]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # The same lock as appends: no event slips in while a period is sealed.
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x45445341])
            last = AuditCheckpoint.objects.order_by("-epoch").first()
            after_seq = last.last_seq if last else 0
            first = AuditEvent.objects.filter(seq__gt=after_seq).order_by("seq").first()
            if first is None:
                return written
            start = month_start(first.occurred_at)
            if last is not None and start < last.period_end:
                # Stamped before the sealed period's end (a clock set back): the next period
                # takes it, so periods never overlap.
                start = last.period_end
            if start >= current:
                return written
            end = next_month(start)
            closing = (
                AuditEvent.objects.filter(seq__gt=after_seq, occurred_at__lt=end)
                .order_by("-seq")
                .values("seq", "hash")
                .first()
            )
            assert closing is not None
            signed_at = timezone.now()
            epoch = (last.epoch + 1) if last else 1
            previous = checkpoint_hash(last) if last else GENESIS_HASH
            statement = _canonical(
                {
                    "format": STATEMENT_FORMAT,
                    "epoch": epoch,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "first_seq": after_seq + 1,
                    "last_seq": closing["seq"],
                    "last_hash": closing["hash"],
                    "previous": previous,
                    "key_id": key_id(key.public_key()),
                    "signed_at": signed_at.astimezone(UTC).isoformat(),
                }
            )
            signature = base64.b64encode(key.sign(statement.encode("utf-8"))).decode("ascii")
            checkpoint = AuditCheckpoint.objects.create(
                epoch=epoch,
                period_start=start,
                period_end=end,
                first_seq=after_seq + 1,
                last_seq=closing["seq"],
                last_hash=closing["hash"],
                previous=previous,
                statement=statement,
                signature=signature,
                key_id=key_id(key.public_key()),
                signed_at=signed_at,
            )
            record_event(
                action="audit.checkpoint_signed",
                target=checkpoint,
                after={
                    "epoch": epoch,
                    "first_seq": checkpoint.first_seq,
                    "last_seq": checkpoint.last_seq,
                    "key_id": checkpoint.key_id,
                },
            )
            _mail_dpos(checkpoint)
        _write_file(checkpoint)
        written.append(checkpoint)


# --- Verification -------------------------------------------------------------------------------


@dataclass
class CheckpointReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checkpoints": self.checked, "problems": self.problems}


def verify_signature(document: dict[str, Any], public: Ed25519PublicKey) -> bool:
    """A checkpoint file (or mail) checked with the public key alone."""
    statement = _canonical(document["statement"])
    try:
        public.verify(base64.b64decode(document["signature"]), statement.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_checkpoints(*, now: datetime | None = None) -> CheckpointReport:
    """Signatures, the checkpoints' own chain, the events they seal, and none missing."""
    report = CheckpointReport()
    public = verify_key()
    if public is None:
        report.problems.append("no verifying key is configured (EDS_AUDIT_SIGNING_KEY_FILE)")
        return report
    expected_key = key_id(public)
    previous_hash = GENESIS_HASH
    expected_epoch, expected_first = 1, 1
    last_end: datetime | None = None
    for checkpoint in AuditCheckpoint.objects.order_by("epoch"):
        label = f"checkpoint {checkpoint.epoch}"
        if checkpoint.epoch != expected_epoch:
            report.problems.append(f"checkpoint {expected_epoch} is missing")
            expected_epoch = checkpoint.epoch
        statement = json.loads(checkpoint.statement)
        if checkpoint.key_id != expected_key:
            report.problems.append(f"{label} was signed with another key ({checkpoint.key_id})")
        elif not verify_signature(checkpoint_document(checkpoint), public):
            report.problems.append(f"{label}: the signature does not match its statement")
        columns = {
            "epoch": checkpoint.epoch,
            "first_seq": checkpoint.first_seq,
            "last_seq": checkpoint.last_seq,
            "last_hash": checkpoint.last_hash,
            "previous": checkpoint.previous,
            "period_start": checkpoint.period_start.astimezone(UTC).isoformat(),
            "period_end": checkpoint.period_end.astimezone(UTC).isoformat(),
        }
        if any(statement.get(name) != value for name, value in columns.items()):
            report.problems.append(f"{label}: its columns differ from the signed statement")
        if checkpoint.previous != previous_hash:
            report.problems.append(f"{label} does not point to the checkpoint before it")
        if checkpoint.first_seq != expected_first:
            report.problems.append(
                f"{label} starts at event #{checkpoint.first_seq}, not #{expected_first}"
            )
        if checkpoint.purged_at is None:
            sealed = AuditEvent.objects.filter(seq=checkpoint.last_seq).values("hash").first()
            if sealed is None or sealed["hash"] != checkpoint.last_hash:
                report.problems.append(
                    f"{label}: event #{checkpoint.last_seq} is not the one that was signed"
                )
            after_end = AuditEvent.objects.filter(
                seq__lte=checkpoint.last_seq, occurred_at__gte=checkpoint.period_end
            ).exists()
            if after_end:
                report.problems.append(f"{label} seals events dated after its period")
        previous_hash = checkpoint_hash(checkpoint)
        expected_first = checkpoint.last_seq + 1
        expected_epoch += 1
        last_end = checkpoint.period_end
        report.checked += 1
    current = month_start(now or timezone.now())
    unsealed = (
        AuditEvent.objects.filter(seq__gte=expected_first, occurred_at__lt=current)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    if unsealed is not None:
        report.problems.append(
            f"event #{unsealed} belongs to a closed period that has no checkpoint"
        )
    del last_end
    _compare_with_directory(report, public)
    return report


def _compare_with_directory(report: CheckpointReport, public: Ed25519PublicKey) -> None:
    """The copies outside the database: each must be in the database, unchanged."""
    directory = Path(settings.EDS_AUDIT_CHECKPOINT_DIR)
    if not directory.is_dir():
        return
    statements = dict(AuditCheckpoint.objects.values_list("epoch", "statement"))
    for path in sorted(directory.glob("checkpoint-*.json")):
        try:
            document = json.loads(path.read_text())
            epoch = int(document["statement"]["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            report.problems.append(f"{path.name} cannot be read")
            continue
        if not verify_signature(document, public):
            report.problems.append(f"{path.name}: the signature does not match")
        elif epoch not in statements:
            report.problems.append(f"checkpoint {epoch} is in {path.name} but not in the database")
        elif json.loads(statements[epoch]) != document["statement"]:
            report.problems.append(f"checkpoint {epoch} differs from its copy {path.name}")


def chain_start() -> tuple[int, str]:
    """(seq, prev_hash) the remaining chain starts from: after the last purged period."""
    purged = (
        AuditCheckpoint.objects.filter(purged_at__isnull=False)
        .order_by("-epoch")
        .values("last_seq", "last_hash")
        .first()
    )
    if purged is None:
        return 1, GENESIS_HASH
    return purged["last_seq"] + 1, purged["last_hash"]


# --- Archive and purge (RET-02) -----------------------------------------------------------------


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.EDS_RETENTION_AUDIT_DAYS)


def due_for_purge(now: datetime | None = None):
    """Checkpointed periods that ended before the retention cutoff and still hold events."""
    return AuditCheckpoint.objects.filter(
        purged_at__isnull=True, period_end__lte=retention_cutoff(now)
    ).order_by("epoch")


def _event_line(event: AuditEvent) -> str:
    return _canonical(
        {
            "seq": event.seq,
            "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": event.actor_id,
            "action": event.action,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "before": event.before,
            "after": event.after,
            "ip": event.ip,
            "client_hash": event.client_hash,
            "request_id": event.request_id,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }
    )


def archive_period(checkpoint: AuditCheckpoint) -> Path:
    """Exports the period's events (JSON lines) and its checkpoint; records the archive."""
    directory = Path(settings.EDS_AUDIT_ARCHIVE_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"audit-epoch-{checkpoint.epoch:06d}.jsonl"
    path = directory / name
    temporary = path.with_suffix(".tmp")
    digest = hashlib.sha256()
    with temporary.open("w", encoding="utf-8") as handle:
        header = json.dumps({"checkpoint": checkpoint_document(checkpoint)}, sort_keys=True)
        handle.write(header + "\n")
        digest.update((header + "\n").encode("utf-8"))
        events = AuditEvent.objects.filter(
            seq__gte=checkpoint.first_seq, seq__lte=checkpoint.last_seq
        ).order_by("seq")
        for event in events.iterator(chunk_size=2000):
            line = _event_line(event) + "\n"
            handle.write(line)
            digest.update(line.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(
        archive_name=name, archive_sha256=digest.hexdigest(), archived_at=timezone.now()
    )
    checkpoint.refresh_from_db()
    return path


def purge_period(checkpoint: AuditCheckpoint) -> int:
    """Deletes an archived period's events (the trigger allows nothing else); returns the count."""
    if checkpoint.archived_at is None:
        raise PermissionError("a period is purged only once archived with its checkpoint")
    with transaction.atomic(using="default"):
        connection = connections["default"]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL eds.audit_purge = 'on'")
            # The model refuses deletes; this is the one place that may, for archived periods.
            cursor.execute(
                "DELETE FROM eds_portal_auditevent WHERE seq >= %s AND seq <= %s",
                [checkpoint.first_seq, checkpoint.last_seq],
            )
            deleted = cursor.rowcount
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(purged_at=timezone.now())
        record_event(
            action="audit.period_purged",
            target=checkpoint,
            after={
                "epoch": checkpoint.epoch,
                "events": deleted,
                "archive": checkpoint.archive_name,
                "archive_sha256": checkpoint.archive_sha256,
            },
        )
    return deleted


def purge_expired_periods(now: datetime | None = None) -> int:
    """Archives then deletes every period past retention, oldest first; returns events deleted."""
    deleted = 0
    for checkpoint in due_for_purge(now):
        archive_period(checkpoint)
        checkpoint.refresh_from_db()
        deleted += purge_period(checkpoint)
    return deleted
