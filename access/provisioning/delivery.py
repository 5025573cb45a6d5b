"""A published dataset's life on the exit path: downloads, supersession, destruction, sweep.

Whether a file may leave is decided by ``serving.may_serve``; the views and the API record what
they served or refused here (LOG-01). A newer version of a project's dataset supersedes the
earlier ones inside its publication's transaction (``supersede_earlier_datasets``, called by
``publication``); their files are destroyed with a certificate after the grace period, as are
the datasets past their access period and those of a closed or withdrawn project (MIN-13,
MIN-14). ``sweep_datasets`` is the periodic safety net, objections that reached a dataset
without a propagation record included (``propagation.sweep_propagations``).
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_provisioning import DestructionCertificate, ProvisioningRun, RunStatus
from access.provisioning import propagation, selectors
from access.provisioning.runs import RunRefused
from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.models import ProjectStatus

# --- Downloads (LOG-01) ----------------------------------------------------------------------


def record_download(
    *, run: ProvisioningRun, file_name: str, sha256: str, by: Any, token: Any = None
) -> None:
    """``token``: the download token a script presented (its id is audited, never its value)."""
    after = {"project": run.project.reference, "file": file_name, "sha256": sha256}
    if token is not None:
        after["download_token"] = token.pk
    record_event(action="provisioning.downloaded", actor=by, target=run, after=after)


def record_refused_download(
    *, run: ProvisioningRun, file_name: str, refusal: str, by: Any, token: Any = None
) -> None:
    """A named recipient's link refused by the dataset's or the project's state (LOG-01)."""
    after = {"project": run.project.reference, "file": file_name, "refusal": str(refusal)}
    if token is not None:
        after["download_token"] = token.pk
    record_event(action="provisioning.download_refused", actor=by, target=run, after=after)


# --- Supersession: a newer version replaces the earlier datasets ---------------------------


def supersede_earlier_datasets(run: ProvisioningRun) -> list[int]:
    """Inside the publication's transaction: the project's earlier datasets stop being served.

    A new version of a project's dataset (after an objection, or a refresh) replaces every
    earlier one at once: their links are refused from the commit on, naming the replacement,
    and their files are destroyed with a certificate after ``EDS_SUPERSEDED_GRACE_HOURS``.
    """
    now = timezone.now()
    earlier = list(
        ProvisioningRun.objects.select_for_update(of=("self",))
        .filter(
            project_id=run.project_id,
            status=RunStatus.PUBLISHED,
            superseded_by__isnull=True,
            destruction__isnull=True,
        )
        .exclude(pk=run.pk)
        .order_by("pk")
    )
    for old in earlier:
        old.superseded_by = run
        old.superseded_at = now
        old.save(update_fields=["superseded_by", "superseded_at"])
        record_event(
            action="provisioning.superseded",
            actor=None,
            target=old,
            after={
                "project": run.project.reference,
                "replacement": run.pk,
                "grace_hours": settings.EDS_SUPERSEDED_GRACE_HOURS,
            },
        )
    if earlier:
        subject = Message(
            gettext_lazy("%(ref)s — earlier dataset replaced"), ref=run.project.reference
        )
        body = Message(
            gettext_lazy(
                "The dataset of run %(run)s replaces the earlier version(s) of the project "
                "%(ref)s (run(s) %(old)s). Their download links no longer work and their files "
                "are destroyed by the portal; destroy every copy you hold of them and use the "
                "new version only."
            ),
            run=run.pk,
            ref=run.project.reference,
            old=", ".join(str(old.pk) for old in earlier),
        )
        recipients = {
            user.pk: user for old in earlier for user in selectors.current_recipients(old)
        }
        notify(
            list(recipients.values()),
            subject=subject,
            body=body,
            url=reverse("provisioning_run", args=[run.pk]),
        )
    return [old.pk for old in earlier]


# --- Destruction (MIN-13, MIN-14) and the sweep ---------------------------------------------


# Why a dataset was destroyed: stable codes in the certificate, sentences on the pages.
REASON_ACCESS_ENDED = "access period ended"
REASON_SUPERSEDED = "superseded"
REASON_PROJECT_CLOSED = "project closed"
REASON_PROJECT_WITHDRAWN = "project withdrawn"


def destruction_reason_label(certificate: DestructionCertificate) -> str:
    labels = {
        REASON_ACCESS_ENDED: _("the access period ended"),
        REASON_SUPERSEDED: _("a newer version of the dataset replaced it"),
        REASON_PROJECT_CLOSED: _("the project was closed"),
        REASON_PROJECT_WITHDRAWN: _("the project was withdrawn"),
    }
    return str(labels.get(certificate.reason, certificate.reason))


class _DestructionReason:
    """A destruction's reason in words, in the language active when it is read."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __str__(self) -> str:
        return destruction_reason_label(DestructionCertificate(reason=self.reason))


def destroy_dataset(
    *, run: ProvisioningRun, by: Any = None, reason: str = REASON_ACCESS_ENDED
) -> DestructionCertificate:
    """Deletes the dataset's files and records what was destroyed (MIN-14)."""
    from warehouse.export.output import sha256_of

    with transaction.atomic():
        locked = (
            ProvisioningRun.objects.select_for_update().select_related("project").get(pk=run.pk)
        )
        if locked.status != RunStatus.PUBLISHED:
            raise RunRefused([_("Only a published dataset can be destroyed.")])
        if DestructionCertificate.objects.filter(run=locked).exists():
            raise RunRefused([_("This dataset was already destroyed.")])
        folder = Path(locked.dataset_path)
        files = []
        listed = [
            *(locked.manifest or {}).get("files", []),
            {"name": selectors.MANIFEST, "sha256": locked.manifest_sha256 or None},
        ]
        if locked.archive_sha256:
            listed.append(
                {
                    "name": selectors.ARCHIVE,
                    "bytes": locked.archive_bytes,
                    "sha256": locked.archive_sha256,
                }
            )
        for entry in listed:
            path = folder / entry["name"]
            found = path.is_file()
            files.append(
                {
                    "name": entry["name"],
                    "bytes": path.stat().st_size if found else entry.get("bytes"),
                    "sha256": sha256_of(path) if found else entry.get("sha256"),
                    "found": found,
                }
            )
        certificate = DestructionCertificate.objects.create(
            run=locked,
            destroyed_by=by,
            access_ended_at=selectors.access_ends_at(locked),
            dataset_path=str(folder),
            files=files,
            reason=reason,
        )
        record_event(
            action="provisioning.destroyed",
            actor=by,
            target=locked,
            after={
                "project": locked.project.reference,
                "files": [{"name": f["name"], "sha256": f["sha256"]} for f in files],
                "reason": reason,
            },
        )
        subject = Message(gettext_lazy("%(ref)s — dataset destroyed"), ref=locked.project.reference)
        if reason == REASON_ACCESS_ENDED:
            body = Message(
                gettext_lazy(
                    "The access period of the project %(ref)s has ended: the dataset delivered "
                    "by run %(run)s has been destroyed and a destruction certificate recorded. "
                    "Copies you hold must be destroyed too. A renewal goes through the "
                    "commission (a new decision)."
                ),
                ref=locked.project.reference,
                run=locked.pk,
            )
        else:
            body = Message(
                gettext_lazy(
                    "The dataset delivered by run %(run)s of the project %(ref)s has been "
                    "destroyed and a destruction certificate recorded (%(reason)s). Copies you "
                    "hold must be destroyed too."
                ),
                ref=locked.project.reference,
                run=locked.pk,
                reason=_DestructionReason(reason),
            )
        dpos = (
            type(locked.started_by)
            .objects.filter(groups__name=Role.DPO.value, is_active=True)
            .distinct()
        )
        team = [m.user for m in locked.project.memberships.select_related("user")]
        # The link only for those who may still open the run (a closed project's team may not:
        # a link to a 404 is a dead end).
        readers, others = [], []
        for person in [*dpos, *team, locked.started_by]:
            may_open = has_permission(person, Permission.VIEW_RUNS, locked)
            (readers if may_open else others).append(person)
        notify(
            readers, subject=subject, body=body, url=reverse("provisioning_run", args=[locked.pk])
        )
        notify(others, subject=subject, body=body)
        # Inside the transaction: if the files cannot go, no certificate says they did.
        if folder.exists():
            shutil.rmtree(folder)
    return certificate


def destroy_expired_datasets(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    destroyed = 0
    for run in selectors.published_not_destroyed():
        end = selectors.access_ends_at(run)
        if end is not None and end <= now:
            destroyed += _destroy_quietly(run, REASON_ACCESS_ENDED)
    return destroyed


def destroy_superseded_dataset(*, run_id: int, now: datetime | None = None) -> bool:
    """Destroys a replaced dataset once its grace period is over (a duplicate does nothing)."""
    now = now or timezone.now()
    run = selectors.published_not_destroyed().filter(pk=run_id).first()
    if run is None or run.superseded_at is None:
        return False
    if run.superseded_at + timedelta(hours=settings.EDS_SUPERSEDED_GRACE_HOURS) > now:
        return False
    return bool(_destroy_quietly(run, REASON_SUPERSEDED))


def _destroy_quietly(run: ProvisioningRun, reason: str) -> int:
    """1 if destroyed, 0 if another worker was first (the certificate exists already)."""
    try:
        destroy_dataset(run=run, by=None, reason=reason)
    except RunRefused:
        return 0
    return 1


def sweep_datasets(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic safety net of the exit path (MIN-13, MIN-14, OPP-11).

    - datasets past their access period are destroyed;
    - replaced datasets past their grace period are destroyed (a lost message changes nothing);
    - datasets of closed or withdrawn projects are destroyed (suspended ones are kept, unserved,
      for a resumption);
    - every objection in force is checked against the published datasets, so that an objection
      whose propagation message was lost, or that arrived while a run was publishing, still
      reaches the datasets that contain the person.
    """
    now = now or timezone.now()
    counts = {"expired": destroy_expired_datasets(now=now), "superseded": 0, "stopped": 0}
    grace = timedelta(hours=settings.EDS_SUPERSEDED_GRACE_HOURS)
    for run in selectors.published_not_destroyed().filter(superseded_at__lte=now - grace):
        counts["superseded"] += _destroy_quietly(run, REASON_SUPERSEDED)
    stopped = {
        ProjectStatus.CLOSED: REASON_PROJECT_CLOSED,
        ProjectStatus.WITHDRAWN: REASON_PROJECT_WITHDRAWN,
    }
    for run in selectors.published_not_destroyed().filter(project__status__in=list(stopped)):
        counts["stopped"] += _destroy_quietly(run, stopped[run.project.status])
    counts["propagations"] = propagation.sweep_propagations()
    return counts
