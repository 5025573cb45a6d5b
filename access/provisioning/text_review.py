"""MIN-05's manual check: the data steward reads a random sample of scrubbed notes before a
dataset that delivers free text is published.

``publish_run`` (``publication``), once the gates and the register are checked again and just
before the dataset is assembled, asks ``review_needed``: a run whose approved specification
delivers free text and whose current build has not been reviewed is held (``hold_for_review``:
status ``review``), with the positions of a random sample of its scrubbed notes in the staging
files (part, table, column, row: never the text). The data steward reads them on the run's
review page (``read_sample``, each view audited with the run and the sample size) and confirms
(``confirm_review``, audited the same way): the run goes back to ``writing`` and publication
goes on, the manifest naming who reviewed and when. A rebuild (a newer objection) writes new
parts, hence a new sample and a new review. A run without free text publishes as before.
"""

from __future__ import annotations

import bisect
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import queue
from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify


class ReviewRefused(Refused):
    """The review cannot be confirmed (the run is not waiting for it)."""


def scrubbed_columns(run: ProvisioningRun) -> list[tuple[str, str]]:
    """(table, column) of every free-text column the run's approved specification delivers."""
    return [(table, column) for table, column, _code in _scrubbed(run)]


def _scrubbed(run: ProvisioningRun) -> list[tuple[str, str, str]]:
    from warehouse.export.plan import build_plan

    if run.decision is None or not run.decision.approved_specification:
        return []
    dataset = build_plan(run.decision.approved_specification)
    return [
        (table.table, column.name, column.code)
        for table in dataset.tables
        for column in table.columns
        if column.scrub
    ]


def _labels(run: ProvisioningRun) -> dict[tuple[str, str], str]:
    """The variable's label of each free-text column, in the page's language."""
    from warehouse import catalogue

    english = (translation.get_language() or "fr").startswith("en")
    labels = {}
    for table, column, code in _scrubbed(run):
        variable = catalogue.BY_CODE.get(code)
        if variable is not None:
            labels[table, column] = variable.label_en if english else variable.label_fr
    return labels


def delivers_free_text(run: ProvisioningRun) -> bool:
    return bool(scrubbed_columns(run))


def is_reviewed(run: ProvisioningRun) -> bool:
    """Reviewed for the current build (a rebuild writes other notes: they are read again)."""
    sample = run.text_review_sample or {}
    return run.text_reviewed_at is not None and sample.get("build") == run.build


def review_needed(run: ProvisioningRun) -> bool:
    return delivers_free_text(run) and not is_reviewed(run)


def draw_sample(run: ProvisioningRun, size: int | None = None) -> dict[str, Any]:
    """Positions of ``size`` non-empty scrubbed notes drawn at random from the staging files.

    One pass over the text columns, batch by batch (reservoir sampling: memory holds the sample
    only), with an unpredictable random source. Returns ``{"build", "size", "pool", "items"}``,
    ``items`` being ``[part, table, column, row]`` lists, in file order.
    """
    size = size or settings.EDS_DEID_REVIEW_SAMPLE
    chooser = random.SystemRandom()
    staging = Path(run.plan["staging"])
    reservoir: list[list[Any]] = []
    seen = 0
    by_table: dict[str, list[str]] = {}
    for table, column in scrubbed_columns(run):
        by_table.setdefault(table, []).append(column)
    for part in sorted(int(entry["index"]) for entry in run.plan["parts"]):
        folder = staging / f"part-{part:04d}"
        for table, columns in by_table.items():
            path = folder / f"{table}.parquet"
            if not path.is_file():
                continue
            row = 0
            for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=8192):
                values = {name: batch.column(name).to_pylist() for name in columns}
                for offset in range(batch.num_rows):
                    for name in columns:
                        text = values[name][offset]
                        if not text or not str(text).strip():
                            continue
                        seen += 1
                        item = [part, table, name, row + offset]
                        if len(reservoir) < size:
                            reservoir.append(item)
                        else:
                            slot = chooser.randrange(seen)
                            if slot < size:
                                reservoir[slot] = item
                row += batch.num_rows
    reservoir.sort()
    return {"build": run.build, "size": len(reservoir), "pool": seen, "items": reservoir}


def read_sample(run: ProvisioningRun) -> list[dict[str, Any]]:
    """The sampled scrubbed notes, read back from the staging files (row groups needed only)."""
    sample = run.text_review_sample or {}
    if run.status != RunStatus.REVIEW or not run.plan or sample.get("build") != run.build:
        return []
    staging = Path(run.plan["staging"])
    labels = _labels(run)
    notes = []
    opened: dict[Path, tuple[pq.ParquetFile, list[int]]] = {}
    for number, (part, table, column, row) in enumerate(sample.get("items") or [], start=1):
        path = staging / f"part-{int(part):04d}" / f"{table}.parquet"
        if path not in opened:
            if not path.is_file():
                continue
            handle = pq.ParquetFile(path)
            starts, total = [], 0
            for group in range(handle.num_row_groups):
                starts.append(total)
                total += handle.metadata.row_group(group).num_rows
            opened[path] = (handle, starts)
        handle, starts = opened[path]
        group = bisect.bisect_right(starts, int(row)) - 1
        if group < 0:
            continue
        values = handle.read_row_group(group, columns=[column]).column(column).to_pylist()
        index = int(row) - starts[group]
        if 0 <= index < len(values):
            notes.append(
                {
                    "number": number,
                    "table": table,
                    "column": column,
                    "label": labels.get((table, column), column),
                    "text": values[index],
                }
            )
    return notes


def record_sample_viewed(run: ProvisioningRun, *, by: Any, shown: int) -> None:
    """Patient-level data was read: the run and how many notes, never their text."""
    record_event(
        action="provisioning.text_sample_viewed",
        actor=by,
        target=run,
        after={"run": run.pk, "build": run.build, "sample_size": shown},
    )


def hold_for_review(run_id: int, worker: str, sample: dict[str, Any]) -> bool:
    """The publishing worker stops here: the run waits for the data steward's review."""
    with transaction.atomic():
        locked = (
            ProvisioningRun.objects.select_for_update().select_related("project").get(pk=run_id)
        )
        if locked.status != RunStatus.WRITING or locked.claimed_by != worker:
            return False
        locked.status = RunStatus.REVIEW
        locked.text_review_sample = sample
        locked.text_reviewed_by = None
        locked.text_reviewed_at = None
        locked.claimed_by = ""
        locked.attempt = 0
        locked.heartbeat_at = timezone.now()
        locked.save(
            update_fields=[
                "status",
                "text_review_sample",
                "text_reviewed_by",
                "text_reviewed_at",
                "claimed_by",
                "attempt",
                "heartbeat_at",
            ]
        )
        record_event(
            action="provisioning.text_review_awaited",
            actor=None,
            target=locked,
            before={"status": RunStatus.WRITING},
            after={
                "status": locked.status,
                "build": locked.build,
                "sample_size": sample["size"],
                "texts_in_pool": sample["pool"],
            },
        )
        notify(
            [locked.started_by],
            subject=Message(
                gettext_lazy("%(ref)s — scrubbed notes to review"), ref=locked.project.reference
            ),
            body=Message(
                gettext_lazy(
                    "Run %(run)s of the project %(ref)s delivers free text. Read the %(size)s "
                    "scrubbed notes drawn at random and confirm that none still identifies "
                    "anyone: the dataset is published only then (MIN-05)."
                ),
                run=locked.pk,
                ref=locked.project.reference,
                size=sample["size"],
            ),
            url=reverse("provisioning_text_review", args=[locked.pk]),
        )
    return True


def confirm_review(*, run: ProvisioningRun, by: Any) -> ProvisioningRun:
    """The data steward read the sample and found nothing left: publication goes on."""
    if not has_permission(by, Permission.START_RUN):
        raise PermissionDenied
    with transaction.atomic():
        locked = ProvisioningRun.objects.select_for_update().get(pk=run.pk)
        sample = locked.text_review_sample or {}
        if locked.status != RunStatus.REVIEW or sample.get("build") != locked.build:
            raise ReviewRefused([_("This run is not waiting for a review of its notes.")])
        now = timezone.now()
        locked.text_reviewed_by = by
        locked.text_reviewed_at = now
        locked.status = RunStatus.WRITING
        locked.claimed_by = ""
        locked.attempt = 0
        locked.heartbeat_at = now
        locked.save(
            update_fields=[
                "text_reviewed_by",
                "text_reviewed_at",
                "status",
                "claimed_by",
                "attempt",
                "heartbeat_at",
            ]
        )
        record_event(
            action="provisioning.text_review_confirmed",
            actor=by,
            target=locked,
            before={"status": RunStatus.REVIEW},
            after={
                "status": locked.status,
                "run": locked.pk,
                "build": locked.build,
                "sample_size": sample.get("size"),
            },
        )
        queue.PUBLISH_RUN.on_commit(locked.pk)
    return locked


def manifest_entry(run: ProvisioningRun) -> dict[str, Any] | None:
    """What the manifest says of the review: who, when, how many notes out of how many."""
    if not is_reviewed(run):
        return None
    sample = run.text_review_sample or {}
    reviewer = run.text_reviewed_by
    return {
        "by": getattr(reviewer, "full_name", "") or str(reviewer),
        "user_id": run.text_reviewed_by_id,
        "at": run.text_reviewed_at.isoformat(timespec="seconds") if run.text_reviewed_at else None,
        "sample_size": sample.get("size"),
        "texts_in_pool": sample.get("pool"),
    }
