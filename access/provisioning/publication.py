"""The last step of a run: the gates and the register checked again, then the dataset published.

``publish_run`` claims a run whose parts are all written (``writing``). Just before anything
becomes downloadable it checks the gates again (an objection received and not matched yet, a
suspension, the end of access) and the register (OPP-10): an objection registered while the
parts were written and covering a person of the run rebuilds the parts against the newer
snapshot (``_rebuild``). A run that delivers free text and whose build was not reviewed waits
there for the data steward's reading of a sample of its scrubbed notes (``text_review``,
MIN-05); otherwise the engine assembles the dataset atomically and ``_published``
records it, in one transaction with what the run delivered (``propagation.after_publication``)
and the supersession of the project's earlier datasets (``delivery``).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import delivery, propagation, queue, selectors, text_review
from access.provisioning.runs import (
    build_request,
    create_parts,
    finish_unsuccessfully,
    heartbeat,
    remove_folder,
    start_run_for_specification_in_force,
    worker_name,
)
from eds_portal.audit import record_event
from eds_portal.notifications import Message, notify


def publish_run(*, run_id: int, worker: str | None = None) -> bool:
    """Claims a run whose parts are done; re-checks the gates and the register; publishes."""
    from access.formalities.gates import current_decision, provisioning_blockers
    from access.opposition.register import current_number, current_snapshot
    from warehouse.export import ExportError, RunPlan, plan_run, publish

    worker = worker or worker_name()
    claimed = ProvisioningRun.objects.filter(
        pk=run_id, status=RunStatus.WRITING, claimed_by=""
    ).update(claimed_by=worker, heartbeat_at=timezone.now(), attempt=F("attempt") + 1)
    if not claimed:
        return False
    run = ProvisioningRun.objects.select_related("project", "decision").get(pk=run_id)
    reference = run.project.reference
    # The gates again, just before anything becomes downloadable: an objection received while
    # the parts were written and not matched yet (OPP-09), a suspension, the end of access.
    reasons = provisioning_blockers(run.project)
    if reasons:
        finish_unsuccessfully(run.pk, reasons, action="provisioning.run_refused", worker=worker)
        return True
    # MIN-01: only the specification in force leaves. A decision taken while the parts were
    # written (an approved amendment, a correction) replaces the run by one that executes it.
    in_force = current_decision(run.project)
    if in_force is not None and in_force.pk != run.decision_id:
        finish_unsuccessfully(
            run.pk,
            [
                _(
                    "The approved specification changed while the run was written (decision "
                    "%(number)s is in force): a new run executes it."
                )
                % {"number": in_force.number}
            ],
            action="provisioning.run_refused",
            worker=worker,
        )
        start_run_for_specification_in_force(project_id=run.project_id, template=run)
        return True
    try:
        with heartbeat(ProvisioningRun, run.pk, worker):
            # OPP-10: an objection registered while the parts were written must not leave.
            if current_number() != run.register_snapshot:
                snapshot = current_snapshot(
                    purpose=f"provisioning run {run.pk}: check before publication", by=None
                )
                previous = build_request(run).excluded_person_keys
                excluded = snapshot.excluded_for(reference)
                if excluded - previous:
                    old = run.register_snapshot
                    run.register_snapshot = snapshot.number
                    request = build_request(run, excluded=excluded)
                    remove_folder(Path(run.plan["staging"]))
                    plan = plan_run(
                        request, target=run.dataset_path, parts=settings.EDS_PROVISIONING_PARTS
                    )
                    return _rebuild(run, worker, plan, old, snapshot.number)
                _record_snapshot_moved(run, worker, snapshot.number)
                run.register_snapshot = snapshot.number
            # MIN-05: free text leaves only after the data steward read a sample of it.
            if text_review.review_needed(run):
                sample = text_review.draw_sample(run)
                text_review.hold_for_review(run.pk, worker, sample)
                return True
            request = build_request(run)
            manifest = publish(request, RunPlan.from_dict(run.plan))
            digests = dataset_digests(Path(run.dataset_path))
    except ExportError as exc:
        finish_unsuccessfully(run.pk, [str(exc)], action="provisioning.failed", worker=worker)
        return True
    except Exception as exc:
        finish_unsuccessfully(
            run.pk,
            [_("Publication failed: %(error)s") % {"error": str(exc) or exc.__class__.__name__}],
            action="provisioning.failed",
            worker=worker,
        )
        raise
    return _published(run.pk, worker, manifest, digests)


def dataset_digests(folder: Path) -> dict:
    """The SHA-256 of the published manifest file and of the archive, kept with the run.

    The engine writes the archive with the manifest; a dataset without one (an engine that did
    not) gets it here, beside its files, before anything is served.
    """
    from warehouse.export import manifest as manifest_module
    from warehouse.export.output import sha256_of

    archive = folder / manifest_module.ARCHIVE
    if archive.is_file():
        entry = {"bytes": archive.stat().st_size, "sha256": sha256_of(archive)}
    else:
        entry = manifest_module.write_archive(folder)
    return {
        "manifest_sha256": sha256_of(folder / manifest_module.MANIFEST),
        "archive_sha256": entry["sha256"],
        "archive_bytes": entry["bytes"],
    }


def _record_snapshot_moved(run: ProvisioningRun, worker: str, number: int) -> None:
    """The register moved, but nobody new objects to this project: same files, newer number."""
    with transaction.atomic():
        locked = ProvisioningRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.WRITING or locked.claimed_by != worker:
            return
        locked.rebuilds = [
            *locked.rebuilds,
            {
                "from": locked.register_snapshot,
                "to": number,
                "rebuilt": False,
                "at": timezone.now().isoformat(),
            },
        ]
        locked.register_snapshot = number
        locked.save(update_fields=["rebuilds", "register_snapshot"])


def _rebuild(run: ProvisioningRun, worker: str, plan, old: int, new: int) -> bool:
    with transaction.atomic():
        locked = ProvisioningRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.WRITING or locked.claimed_by != worker:
            transaction.on_commit(lambda: remove_folder(Path(plan.staging)))
            return False
        locked.build += 1
        locked.rebuilds = [
            *locked.rebuilds,
            {"from": old, "to": new, "rebuilt": True, "at": timezone.now().isoformat()},
        ]
        locked.register_snapshot = new
        locked.plan = plan.as_dict()
        locked.parts_total = len(plan.parts)
        locked.rows_done = 0
        locked.rows_expected = None
        locked.status = RunStatus.RUNNING
        locked.claimed_by = ""
        locked.attempt = 0
        locked.heartbeat_at = timezone.now()
        locked.save()
        part_ids = create_parts(locked, plan)
        record_event(
            action="provisioning.run_rebuilt",
            actor=None,
            target=locked,
            before={"register_snapshot": old},
            after={"register_snapshot": new, "build": locked.build, "parts": len(plan.parts)},
        )
        for part_id in part_ids:
            queue.WRITE_PART.on_commit(part_id)
    return True


def _published(run_id: int, worker: str, manifest: dict, digests: dict) -> bool:
    with transaction.atomic():
        locked = (
            ProvisioningRun.objects.select_for_update().select_related("project").get(pk=run_id)
        )
        if locked.status != RunStatus.WRITING or locked.claimed_by != worker:
            # Cancelled while assembling: nobody could reach the files; take them away.
            target = Path(locked.dataset_path)
            transaction.on_commit(lambda: remove_folder(target))
            return False
        rows = sum(value or 0 for value in (manifest.get("rows") or {}).values())
        locked.status = RunStatus.PUBLISHED
        locked.manifest = manifest
        locked.manifest_sha256 = digests["manifest_sha256"]
        locked.archive_sha256 = digests["archive_sha256"]
        locked.archive_bytes = digests["archive_bytes"]
        locked.rows_done = rows
        locked.rows_expected = rows
        locked.finished_at = timezone.now()
        locked.claimed_by = ""
        locked.save()
        record_event(
            action="provisioning.published",
            actor=None,
            target=locked,
            after={
                "project": locked.project.reference,
                "register_snapshot": locked.register_snapshot,
                "spec_sha256": locked.spec_sha256,
                "decision": (manifest.get("decision") or {}).get("number"),
                "manifest_sha256": locked.manifest_sha256,
                "archive_sha256": locked.archive_sha256,
                "key_id": locked.key_id,
                "files": [
                    {"name": entry["name"], "sha256": entry["sha256"]}
                    for entry in manifest.get("files", [])
                ],
                "rows": rows,
            },
        )
        # What left (for OPP-11 and the persons' status page), and the project becomes active.
        propagation.after_publication(locked)
        superseded = delivery.supersede_earlier_datasets(locked)
        url = reverse("provisioning_run", args=[locked.pk])
        subject = Message(gettext_lazy("%(ref)s — dataset ready"), ref=locked.project.reference)
        body = Message(
            gettext_lazy(
                "The dataset of the project %(ref)s is published. The recipients named in the "
                "approved specification may download it from the portal, through links valid "
                "for %(minutes)s minutes, until the end of the access period."
            ),
            ref=locked.project.reference,
            minutes=settings.EDS_DOWNLOAD_LINK_MINUTES,
        )
        notify(
            [*selectors.current_recipients(locked), locked.started_by],
            subject=subject,
            body=body,
            url=url,
        )
        if superseded and settings.EDS_SUPERSEDED_GRACE_HOURS == 0:
            for old_id in superseded:
                queue.DESTROY_SUPERSEDED_DATASET.on_commit(old_id)
    return True
