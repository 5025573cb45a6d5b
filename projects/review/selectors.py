"""Reads of the review: requested variables, candidates, assignments, reviews and their summary.

Nothing here writes; permission checks stay with the callers (views, API, panels), which pass
only projects the user may see.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from eds_portal.roles import COMMISSION_ROLES
from projects.conflicts import automatic_conflict
from projects.models import (
    ConflictDeclaration,
    Project,
    ProjectStatus,
    ProtocolVersion,
    RapporteurAssignment,
    Review,
    VariableReview,
    VariableVerdict,
    review_stage_q,
)
from warehouse import catalogue
from warehouse.catalogue import Generalisation

G = Generalisation

# Statuses in which the secretariat assigns rapporteurs.
ASSIGNABLE_STATUSES = frozenset({ProjectStatus.UNDER_REVIEW, ProjectStatus.CHANGES_REQUESTED})
# Statuses in which a rapporteur writes a review (of the latest version). While changes are
# requested the team is revising: the next review is of the revised version.
REVIEWABLE_STATUSES = frozenset({ProjectStatus.UNDER_REVIEW})

COARSENESS = catalogue.COARSENESS


def is_coarser(proposed: str, requested: str) -> bool:
    """Whether ``proposed`` generalises strictly more than ``requested`` (same family)."""
    for family in COARSENESS:
        if proposed in family and requested in family:
            return family.index(proposed) > family.index(requested)
    return False


def coarser_choices(variable: catalogue.Variable, requested: str) -> list[Generalisation]:
    """The generalisations allowed for this variable that are coarser than the one requested."""
    return [g for g in variable.generalisations if is_coarser(g, requested)]


@dataclass(frozen=True)
class RequestedVariable:
    code: str
    variable: catalogue.Variable
    generalisation: str
    justification: str

    @property
    def label(self) -> str:
        return self.variable.label

    @property
    def generalisation_label(self) -> str:
        try:
            return str(Generalisation(self.generalisation).label)
        except ValueError:
            return self.generalisation

    @property
    def coarser(self) -> list[Generalisation]:
        return coarser_choices(self.variable, self.generalisation)


def _ticked(value: Any) -> bool:
    # As Django's CheckboxInput reads a posted value.
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.lower(), bool(value))
    return bool(value)


def requested_variables(version: ProtocolVersion) -> list[RequestedVariable]:
    """The variables a version requests, in catalogue order, from its frozen raw values."""
    raw = (version.content or {}).get("data_request") or {}
    requested = []
    for variable in catalogue.exportable_variables():
        if not _ticked(raw.get(f"var__{variable.code}")):
            continue
        generalisation = raw.get(f"gen__{variable.code}") or variable.default.value
        requested.append(
            RequestedVariable(
                code=variable.code,
                variable=variable,
                generalisation=str(generalisation),
                justification=str(raw.get(f"just__{variable.code}") or "").strip(),
            )
        )
    return requested


def latest_version(project: Project) -> ProtocolVersion | None:
    return project.versions.order_by("-number").first()


def active_assignments(project: Project):
    return (
        RapporteurAssignment.objects.filter(project=project, removed_at__isnull=True)
        .select_related("member", "assigned_by")
        .order_by("due_date", "pk")
    )


def active_assignment(user: Any, project: Project) -> RapporteurAssignment | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return RapporteurAssignment.objects.filter(
        project=project, member=user, removed_at__isnull=True
    ).first()


def open_assignments():
    """Assignments whose review of the current version is still awaited."""
    return RapporteurAssignment.objects.filter(removed_at__isnull=True, completed_at__isnull=True)


def commission_members():
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, groups__name__in=[r.value for r in COMMISSION_ROLES])
        .distinct()
        .order_by("full_name", "email")
    )


def conflict_reason(member: Any, project: Project, *, declared_interest: bool) -> str | None:
    """Why this member cannot be rapporteur of this file, as the secretariat reads it."""
    from django.utils.translation import gettext as _

    if not automatic_conflict(member, project):
        if declared_interest:
            return _("%(name)s declared an interest in this file.") % {"name": member.full_name}
        return None
    # .all(): served from a prefetch of "memberships" when the caller made one.
    if any(m.user_id == member.pk for m in project.memberships.all()):
        return _("%(name)s is a member of the project's team.") % {"name": member.full_name}
    return _("%(name)s belongs to the same organisation as a member of the team.") % {
        "name": member.full_name
    }


@dataclass
class Candidate:
    member: Any
    open_count: int
    overdue_count: int
    conflict: str | None
    declared: bool
    assigned: bool

    @property
    def assignable(self) -> bool:
        return self.conflict is None and not self.assigned


def candidates(project: Project, *, today: datetime.date | None = None) -> list[Candidate]:
    """Every active commission member with their load, overdue work and conflict on this file.

    A fixed number of queries: the members with their counts, the team, the declarations.
    """
    today = today or timezone.localdate()
    open_work = Q(
        assignments__removed_at__isnull=True,
        assignments__completed_at__isnull=True,
        assignments__project__status__in=list(REVIEWABLE_STATUSES | ASSIGNABLE_STATUSES),
    )
    members = list(
        commission_members().annotate(
            open_count=Count("assignments", filter=open_work, distinct=True),
            overdue_count=Count(
                "assignments",
                filter=open_work & Q(assignments__due_date__lt=today),
                distinct=True,
            ),
        )
    )
    project = Project.objects.prefetch_related("memberships__user").get(pk=project.pk)
    declarations = dict(
        ConflictDeclaration.objects.filter(project=project).values_list("member_id", "has_interest")
    )
    assigned = set(active_assignments(project).values_list("member_id", flat=True))
    result = []
    for member in members:
        conflict = conflict_reason(
            member, project, declared_interest=bool(declarations.get(member.pk))
        )
        result.append(
            Candidate(
                member=member,
                open_count=member.open_count,
                overdue_count=member.overdue_count,
                conflict=conflict,
                declared=member.pk in declarations,
                assigned=member.pk in assigned,
            )
        )
    return result


def review_of(user: Any, version: ProtocolVersion) -> Review | None:
    return (
        Review.objects.filter(version=version, reviewer=user).prefetch_related("variables").first()
    )


@dataclass
class VariableSummary:
    requested: RequestedVariable
    approve: int = 0
    coarser: int = 0
    refuse: int = 0
    proposed: list[str] = field(default_factory=list)


def submitted_reviews(project: Project):
    return (
        Review.objects.filter(project=project, submitted_at__isnull=False)
        .select_related("reviewer", "version")
        .prefetch_related(
            Prefetch("variables", queryset=VariableReview.objects.order_by("variable"))
        )
        .order_by("-version__number", "submitted_at", "pk")
    )


def summarise(version: ProtocolVersion, reviews: list[Review]) -> list[VariableSummary]:
    """Per requested variable: how many rapporteurs approve, generalise more, or refuse."""
    rows = {item.code: VariableSummary(requested=item) for item in requested_variables(version)}
    for review in reviews:
        for verdict in review.variables.all():
            row = rows.get(verdict.variable)
            if row is None:
                continue
            if verdict.verdict == VariableVerdict.APPROVE:
                row.approve += 1
            elif verdict.verdict == VariableVerdict.COARSER:
                row.coarser += 1
                try:
                    row.proposed.append(str(Generalisation(verdict.generalisation).label))
                except ValueError:
                    row.proposed.append(verdict.generalisation)
            elif verdict.verdict == VariableVerdict.REFUSE:
                row.refuse += 1
    return list(rows.values())


def reviews_by_version(project: Project) -> list[dict[str, Any]]:
    """The submitted reviews of each version, newest version first, with their summary."""
    reviews = list(submitted_reviews(project))
    versions = list(project.versions.order_by("-number"))
    blocks = []
    for version in versions:
        mine = [review for review in reviews if review.version_id == version.pk]
        recommendations: dict[str, int] = {}
        for review in mine:
            label = review.get_recommendation_display()
            recommendations[label] = recommendations.get(label, 0) + 1
        blocks.append(
            {
                "version": version,
                "reviews": mine,
                "summary": summarise(version, mine) if mine else [],
                "recommendations": sorted(recommendations.items()),
            }
        )
    return blocks


# --- Lists for the home panels and "my files" -------------------------------------------------


def lacking_rapporteurs():
    """Files under review with fewer active rapporteurs than required."""
    return (
        Project.objects.filter(review_stage_q(ASSIGNABLE_STATUSES))
        .annotate(
            rapporteur_count=Count(
                "assignments", filter=Q(assignments__removed_at__isnull=True), distinct=True
            )
        )
        .filter(rapporteur_count__lt=settings.EDS_MIN_RAPPORTEURS)
        .order_by("updated_at", "pk")
    )


def overdue_assignments(*, today: datetime.date | None = None):
    today = today or timezone.localdate()
    return (
        open_assignments()
        .filter(due_date__lt=today)
        .filter(review_stage_q(REVIEWABLE_STATUSES, prefix="project__"))
        .select_related("project", "member")
        .order_by("due_date", "pk")
    )


def my_assignments(user: Any):
    """The member's active assignments on files in the commission's hands, soonest due first."""
    declared = ConflictDeclaration.objects.filter(
        project=OuterRef("project"), member=user, has_interest=False
    )
    return (
        RapporteurAssignment.objects.filter(
            review_stage_q(ASSIGNABLE_STATUSES, prefix="project__"),
            member=user,
            removed_at__isnull=True,
        )
        .select_related("project")
        .annotate(declared=Exists(declared))
        .order_by("due_date", "pk")
    )


def my_draft_reviews(user: Any):
    """Unsubmitted reviews of the version now in review (a draft of an older one is moot)."""
    newer = ProtocolVersion.objects.filter(
        project=OuterRef("project"), number__gt=OuterRef("version__number")
    )
    return (
        Review.objects.filter(
            review_stage_q(REVIEWABLE_STATUSES, prefix="project__"),
            reviewer=user,
            submitted_at__isnull=True,
        )
        .exclude(Exists(newer))
        .select_related("project", "version")
        .order_by("updated_at")
    )


def files_to_declare(user: Any) -> list[Project]:
    """Files in review on which the member has not declared yet (automatic conflicts aside)."""
    undeclared = list(
        Project.objects.filter(review_stage_q(ASSIGNABLE_STATUSES))
        .exclude(conflict_declarations__member=user)
        .prefetch_related("memberships__user")
        .order_by("updated_at", "pk")[:200]
    )
    return [project for project in undeclared if not automatic_conflict(user, project)]
