"""Provisioning runs: start, cancel, rotate the key, plan, write the parts, fail, reap.

The run row in PostgreSQL is the truth; the Celery messages carry ids only. Every step CLAIMS
its row with a conditional UPDATE (``... WHERE status = 'queued'``), so a message delivered
twice, or handed to another worker by the broker, does nothing the second time:

    start_run (steward)  -> queued            -> prepare_run (claims queued -> running, gates,
    register snapshot, project key, plan, parts) -> write_part (each part: pending -> running ->
    done; the last one done moves the run to writing, under a lock on the run row) ->
    publish_run (``publication``: claims writing; checks the register again: a newer objection
    rebuilds the parts with the new snapshot; otherwise assembles and publishes atomically)
    -> published.

A worker sends a heartbeat while it works; ``reap_runs`` hands silent parts (and silent
planning or publication) to another worker, or fails the run after too many attempts. The data
steward may cancel at any time before publication; workers notice at their next claim or when
they report, and drop what they wrote.

The next step is queued through ``queue`` after the commit (never by importing ``tasks``).
What a published dataset becomes (downloads, supersession, destruction) is in ``delivery``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_provisioning import (
    ACTIVE_RUN_STATUSES,
    FINISHED_RUN_STATUSES,
    PartStatus,
    ProjectKeyGeneration,
    ProvisioningRun,
    RunPart,
    RunStatus,
)
from access.provisioning import queue, selectors
from access.provisioning.keys import project_key
from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from eds_portal.notifications import Message, in_portal_language, notify
from projects.models import Project

logger = logging.getLogger(__name__)


class RunRefused(Refused):
    """The step is refused; ``reasons`` lists every reason, for a page to show them all."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Heartbeat --------------------------------------------------------------------------------


@contextlib.contextmanager
def heartbeat(model: type, pk: int, worker: str) -> Iterator[None]:
    """Writes ``heartbeat_at`` every few seconds while the block runs, from its own thread.

    A killed worker stops beating with it: that silence is what the reaper looks for.
    """
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.EDS_PROVISIONING_HEARTBEAT_SECONDS):
                model.objects.filter(pk=pk, claimed_by=worker).update(heartbeat_at=timezone.now())
        except Exception:  # a missed beat only makes the reaper look; never kill the work
            logger.warning("heartbeat of %s %s failed", model.__name__, pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- Start, cancel, rotate (the data steward) ---------------------------------------------


def start_run(*, project: Project, by: Any) -> ProvisioningRun:
    """Queues a run; the worker checks the gates (GOV-02) and records why if it refuses."""
    if not has_permission(by, Permission.START_RUN):
        raise PermissionDenied
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if ProvisioningRun.objects.filter(project=locked, status__in=ACTIVE_RUN_STATUSES).exists():
            raise RunRefused([_("A run of this project is already in progress.")])
        run = ProvisioningRun.objects.create(project=locked, started_by=by)
        record_event(
            action="provisioning.run_started",
            actor=by,
            target=run,
            after={"project": locked.reference, "status": run.status},
        )
        queue.PREPARE_RUN.on_commit(run.pk)
    return run


def cancel_run(*, run: ProvisioningRun, by: Any) -> ProvisioningRun:
    if not has_permission(by, Permission.START_RUN):
        raise PermissionDenied
    with transaction.atomic():
        locked = ProvisioningRun.objects.select_for_update().get(pk=run.pk)
        if locked.status not in ACTIVE_RUN_STATUSES:
            raise RunRefused([_("Only a queued or running run can be cancelled.")])
        before = locked.status
        now = timezone.now()
        locked.status = RunStatus.CANCELLED
        locked.cancelled_at = now
        locked.cancelled_by = by
        locked.finished_at = now
        locked.claimed_by = ""
        locked.save(
            update_fields=["status", "cancelled_at", "cancelled_by", "finished_at", "claimed_by"]
        )
        locked.parts.filter(status__in=[PartStatus.PENDING, PartStatus.RUNNING]).update(
            status=PartStatus.CANCELLED
        )
        record_event(
            action="provisioning.cancelled",
            actor=by,
            target=locked,
            before={"status": before},
            after={"status": locked.status},
        )
        staging = staging_of(locked)
        transaction.on_commit(lambda: remove_folder(staging))
    return locked


def rotate_project_key(*, project: Project, by: Any, reason: str = "") -> ProjectKeyGeneration:
    """MIN-03: the next runs use a new key, hence new pseudonyms."""
    if not has_permission(by, Permission.START_RUN):
        raise PermissionDenied
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if ProvisioningRun.objects.filter(project=locked, status__in=ACTIVE_RUN_STATUSES).exists():
            raise RunRefused([_("Wait for the run in progress before rotating the key.")])
        current = selectors.current_key_generation(locked)
        number = (current.number if current else 1) + 1
        generation = ProjectKeyGeneration.objects.create(
            project=locked,
            number=number,
            key_id=project_key(locked.reference, number).key_id,
            created_by=by,
            reason=reason.strip(),
        )
        record_event(
            action="provisioning.key_rotated",
            actor=by,
            target=locked,
            before={"key_id": current.key_id if current else None},
            after={"key_id": generation.key_id, "generation": number},
        )
    return generation


def start_run_for_specification_in_force(
    *, project_id: int, template: ProvisioningRun | None = None
) -> ProvisioningRun | None:
    """A new approved specification is in force (an approved amendment, GOV-13): a run that
    executes it replaces the dataset delivered under the former one.

    Queued like the others, on behalf of the data steward who started the dataset being
    replaced (or ``template``, a run refused because its specification changed), who is told;
    the gates are checked again when it runs, and its publication supersedes the earlier
    dataset by the house's rules. Nothing happens if the project receives no data now (a
    suspended one: when it is resumed), if nothing was delivered under a former specification,
    or if a run is already under way (one not planned yet executes the specification in force;
    one planned on a former one is refused at publication and followed by another).
    """
    from access.formalities.gates import PROVISIONABLE, current_decision

    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project_id)
        decision = current_decision(project)
        if project.status not in PROVISIONABLE or decision is None or not decision.is_favourable:
            return None
        if ProvisioningRun.objects.filter(project=project, status__in=ACTIVE_RUN_STATUSES).exists():
            return None
        delivered = (
            ProvisioningRun.objects.filter(
                project=project,
                status=RunStatus.PUBLISHED,
                superseded_by__isnull=True,
                destruction__isnull=True,
            )
            .order_by("-pk")
            .first()
        )
        replaced = delivered or template
        if replaced is None or (delivered is not None and delivered.decision_id == decision.pk):
            return None
        run = ProvisioningRun.objects.create(project=project, started_by=replaced.started_by)
        record_event(
            action="provisioning.run_started",
            actor=None,
            target=run,
            after={
                "project": project.reference,
                "status": run.status,
                "reason": "specification_changed",
                "decision": decision.number,
                "replaces": replaced.pk,
            },
        )
        queue.PREPARE_RUN.on_commit(run.pk)
        subject = Message(
            gettext_lazy("%(ref)s — new run for the specification in force"),
            ref=project.reference,
        )
        body = Message(
            gettext_lazy(
                "The approved data specification of the project %(ref)s changed: decision "
                "%(number)s is in force. Run %(run)s was queued to deliver it and replace the "
                "dataset of run %(old)s; the gates are checked again when it runs. You are told "
                "as the data steward who started run %(old)s."
            ),
            ref=project.reference,
            number=decision.number,
            run=run.pk,
            old=replaced.pk,
        )
        notify(
            [replaced.started_by],
            subject=subject,
            body=body,
            url=reverse("provisioning_run", args=[run.pk]),
        )
    return run


def _key_generation(project: Project) -> ProjectKeyGeneration:
    current = selectors.current_key_generation(project)
    if current is not None:
        return current
    generation, _created = ProjectKeyGeneration.objects.get_or_create(
        project=project,
        number=1,
        defaults={"key_id": project_key(project.reference, 1).key_id},
    )
    return generation


# --- Planning (the worker) --------------------------------------------------------------------


def prepare_run(*, run_id: int, worker: str | None = None) -> bool:
    """Claims a queued run, checks the gates, reads the register and plans the parts."""
    from access.formalities.gates import current_decision, provisioning_blockers
    from access.opposition.register import current_snapshot
    from warehouse.export import ExportError, SpecificationError, plan_run

    worker = worker or worker_name()
    now = timezone.now()
    claimed = ProvisioningRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        claimed_by=worker,
        heartbeat_at=now,
        attempt=F("attempt") + 1,
        started_at=Coalesce(F("started_at"), now),
    )
    if not claimed:
        return False  # a duplicate message, a cancelled run, or another worker has it
    run = ProvisioningRun.objects.select_related("project").get(pk=run_id)
    project = run.project
    with heartbeat(ProvisioningRun, run.pk, worker):
        reasons = provisioning_blockers(project)
        decision = current_decision(project)
        if not reasons and (decision is None or not decision.approved_specification):
            reasons = [_("No approved data specification is recorded.")]
        if reasons:
            finish_unsuccessfully(run.pk, reasons, action="provisioning.run_refused", worker=worker)
            return True
        generation = _key_generation(project)
        snapshot = current_snapshot(purpose=f"provisioning run {run.pk}", by=None)
        planned_at = timezone.now()
        run.decision = decision
        run.register_snapshot = snapshot.number
        run.key_generation = generation.number
        run.planned_at = planned_at
        request = build_request(run, excluded=snapshot.excluded_for(project.reference))
        target = selectors.dataset_target(run)
        try:
            plan = plan_run(request, target=target, parts=settings.EDS_PROVISIONING_PARTS)
        except (ExportError, SpecificationError) as exc:
            finish_unsuccessfully(run.pk, [str(exc)], action="provisioning.failed", worker=worker)
            return True
    with transaction.atomic():
        locked = ProvisioningRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.RUNNING or locked.claimed_by != worker:
            transaction.on_commit(lambda: remove_folder(Path(plan.staging)))
            return False  # cancelled, or handed to another worker while this one planned
        locked.decision = decision
        locked.register_snapshot = snapshot.number
        locked.key_generation = generation.number
        locked.key_id = request.key.key_id
        locked.spec_sha256 = plan.spec_sha256
        locked.planned_at = planned_at
        locked.plan = plan.as_dict()
        locked.parts_total = len(plan.parts)
        locked.dataset_path = str(target)
        locked.claimed_by = ""
        locked.attempt = 0
        locked.heartbeat_at = timezone.now()
        locked.save()
        part_ids = create_parts(locked, plan)
        record_event(
            action="provisioning.run_planned",
            actor=None,
            target=locked,
            after={
                "register_snapshot": snapshot.number,
                "spec_sha256": plan.spec_sha256,
                "key_id": locked.key_id,
                "parts": len(plan.parts),
                "persons_in_cohort": plan.persons_in_cohort,
            },
        )
        for part_id in part_ids:
            queue.WRITE_PART.on_commit(part_id)
    return True


def build_request(run: ProvisioningRun, *, excluded: frozenset[str] | None = None):
    """The engine's request for a run, rebuilt from the run row by whichever worker needs it."""
    from access.consent.selectors import consenting_persons
    from access.opposition.register import objecting_persons
    from access.provisioning.text_review import manifest_entry
    from warehouse.export import ExportRequest

    project = run.project
    if excluded is None:
        excluded = objecting_persons(
            run.register_snapshot, project.reference, purpose=f"provisioning run {run.pk}"
        )
    allowed = None
    if project.requires_consent:
        allowed = frozenset(consenting_persons(project, on=run.planned_at))
    return ExportRequest(
        specification=run.decision.approved_specification,
        key=project_key(project.reference, run.key_generation),
        excluded_person_keys=frozenset(excluded),
        allowed_person_keys=allowed,
        register_snapshot=run.register_snapshot,
        decision_number=run.decision.number,
        decision_sha256=run.decision.specification_sha256,
        text_review=manifest_entry(run),
    )


def create_parts(run: ProvisioningRun, plan) -> list[int]:
    """The rows of the plan's parts, for the run's current build; their ids, to be queued."""
    now = timezone.now()
    parts = RunPart.objects.bulk_create(
        [
            RunPart(run=run, build=run.build, index=part.index, heartbeat_at=now)
            for part in plan.parts
        ]
    )
    return [part.pk for part in parts]


# --- Parts ------------------------------------------------------------------------------------


def write_part(*, part_id: int, worker: str | None = None) -> bool:
    """Claims a pending part of a running run, writes it, and reports; the last one publishes."""
    from warehouse.export import RunPlan, run_part

    worker = worker or worker_name()
    now = timezone.now()
    claimed = RunPart.objects.filter(
        pk=part_id, status=PartStatus.PENDING, run__status=RunStatus.RUNNING
    ).update(
        status=PartStatus.RUNNING,
        claimed_by=worker,
        heartbeat_at=now,
        started_at=now,
        attempt=F("attempt") + 1,
    )
    if not claimed:
        return False
    part = RunPart.objects.select_related("run__project", "run__decision").get(pk=part_id)
    run = part.run
    try:
        request = build_request(run)
        plan = RunPlan.from_dict(run.plan)
        with heartbeat(RunPart, part.pk, worker):
            summary = run_part(request, plan, part.index)
    except Exception as exc:
        _part_failed(part, worker, exc)
        raise
    rows = sum(table["rows"] for table in summary["tables"].values())
    return _part_done(part, worker, rows)


def _part_done(part: RunPart, worker: str, rows: int) -> bool:
    with transaction.atomic():
        # The lock on the run serialises the parts that finish together: exactly one of them
        # sees every part done and hands the run over to publication (no chord needed).
        run = ProvisioningRun.objects.select_for_update().get(pk=part.run_id)
        now = timezone.now()
        done = RunPart.objects.filter(
            pk=part.pk, status=PartStatus.RUNNING, claimed_by=worker
        ).update(status=PartStatus.DONE, rows=rows, finished_at=now, heartbeat_at=now)
        if not done or run.status != RunStatus.RUNNING or run.build != part.build:
            if run.status in FINISHED_RUN_STATUSES:
                staging = staging_of(run)
                transaction.on_commit(lambda: remove_folder(staging))
            return False  # cancelled, rebuilt, or the reaper gave the part to another worker
        parts_done = run.parts.filter(build=run.build, status=PartStatus.DONE).count()
        run.rows_done += rows
        run.rows_expected = (
            run.rows_done
            if parts_done >= run.parts_total
            else round(run.rows_done * run.parts_total / parts_done)
        )
        run.save(update_fields=["rows_done", "rows_expected"])
        unfinished = RunPart.objects.filter(run=OuterRef("pk"), build=OuterRef("build")).exclude(
            status=PartStatus.DONE
        )
        last = (
            ProvisioningRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, build=part.build)
            .filter(~Exists(unfinished))
            .update(status=RunStatus.WRITING, claimed_by="", heartbeat_at=now, attempt=0)
        )
        if last:
            queue.PUBLISH_RUN.on_commit(run.pk)
    return True


def _part_failed(part: RunPart, worker: str, exc: BaseException) -> None:
    message = str(exc) or exc.__class__.__name__
    with transaction.atomic():
        failed = RunPart.objects.filter(
            pk=part.pk, status=PartStatus.RUNNING, claimed_by=worker
        ).update(status=PartStatus.FAILED, error=message[:2000], finished_at=timezone.now())
    if failed:
        finish_unsuccessfully(
            part.run_id,
            [_("Part %(index)s failed: %(error)s") % {"index": part.index + 1, "error": message}],
            action="provisioning.failed",
        )


# --- Failure ----------------------------------------------------------------------------------


def finish_unsuccessfully(
    run_id: int, reasons: list[str], *, action: str, worker: str | None = None
) -> bool:
    """Records a refusal (the gates) or a failure, with its reasons, and tells the steward."""
    reasons = [str(reason) for reason in reasons]
    with transaction.atomic():
        locked = (
            ProvisioningRun.objects.select_for_update().select_related("project").get(pk=run_id)
        )
        if locked.status in FINISHED_RUN_STATUSES:
            return False
        if worker is not None and locked.claimed_by not in ("", worker):
            return False
        before = locked.status
        locked.status = RunStatus.FAILED
        locked.reasons = reasons
        locked.finished_at = timezone.now()
        locked.claimed_by = ""
        locked.save(update_fields=["status", "reasons", "finished_at", "claimed_by"])
        locked.parts.filter(status__in=[PartStatus.PENDING, PartStatus.RUNNING]).update(
            status=PartStatus.CANCELLED
        )
        record_event(
            action=action,
            actor=None,
            target=locked,
            before={"status": before},
            after={"status": locked.status, "reasons": reasons},
        )
        if action == "provisioning.run_refused":
            subject = Message(
                gettext_lazy("%(ref)s — provisioning refused"), ref=locked.project.reference
            )
        else:
            subject = Message(
                gettext_lazy("%(ref)s — provisioning failed"), ref=locked.project.reference
            )
        # The reasons were written when the run stopped, in the language active then.
        with in_portal_language():
            body = "\n".join(f"- {reason}" for reason in reasons)
        notify(
            [locked.started_by],
            subject=subject,
            body=body,
            url=reverse("provisioning_run", args=[locked.pk]),
        )
        staging = staging_of(locked)
        transaction.on_commit(lambda: remove_folder(staging))
    return True


# --- The reaper -------------------------------------------------------------------------------


def reap_runs(*, now: datetime | None = None) -> dict[str, int]:
    """Hands silent work to another worker, or fails the run after too many attempts."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.EDS_PROVISIONING_STALE_SECONDS)
    limit = settings.EDS_PROVISIONING_MAX_ATTEMPTS
    counts = {"parts_requeued": 0, "runs_requeued": 0, "runs_failed": 0, "messages_resent": 0}

    lost_parts = RunPart.objects.filter(
        status=PartStatus.RUNNING, heartbeat_at__lt=stale, run__status=RunStatus.RUNNING
    ).select_related("run")
    for part in lost_parts:
        if part.attempt >= limit:
            with transaction.atomic():
                RunPart.objects.filter(pk=part.pk, status=PartStatus.RUNNING).update(
                    status=PartStatus.FAILED, error="lost", finished_at=now
                )
            failed = finish_unsuccessfully(
                part.run_id,
                [
                    _("Part %(index)s was lost %(attempts)s times (worker stopped).")
                    % {"index": part.index + 1, "attempts": part.attempt}
                ],
                action="provisioning.failed",
            )
            counts["runs_failed"] += int(failed)
            continue
        with transaction.atomic():
            requeued = RunPart.objects.filter(
                pk=part.pk, status=PartStatus.RUNNING, heartbeat_at=part.heartbeat_at
            ).update(status=PartStatus.PENDING, claimed_by="", heartbeat_at=now)
            if requeued:
                record_event(
                    action="provisioning.part_requeued",
                    actor=None,
                    target=part.run,
                    after={
                        "part": part.index,
                        "build": part.build,
                        "attempt": part.attempt,
                        "lost_worker": part.claimed_by,
                    },
                )
                queue.WRITE_PART.on_commit(part.pk)
                counts["parts_requeued"] += 1

    # Messages that may never have reached the broker: sent again (a duplicate does nothing).
    for part_id in RunPart.objects.filter(
        status=PartStatus.PENDING, heartbeat_at__lt=stale, run__status=RunStatus.RUNNING
    ).values_list("pk", flat=True):
        if RunPart.objects.filter(pk=part_id, status=PartStatus.PENDING).update(heartbeat_at=now):
            queue.WRITE_PART.on_commit(part_id)
            counts["messages_resent"] += 1

    silent_runs = ProvisioningRun.objects.filter(
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WRITING]
    ).filter(Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale))
    for run in silent_runs:
        if run.status == RunStatus.RUNNING and run.plan is not None:
            continue  # its parts carry the heartbeats
        if run.status != RunStatus.QUEUED and run.claimed_by and run.attempt >= limit:
            failed = finish_unsuccessfully(
                run.pk,
                [_("The run was lost %(attempts)s times (worker stopped).") % {"attempts": limit}],
                action="provisioning.failed",
            )
            counts["runs_failed"] += int(failed)
            continue
        with transaction.atomic():
            if run.status == RunStatus.WRITING:
                job, new_status = queue.PUBLISH_RUN, RunStatus.WRITING
            else:
                job, new_status = queue.PREPARE_RUN, RunStatus.QUEUED
            moved = ProvisioningRun.objects.filter(
                pk=run.pk, status=run.status, heartbeat_at=run.heartbeat_at
            ).update(status=new_status, claimed_by="", heartbeat_at=now)
            if moved:
                if run.claimed_by:
                    record_event(
                        action="provisioning.run_requeued",
                        actor=None,
                        target=run,
                        after={"status": new_status, "lost_worker": run.claimed_by},
                    )
                    counts["runs_requeued"] += 1
                else:
                    counts["messages_resent"] += 1
                job.on_commit(run.pk)
    return counts


# --- Helpers ------------------------------------------------------------------------------------


def staging_of(run: ProvisioningRun) -> Path | None:
    """The folder where the run's parts are written before publication, if planned."""
    if run.plan and run.plan.get("staging"):
        return Path(run.plan["staging"])
    return None


def remove_folder(path: Path | None) -> None:
    """Removes what a run wrote (its staging folder or its target), if anything."""
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
