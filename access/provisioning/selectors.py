"""Reads of provisioning: who receives a dataset, which runs a user may see, what is due."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from access.models_provisioning import (
    ACTIVE_RUN_STATUSES,
    PartStatus,
    ProjectKeyGeneration,
    ProvisioningRun,
    RunStatus,
)
from projects.models import Decision, Project, ProjectStatus, TeamMembership

S = ProjectStatus
# Projects the data steward follows: on the way to provisioning, or receiving data.
FOLLOWED = (S.APPROVED, S.FORMALITIES, S.PUBLISHED, S.ACTIVE)
MANIFEST = "manifest.json"
ARCHIVE = "dataset.zip"


def dataset_root() -> Path:
    return Path(settings.EDS_DATASETS_DIR)


def dataset_target(run: ProvisioningRun) -> Path:
    """Where a run publishes: one folder per run, under the project's reference."""
    return dataset_root() / run.project.reference / f"run-{run.pk:06d}"


def current_key_generation(project: Project) -> ProjectKeyGeneration | None:
    return project.key_generations.order_by("-number").first()


# --- Recipients (MIN-13) ------------------------------------------------------------------------


def named_recipient_ids(run: ProvisioningRun) -> set[int]:
    """User ids named as recipients in the specification the run executed."""
    decision = run.decision
    if decision is None:
        return set()
    recipients = (decision.approved_specification or {}).get("recipients") or []
    return {int(entry["user_id"]) for entry in recipients if entry.get("user_id")}


def current_recipients(run: ProvisioningRun) -> list[Any]:
    """Named in the specification, still active and still on the team."""
    ids = named_recipient_ids(run)
    if not ids:
        return []
    return [
        membership.user
        for membership in TeamMembership.objects.filter(
            project_id=run.project_id, user_id__in=ids, user__is_active=True
        ).select_related("user")
    ]


def is_named_recipient(user: Any, run: ProvisioningRun) -> bool:
    """Named by the specification the run executed AND by the decision in force, still active
    and on the team: a correction that removes a recipient stops their downloads at once."""
    from access.formalities.gates import current_decision

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.pk not in named_recipient_ids(run):
        return False
    in_force = current_decision(run.project)
    if in_force is not None and in_force.pk != run.decision_id:
        named_now = (in_force.approved_specification or {}).get("recipients") or []
        if user.pk not in {int(entry["user_id"]) for entry in named_now if entry.get("user_id")}:
            return False
    if run.project.status == ProjectStatus.CLOSED:
        return False  # a closed project's team holds no right on it (projects.permissions)
    return TeamMembership.objects.filter(project_id=run.project_id, user=user).exists()


def is_team_member(user: Any, project: Project) -> bool:
    from projects.permissions import is_member

    return is_member(user, project)


def with_progress(runs: QuerySet[ProvisioningRun]) -> QuerySet[ProvisioningRun]:
    """Annotates the parts done of each run's current build (one query for the list)."""
    from django.db.models import F

    return runs.annotate(
        parts_done_count=Count(
            "parts",
            filter=Q(parts__status=PartStatus.DONE, parts__build=F("build")),
        )
    )


def project_runs(project: Project) -> QuerySet[ProvisioningRun]:
    return with_progress(
        ProvisioningRun.objects.filter(project=project).select_related(
            "started_by", "destruction", "decision"
        )
    )


def active_runs() -> QuerySet[ProvisioningRun]:
    return with_progress(
        ProvisioningRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).select_related(
            "project", "started_by"
        )
    ).order_by("created_at")


# --- Access period ----------------------------------------------------------------------------


def access_ends_at(run: ProvisioningRun) -> datetime | None:
    """End of access for the run's dataset: the latest end among the favourable decisions.

    A renewal is a new decision of the commission: if it extends access, the dataset stays.
    An approved amendment (GOV-13) sets the access period of the project from then on, shorter
    or longer: its end is the end, for the datasets delivered before it too.
    """
    from access.formalities.gates import access_ends_at as decision_end

    ends = []
    latest = (
        Decision.objects.filter(project_id=run.project_id)
        .in_force()
        .select_related("version")
        .first()
    )
    if latest is not None and latest.is_favourable and latest.pk != run.decision_id:
        if latest.version.is_amendment and (
            run.decision is None or latest.decided_at >= run.decision.decided_at
        ):
            return decision_end(latest)
        ends.append(decision_end(latest))
    if run.decision is not None:
        ends.append(decision_end(run.decision))
    ends = [end for end in ends if end is not None]
    return max(ends) if ends else None


def published_not_destroyed() -> QuerySet[ProvisioningRun]:
    return ProvisioningRun.objects.filter(
        status=RunStatus.PUBLISHED, destruction__isnull=True
    ).select_related("project", "decision")


# --- Files of a dataset -------------------------------------------------------------------


def dataset_files(run: ProvisioningRun, *, archive: bool = True) -> list[dict]:
    """The files a recipient may download: every file of the manifest, then the manifest, then
    the archive of them all (``dataset.zip``) when the run kept its SHA-256."""
    if run.status != RunStatus.PUBLISHED or not run.manifest or hasattr_destruction(run):
        return []
    files = [dict(entry) for entry in run.manifest.get("files", [])]
    files.append({"name": MANIFEST, "bytes": None, "sha256": run.manifest_sha256 or None})
    if archive and run.archive_sha256:
        files.append(
            {
                "name": ARCHIVE,
                "bytes": run.archive_bytes,
                "sha256": run.archive_sha256,
                "archive": True,
            }
        )
    return files


def hasattr_destruction(run: ProvisioningRun) -> bool:
    try:
        return run.destruction is not None
    except ProvisioningRun.destruction.RelatedObjectDoesNotExist:
        return False


def file_path(run: ProvisioningRun, name: str) -> Path | None:
    """The file's path if ``name`` is one of the dataset's files, else None (no traversal)."""
    names = {entry["name"] for entry in dataset_files(run)}
    if name not in names or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = Path(run.dataset_path) / name
    return path if path.is_file() else None


# --- The data steward's overview ----------------------------------------------------------


def steward_overview(limit: int = 20) -> dict[str, Any]:
    """Projects ready to provision or blocked (with every reason), and the runs in progress."""
    from access.formalities.gates import provisioning_blockers

    projects = list(
        Project.objects.filter(status__in=FOLLOWED).order_by("status", "reference")[:limit]
    )
    busy = set(
        ProvisioningRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).values_list(
            "project_id", flat=True
        )
    )
    ready, blocked = [], []
    for project in projects:
        reasons = provisioning_blockers(project)
        row = {"project": project, "reasons": reasons, "busy": project.pk in busy}
        (blocked if reasons else ready).append(row)
    return {"ready": ready, "blocked": blocked, "running": list(active_runs()[:limit])}
