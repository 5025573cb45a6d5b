"""Reads of the secretariat's pipeline and of the processing-time statistics.

The time a file spent in each status comes from the audit trail: ``projects.workflow.fire``
writes one event per transition, in the same transaction as the change, with the status before
and after. It is the only complete record of a file's path (a file may go through "under
review" twice), and it cannot be rewritten. Everything here runs a fixed number of queries,
whatever the number of projects.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Min, OuterRef, Subquery
from django.utils import timezone

from eds_portal.models import AuditEvent
from projects.dashboards.workdays import (
    calendar_days_since,
    local_date,
    working_days_since,
)
from projects.models import (
    AdmissibilityCheck,
    AdmissibilityDecision,
    Decision,
    Project,
    ProjectStatus,
    ProtocolVersion,
    TeamMembership,
    TeamRole,
)

S = ProjectStatus

# The protocol's life (docs/architecture.md), then its two ends that are not on the main path.
LIFE_ORDER: tuple[ProjectStatus, ...] = (
    S.DRAFT,
    S.SUBMITTED,
    S.INCOMPLETE,
    S.UNDER_REVIEW,
    S.CHANGES_REQUESTED,
    S.APPROVED,
    S.REJECTED,
    S.FORMALITIES,
    S.PUBLISHED,
    S.ACTIVE,
    S.SUSPENDED,
    S.CLOSED,
    S.WITHDRAWN,
)
assert set(LIFE_ORDER) == set(ProjectStatus), "a status is missing from the pipeline's order"

# A draft has never reached the data office: the pipeline starts at submission.
PIPELINE_STATUSES: tuple[ProjectStatus, ...] = LIFE_ORDER[1:]

# Statuses in which the file waits on the data office or the commission, not on the team.
WAITING_ON_US: frozenset[ProjectStatus] = frozenset(
    {S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED, S.FORMALITIES}
)

PROJECT_TARGET_TYPE = "projects.project"


@dataclass(frozen=True)
class Spell:
    """A stay in one status. ``started_at`` is None when the trail does not say when it began."""

    status: str
    started_at: dt.datetime | None
    ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class PastStatus:
    status: str
    label: str
    working_days: int


@dataclass
class PipelineRow:
    project_id: int
    reference: str
    title: str
    lead: str
    status: str
    entered_at: dt.datetime | None
    working_days: int | None
    calendar_days: int | None
    past: list[PastStatus] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(ProjectStatus(self.status).label)

    def past_working_days(self, status: str) -> int | None:
        return next((p.working_days for p in self.past if p.status == status), None)


@dataclass
class PipelineGroup:
    status: str
    rows: list[PipelineRow]

    @property
    def label(self) -> str:
        return str(ProjectStatus(self.status).label)

    @property
    def count(self) -> int:
        return len(self.rows)


def status_histories(projects: Iterable[Project]) -> dict[int, list[Spell]]:
    """Each project's stays in its statuses, oldest first, from the audit trail (one query)."""
    projects = list(projects)
    by_id = {str(project.pk): project for project in projects}
    events = (
        AuditEvent.objects.filter(
            target_type=PROJECT_TARGET_TYPE,
            target_id__in=list(by_id),
            action__startswith="project.",
            before__has_key="status",
            after__has_key="status",
        )
        .order_by("seq")
        .values_list("target_id", "occurred_at", "after")
    )
    spells: dict[int, list[Spell]] = {
        project.pk: [Spell(S.DRAFT, project.created_at)] for project in projects
    }
    for target_id, occurred_at, after in events.iterator(chunk_size=2000):
        project = by_id[target_id]
        history = spells[project.pk]
        new_status = after.get("status") if isinstance(after, dict) else None
        # A correcting decision that confirms the status does not restart the clock.
        if not new_status or new_status == history[-1].status:
            continue
        last = history[-1]
        history[-1] = Spell(last.status, last.started_at, occurred_at)
        history.append(Spell(new_status, occurred_at))
    for project in projects:
        history = spells[project.pk]
        if history[-1].status != project.status:
            # The trail does not lead to the current status (data loaded by hand, a trail
            # restored from an older backup): say that the date is unknown rather than guess.
            last = history[-1]
            history[-1] = Spell(last.status, last.started_at, None)
            history.append(Spell(project.status, None))
    return spells


def _row(project: Project, history: list[Spell], now: dt.datetime) -> PipelineRow:
    current = history[-1]
    past_days: dict[str, int] = defaultdict(int)
    for spell in history[:-1]:
        if spell.started_at is not None and spell.ended_at is not None:
            past_days[spell.status] += working_days_since(spell.started_at, spell.ended_at)
    past = [
        PastStatus(status, str(ProjectStatus(status).label), past_days[status])
        for status in LIFE_ORDER
        if status in past_days
    ]
    started = current.started_at
    return PipelineRow(
        project_id=project.pk,
        reference=project.reference,
        title=project.title,
        lead=project.lead_name or "",
        status=project.status,
        entered_at=started,
        working_days=working_days_since(started, now) if started else None,
        calendar_days=calendar_days_since(started, now) if started else None,
        past=past,
    )


def pipeline_rows(
    *, statuses: Iterable[str] = PIPELINE_STATUSES, now: dt.datetime | None = None
) -> list[PipelineRow]:
    """Every project in these statuses, longest in its status first (two queries)."""
    now = now or timezone.now()
    lead = TeamMembership.objects.filter(project=OuterRef("pk"), role=TeamRole.LEAD).values(
        "user__full_name"
    )[:1]
    projects = list(
        Project.objects.filter(status__in=list(statuses))
        .annotate(lead_name=Subquery(lead))
        .only("pk", "reference", "title", "status", "created_at")
        .order_by("reference")
    )
    histories = status_histories(projects)
    rows = [_row(project, histories[project.pk], now) for project in projects]
    # Unknown entry dates last: they cannot be ranked.
    rows.sort(key=lambda row: (row.entered_at is None, row.entered_at or now, row.reference))
    return rows


def pipeline(*, status: str | None = None, now: dt.datetime | None = None) -> list[PipelineGroup]:
    """The pipeline grouped by status in the order of the protocol's life (empty groups too)."""
    statuses = [status] if status else list(PIPELINE_STATUSES)
    rows = pipeline_rows(statuses=statuses, now=now)
    grouped: dict[str, list[PipelineRow]] = {s: [] for s in statuses}
    for row in rows:
        grouped[row.status].append(row)
    return [PipelineGroup(s, grouped[s]) for s in statuses]


def status_counts() -> dict[str, int]:
    """Files per status, draft excluded, every status of the pipeline present (one query)."""
    counts = dict(
        Project.objects.exclude(status=S.DRAFT)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status: counts.get(status, 0) for status in PIPELINE_STATUSES}


def waiting_longest(*, limit: int = 5, now: dt.datetime | None = None) -> list[PipelineRow]:
    """Files waiting on the data office or the commission, longest wait first."""
    now = now or timezone.now()
    rows = [
        row
        for row in pipeline_rows(statuses=WAITING_ON_US, now=now)
        if row.working_days is not None
    ]
    rows.sort(key=lambda row: (-row.working_days, row.entered_at, row.reference))
    return rows[:limit]


# --- Processing-time statistics -----------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    count: int
    median_calendar_days: float | None
    median_working_days: float | None


@dataclass(frozen=True)
class MonthDurations(Durations):
    month: dt.date  # first day of the month


@dataclass(frozen=True)
class ProcessingStats:
    first_month: dt.date
    last_month: dt.date
    decisions_by_month: list[MonthDurations]
    decisions: Durations
    admissibility: Durations
    files_per_status: dict[str, int]


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def _durations(pairs: list[tuple[dt.datetime, dt.datetime]]) -> Durations:
    return Durations(
        count=len(pairs),
        median_calendar_days=_median([calendar_days_since(a, b) for a, b in pairs]),
        median_working_days=_median([working_days_since(a, b) for a, b in pairs]),
    )


def _first_submissions(project_ids: Iterable[int]) -> dict[int, dt.datetime]:
    return dict(
        ProtocolVersion.objects.filter(project_id__in=list(project_ids), number=1).values_list(
            "project_id", "submitted_at"
        )
    )


def processing_stats(*, months: int = 12, now: dt.datetime | None = None) -> ProcessingStats:
    """Medians over the last ``months`` months, the current one included (five queries).

    Time to decision: from the first submission (version 1) to the project's first decision,
    counted in the month of that decision; a correcting decision (one that supersedes another)
    is not a first decision. Time to admissibility: from the first submission to the first
    acceptance for review, over acceptances in the same months.
    """
    now = now or timezone.now()
    last_month = _month(local_date(now))
    first_month = _add_months(last_month, -(months - 1))
    since = timezone.make_aware(dt.datetime.combine(first_month, dt.time.min))

    first_decisions = dict(
        Decision.objects.filter(supersedes__isnull=True)
        .values("project_id")
        .annotate(first=Min("decided_at"))
        .filter(first__gte=since)
        .values_list("project_id", "first")
    )
    first_acceptances = dict(
        AdmissibilityCheck.objects.filter(decision=AdmissibilityDecision.ACCEPTED)
        .values("project_id")
        .annotate(first=Min("decided_at"))
        .filter(first__gte=since)
        .values_list("project_id", "first")
    )
    submitted = _first_submissions(set(first_decisions) | set(first_acceptances))

    by_month: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    all_decisions = []
    for project_id, decided_at in first_decisions.items():
        if project_id not in submitted:
            continue
        pair = (submitted[project_id], decided_at)
        by_month[_month(local_date(decided_at))].append(pair)
        all_decisions.append(pair)
    acceptances = [
        (submitted[project_id], accepted_at)
        for project_id, accepted_at in first_acceptances.items()
        if project_id in submitted
    ]
    month_list = [_add_months(first_month, i) for i in range(months)]
    decisions_by_month = []
    for month in month_list:
        durations = _durations(by_month.get(month, []))
        decisions_by_month.append(MonthDurations(month=month, **durations.__dict__))
    return ProcessingStats(
        first_month=first_month,
        last_month=last_month,
        decisions_by_month=decisions_by_month,
        decisions=_durations(all_decisions),
        admissibility=_durations(acceptances),
        files_per_status=status_counts(),
    )
