"""An objection that reaches datasets already delivered (OPP-11), and "which projects used my data".

What a dataset contained is RECORDED, not recomputed: when a run is published, the project
pseudonyms it delivered are read back from its own ``person`` file and stored with the run
(``RunDelivery``: one row, the pseudonyms end to end), inside the publication's transaction.
The portal's database thus holds project pseudonyms (which the recipients hold too), never
internal keys outside the register.
Whether a person was in a run is checked by computing their pseudonym with the project key of
that run's key generation and looking it up: a recomputation on today's warehouse would drift
as the warehouse is fed (a person's later visits would put them in a dataset they never were in).
A specification that does not deliver the pseudonym has no ``person_pseudonym`` column to read:
the run's person map is then recomputed once, at publication, by the engine's own rules.

When an objection takes effect (``access.opposition.actions`` confirms a match, or the re-matching
finds the person), ``propagate_on_commit`` queues ``propagate_objection`` with the register entry's
id. For every published, not destroyed dataset of a project the objection covers that contains the
person, it records a ``Propagation`` (pseudonyms to delete, deletion due date), tells the project's
recipients and lead which pseudonyms to delete and where to confirm, and starts a new run of the
project (a new version of the dataset, built against the newer register snapshot). The lead confirms
the deletion; the DPO may record an exception with its reason instead (GDPR art. 17(3)(d) and 89).
Every step is audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models import EntryEffect, OppositionRequest, RegisterEntry, Scope
from access.models_provisioning import (
    ACTIVE_RUN_STATUSES,
    Propagation,
    PropagationStatus,
    ProvisioningRun,
    RunDelivery,
    RunStatus,
)
from access.provisioning import queue, selectors
from access.provisioning.keys import project_key
from access.provisioning.runs import build_request
from eds_portal.audit import record_event
from eds_portal.authz import has_role
from eds_portal.errors import Refused
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.models import Project, ProjectStatus, TeamMembership, TeamRole

PSEUDONYM_COLUMN = "person_pseudonym"
# In the OMOP shape, the pseudonym is the person's source value, in the person file only; the
# other tables carry the person's integer person_id.
OMOP_PSEUDONYM_COLUMN = "person_source_value"
_HEX = re.compile(r"[0-9a-f]{32}\Z")
BATCH = 20_000


class PropagationRefused(Refused):
    """The step is not possible now; ``str()`` is a message for the user."""


# --- What a run delivered -------------------------------------------------------------------


def record_delivery(run: ProvisioningRun) -> int:
    """Stores the pseudonyms a run just published; inside the publication's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("a delivery is recorded inside the publication's transaction")
    count = 0
    chunks = []
    for batch in _delivered_batches(run):
        chunks.append(b"".join(bytes.fromhex(value) for value in batch if _HEX.match(value)))
        count += len(batch)
    RunDelivery.objects.create(run=run, persons=count, pseudonyms=b"".join(chunks))
    return count


def _delivered_batches(run: ProvisioningRun) -> Iterator[list[str]]:
    """Batches of pseudonyms; any query on the portal's database is made before it returns
    (the caller then streams them into a COPY on that database)."""
    import pyarrow.parquet as pq

    path = Path(run.dataset_path) / "person.parquet"
    column = pseudonym_column(run)
    if path.is_file():
        parquet = pq.ParquetFile(path)
        if column in parquet.schema_arrow.names:
            # One row per delivered person: the person table is the run's person map.
            return (
                [value for value in batch.column(0).to_pylist() if value]
                for batch in parquet.iter_batches(columns=[column], batch_size=BATCH)
            )
    return _recomputed_batches(run, build_request(run))


def _recomputed_batches(run: ProvisioningRun, request) -> Iterator[list[str]]:
    """The run's person map by the engine's rules (no pseudonym column was delivered).

    Done once, by the worker that publishes, on the warehouse the parts just read; only the
    warehouse is queried here.
    """
    from warehouse.export import RunPlan, iter_delivered_pseudonyms

    yield from iter_delivered_pseudonyms(request, RunPlan.from_dict(run.plan))


def pseudonym_column(run: ProvisioningRun) -> str:
    """The column holding the person pseudonym in the run's files (its delivery shape's)."""
    from warehouse.export import SpecificationError, person_link_column

    try:
        return person_link_column(run.decision.approved_specification or {})
    except SpecificationError:
        return PSEUDONYM_COLUMN


def is_omop(run: ProvisioningRun) -> bool:
    return pseudonym_column(run) == OMOP_PSEUDONYM_COLUMN


def pseudonym_files(run: ProvisioningRun) -> list[str]:
    """The run's files whose ``person_pseudonym`` column names the persons' rows.

    Read from the manifest kept with the run (the files may be destroyed since): a manifest of
    format 2 lists every table's columns; one of format 1 had the column in every table about a
    person when the specification delivered ``person.pseudonym``, and in none otherwise. An
    empty list: the files cannot tell one person's rows, the dataset can only be deleted whole.
    """
    manifest = run.manifest or {}
    tables = manifest.get("tables")
    column = pseudonym_column(run)
    if isinstance(tables, list):
        return [
            name
            for table in tables
            if isinstance(table, dict) and column in (table.get("columns") or [])
            for name in table.get("files") or []
        ]
    variables = (manifest.get("specification") or {}).get("variables") or []
    codes = {entry.get("code") if isinstance(entry, dict) else entry for entry in variables}
    if "person.pseudonym" not in codes:
        return []
    rows = manifest.get("rows") or {}
    return [
        entry["name"]
        for entry in manifest.get("files") or []
        if entry.get("name", "").rsplit(".", 1)[0] in rows
        and entry["name"].rsplit(".", 1)[0] != "care_site"
    ]


def rows_identifiable(run: ProvisioningRun) -> bool:
    """Whether a recipient can find one person's rows in the run's files (by pseudonym)."""
    return bool(pseudonym_files(run))


def run_pseudonym(run: ProvisioningRun, person_key: str) -> str:
    """The person's pseudonym in ``run``: the project key of the run's key generation."""
    from warehouse.export import pseudonym

    return pseudonym(project_key(run.project.reference, run.key_generation), person_key)


def runs_containing(
    person_keys: Iterable[str], runs: Iterable[ProvisioningRun]
) -> list[tuple[ProvisioningRun, list[str]]]:
    """The runs (among ``runs``) that delivered one of these persons, with their pseudonyms.

    One HMAC per run and person, then one query.
    """
    wanted: dict[tuple[int, str], ProvisioningRun] = {}
    for run in runs:
        if run.key_generation is None:
            continue
        for person_key in person_keys:
            wanted[(run.pk, run_pseudonym(run, person_key))] = run
    if not wanted:
        return []
    # One query: is the 16-byte pseudonym at a 16-byte boundary of the run's delivery? (An
    # earlier, misaligned occurrence of 16 random bytes is a 2^-100 event.)
    if connection.vendor == "postgresql":
        position = "position(%s in pseudonyms)"
    else:
        position = "instr(pseudonyms, %s)"
    table = RunDelivery._meta.db_table
    pairs = list(wanted)
    selects, params = [], []
    for index, (run_id, value) in enumerate(pairs):
        selects.append(
            f"SELECT {index} FROM {table} WHERE run_id = %s AND {position} %% 16 = 1"  # noqa: S608
        )
        params += [run_id, bytes.fromhex(value)]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        hits = [pairs[row[0]] for row in cursor.fetchall()]
    found: dict[int, list[str]] = {}
    for run_id, value in hits:
        found.setdefault(run_id, []).append(value)
    runs_by_id = {run.pk: run for run in wanted.values()}
    return [(runs_by_id[run_id], sorted(values)) for run_id, values in sorted(found.items())]


# --- After publication: the project receives data -------------------------------------------


def after_publication(run: ProvisioningRun) -> None:
    """Inside the publication's transaction: records what left, and activates the project."""
    from projects import workflow

    persons = record_delivery(run)
    record_event(
        action="provisioning.delivery_recorded",
        actor=None,
        target=run,
        after={"project": run.project.reference, "persons": persons},
    )
    project = Project.objects.select_for_update().get(pk=run.project_id)
    if project.status == ProjectStatus.PUBLISHED:
        workflow.fire(
            project,
            "activate",
            by=None,
            details={"run": run.pk},
            team_note=_("Its first dataset is published: the project now receives data."),
        )


# --- Propagation of an objection --------------------------------------------------------------


def propagate_on_commit(entry: RegisterEntry) -> None:
    """Called by ``access.opposition.actions`` when an objection takes effect: queued after
    commit."""
    queue.PROPAGATE_OBJECTION.on_commit(entry.pk)


def affected_runs(entry: RegisterEntry) -> QuerySet[ProvisioningRun]:
    runs = selectors.published_not_destroyed().select_related("started_by")
    if entry.scope != Scope.ALL:
        runs = runs.filter(project__reference__in=entry.project_references)
    return runs.order_by("project_id", "pk")


def propagate_objection(*, entry_id: int) -> list[Propagation]:
    """Finds the delivered datasets that contain the person and starts their deletion.

    Run by a worker; a second delivery of the message creates nothing new.
    """
    with transaction.atomic():
        entry = RegisterEntry.objects.select_related("request").get(pk=entry_id)
        if entry.effect != EntryEffect.OBJECT or RegisterEntry.objects.filter(ends=entry).exists():
            return []  # a withdrawal, or an objection already withdrawn
        candidates = list(affected_runs(entry))
        if not candidates:
            return []
        # The projects' rows serialise this with the runs being started and with a duplicate.
        project_ids = sorted({run.project_id for run in candidates})
        projects = {
            project.pk: project
            for project in Project.objects.select_for_update().filter(pk__in=project_ids)
        }
        done = set(Propagation.objects.filter(entry=entry).values_list("run_id", flat=True))
        containing = [
            (run, pseudonyms)
            for run, pseudonyms in runs_containing([entry.person_key], candidates)
            if run.pk not in done
        ]
        if not containing:
            return []
        now = timezone.now()
        replacements: dict[int, ProvisioningRun] = {}
        created = []
        for run, pseudonyms in containing:
            if run.project_id not in replacements:
                replacements[run.project_id] = _replacement_run(
                    projects[run.project_id], template=run, entry=entry
                )
            propagation = Propagation.objects.create(
                entry=entry,
                run=run,
                pseudonyms=pseudonyms,
                replacement=replacements[run.project_id],
                created_at=now,
                notified_at=now,
                due_on=timezone.localdate(now)
                + timedelta(days=settings.EDS_OPPOSITION_DELETION_DAYS),
            )
            record_event(
                action="provisioning.propagation_recorded",
                actor=None,
                target=propagation,
                after={
                    "project": run.project.reference,
                    "run": run.pk,
                    "register_number": entry.number,
                    "receipt": entry.request.receipt_number,
                    "pseudonyms": pseudonyms,
                    "replacement": propagation.replacement_id,
                    "due_on": propagation.due_on,
                },
            )
            _notify_recipients(propagation)
            created.append(propagation)
    return created


def sweep_propagations() -> int:
    """Objections in force that reached a published dataset without a propagation record.

    The safety net for a propagation message that was lost, and for an objection that took
    effect while a run was publishing (after its last register check). Only the entries newer
    than a run's register snapshot can be in it: older ones were excluded when it was built.
    Returns the number of propagations recorded.
    """
    runs = [run for run in affected_runs_all() if run.register_snapshot is not None]
    if not runs:
        return 0
    oldest = min(run.register_snapshot for run in runs)
    ended = RegisterEntry.objects.filter(ends__isnull=False).values("ends_id")
    entries = list(
        RegisterEntry.objects.filter(effect=EntryEffect.OBJECT, number__gt=oldest)
        .exclude(pk__in=ended)
        .order_by("number")
    )
    done = set(Propagation.objects.values_list("entry_id", "run_id"))
    created = 0
    for entry in entries:
        covered = [
            run
            for run in runs
            if run.register_snapshot < entry.number
            and (entry.scope == Scope.ALL or run.project.reference in entry.project_references)
            and (entry.pk, run.pk) not in done
        ]
        if covered and runs_containing([entry.person_key], covered):
            created += len(propagate_objection(entry_id=entry.pk))
    return created


def affected_runs_all() -> QuerySet[ProvisioningRun]:
    return selectors.published_not_destroyed().order_by("project_id", "pk")


def _replacement_run(project: Project, *, template: ProvisioningRun, entry: RegisterEntry):
    """A new version of the project's dataset, without the person.

    A run already in progress re-reads the register before it publishes (and is rebuilt if the
    person is in it): it is the new version. Otherwise the system starts one, on behalf of the
    data steward who started the delivered run (they are told if the gates refuse it).
    """
    active = ProvisioningRun.objects.filter(project=project, status__in=ACTIVE_RUN_STATUSES).first()
    if active is not None:
        return active
    run = ProvisioningRun.objects.create(project=project, started_by=template.started_by)
    record_event(
        action="provisioning.run_started",
        actor=None,
        target=run,
        after={
            "project": project.reference,
            "status": run.status,
            "reason": "objection",
            "register_number": entry.number,
            "replaces": template.pk,
        },
    )
    queue.PREPARE_RUN.on_commit(run.pk)
    return run


def leads_of(project: Project) -> list[Any]:
    return [
        membership.user
        for membership in TeamMembership.objects.filter(
            project=project, role=TeamRole.LEAD, user__is_active=True
        ).select_related("user")
    ]


def _notify_recipients(propagation: Propagation) -> None:
    run = propagation.run
    reference = run.project.reference
    files = pseudonym_files(run)
    subject = Message(gettext_lazy("%(ref)s — an objection: pseudonyms to delete"), ref=reference)
    values = {
        "run": run.pk,
        "ref": reference,
        "pseudonyms": "\n".join(propagation.pseudonyms),
        "due": propagation.due_on,
        "column": pseudonym_column(run),
        "files": ", ".join(files),
    }
    if files and is_omop(run):
        message = gettext_lazy(
            "A person whose data is in the dataset delivered by run %(run)s of the "
            "project %(ref)s objects to its reuse (GDPR art. 21). Delete from every copy "
            "you hold the rows of the pseudonym(s):\n\n%(pseudonyms)s\n\nby %(due)s. The "
            "dataset is in the OMOP shape: find each pseudonym in the %(column)s column "
            "of %(files)s, note its person_id, and delete the rows of that person_id in "
            "every table and in the files you derived from them. A new version of the "
            "dataset, without this person, is being prepared. The project lead confirms "
            "the deletion on the portal."
        )
    elif files:
        message = gettext_lazy(
            "A person whose data is in the dataset delivered by run %(run)s of the "
            "project %(ref)s objects to its reuse (GDPR art. 21). Delete from every copy "
            "you hold the rows of the pseudonym(s):\n\n%(pseudonyms)s\n\nby %(due)s. Look "
            "for them in the %(column)s column of each file (%(files)s) and of the files "
            "you derived from them. A new version of the dataset, without this person, is "
            "being prepared. The project lead confirms the deletion on the portal."
        )
    else:
        message = gettext_lazy(
            "A person whose data is in the dataset delivered by run %(run)s of the "
            "project %(ref)s objects to its reuse (GDPR art. 21). The files of this "
            "dataset have no %(column)s column: this person's rows cannot be found in "
            "them. Delete the whole dataset, every copy and the files derived from it, by "
            "%(due)s; a new version without this person is being prepared and replaces "
            "it. The project lead confirms the deletion on the portal."
        )
    body = Message(message, **values)
    notify(
        [*selectors.current_recipients(run), *leads_of(run.project)],
        subject=subject,
        body=body,
        url=reverse("provisioning_propagation", args=[propagation.pk]),
    )


# --- The lead's confirmation, the DPO's exception ---------------------------------------------


def _locked(propagation: Propagation) -> Propagation:
    return (
        Propagation.objects.select_for_update()
        .select_related("run__project", "entry")
        .get(pk=propagation.pk)
    )


def confirm_deletion(
    *, propagation: Propagation, by: Any, whole_dataset: bool = False
) -> Propagation:
    """The project lead confirms that the pseudonyms' rows were deleted from every copy.

    ``whole_dataset``: the lead confirms that every copy of the dataset was deleted, the only
    confirmation possible when its files cannot tell the person's rows (no pseudonym column).
    """
    from projects.permissions import is_lead

    with transaction.atomic():
        locked = _locked(propagation)
        if not is_lead(by, locked.run.project):
            raise PermissionDenied
        if not locked.is_open:
            raise PropagationRefused(_("This deletion is already settled."))
        if not whole_dataset and not rows_identifiable(locked.run):
            raise PropagationRefused(
                _(
                    "The files of this dataset have no pseudonym column: the person's rows "
                    "cannot be told apart. Delete the whole dataset, then confirm that."
                )
            )
        locked.status = PropagationStatus.CONFIRMED
        locked.confirmed_at = timezone.now()
        locked.confirmed_by = by
        locked.save(update_fields=["status", "confirmed_at", "confirmed_by"])
        record_event(
            action="provisioning.propagation_confirmed",
            actor=by,
            target=locked,
            before={"status": PropagationStatus.OPEN},
            after={
                "status": locked.status,
                "project": locked.run.project.reference,
                "run": locked.run_id,
                "pseudonyms": locked.pseudonyms,
                "deleted": "dataset" if whole_dataset else "rows",
            },
        )
        reference = locked.run.project.reference
        subject = Message(gettext_lazy("%(ref)s — deletion confirmed"), ref=reference)
        if whole_dataset:
            body = Message(
                gettext_lazy(
                    "The lead of the project %(ref)s confirmed that every copy of the dataset "
                    "of run %(run)s was deleted, after an objection."
                ),
                ref=reference,
                run=locked.run_id,
            )
        else:
            body = Message(
                gettext_lazy(
                    "The lead of the project %(ref)s confirmed the deletion of the rows of an "
                    "objecting person from the dataset of run %(run)s."
                ),
                ref=reference,
                run=locked.run_id,
            )
        notify(
            _dpos(),
            subject=subject,
            body=body,
            url=reverse("provisioning_propagation", args=[locked.pk]),
        )
    return locked


def record_exception(*, propagation: Propagation, by: Any, reason: str) -> Propagation:
    """The DPO decides that the rows need not be deleted, and documents why (OPP-11)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _locked(propagation)
        if not has_role(by, Role.DPO):
            raise PermissionDenied
        if not locked.is_open:
            raise PropagationRefused(_("This deletion is already settled."))
        if not reason:
            raise PropagationRefused(_("Give the reason for the exception."))
        locked.status = PropagationStatus.EXCEPTION
        locked.exception_reason = reason
        locked.exception_at = timezone.now()
        locked.exception_by = by
        locked.save(update_fields=["status", "exception_reason", "exception_at", "exception_by"])
        record_event(
            action="provisioning.propagation_exception",
            actor=by,
            target=locked,
            before={"status": PropagationStatus.OPEN},
            after={
                "status": locked.status,
                "project": locked.run.project.reference,
                "run": locked.run_id,
                "reason": reason,
            },
        )
        subject = Message(
            gettext_lazy("%(ref)s — exception to a deletion"), ref=locked.run.project.reference
        )
        body = Message(
            gettext_lazy(
                "The data protection officer recorded an exception: the rows of the "
                "pseudonym(s) named earlier for run %(run)s need not be deleted.\n\nReason: "
                "%(reason)s"
            ),
            run=locked.run_id,
            reason=reason,
        )
        notify(
            [*selectors.current_recipients(locked.run), *leads_of(locked.run.project)],
            subject=subject,
            body=body,
            url=reverse("provisioning_propagation", args=[locked.pk]),
        )
    return locked


def _dpos():
    return get_user_model().objects.filter(groups__name=Role.DPO.value, is_active=True).distinct()


# --- Reads -----------------------------------------------------------------------------------


def propagations() -> QuerySet[Propagation]:
    return Propagation.objects.select_related(
        "run__project", "entry__request", "replacement", "confirmed_by", "exception_by"
    )


def open_propagations() -> QuerySet[Propagation]:
    return propagations().filter(status=PropagationStatus.OPEN).order_by("due_on", "pk")


def deliveries_for(request: OppositionRequest) -> list[dict[str, Any]]:
    """Projects whose published datasets contained the person, with the dates.

    Only for a matched objection: its register entries name the person. Every published run
    counts, destroyed or not: the question is who received the data, and when.
    """
    if request.matched_at is None:
        return []
    keys = set(
        request.register_entries.filter(effect=EntryEffect.OBJECT).values_list(
            "person_key", flat=True
        )
    )
    if not keys:
        return []
    runs = ProvisioningRun.objects.filter(status=RunStatus.PUBLISHED).select_related("project")
    by_project: dict[int, dict[str, Any]] = {}
    for run, _pseudonyms in runs_containing(keys, runs):
        entry = by_project.setdefault(
            run.project_id, {"project": run.project, "title": "", "dates": []}
        )
        entry["dates"].append(run.finished_at)
    if not by_project:
        return []
    from access.models_transparency import PublicPage

    titles = dict(
        PublicPage.objects.filter(project_id__in=by_project).values_list("project_id", "title")
    )
    deliveries = []
    for project_id, entry in by_project.items():
        entry["public"] = project_id in titles
        entry["title"] = titles.get(project_id) or entry["project"].title
        entry["dates"] = sorted(date for date in entry["dates"] if date is not None)
        deliveries.append(entry)
    deliveries.sort(key=lambda entry: (entry["dates"][:1], entry["project"].reference))
    return deliveries
