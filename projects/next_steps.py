"""What is awaited from the team next: one sentence per status, and per opinion after a decision.

The team's home panel, the status message of each transition and the decision letter all take
their sentence from here, so that a letter and the lead's home never say two different things.
After a decision, the opinion in force decides (GOV-12: a favourable opinion with
recommendations needs a revised version before the page is published, whatever the status).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from projects.models import Decision, Project, ProjectStatus, ProtocolVersion, Recommendation

# The next step that an opinion opens, as the letter states it and the home repeats it.
AFTER_DECISION: dict[str, Promise] = {
    Recommendation.FAVOURABLE: _(
        "Nothing from the team for now: the data office records the CNIL formality and the "
        "directory registration, then publishes the project's page."
    ),
    Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS: _(
        "Submit a revised version that follows the recommendations: the lead opens an "
        "amendment on the project's page, revises the protocol and submits it. The revised "
        "version is the one registered and published."
    ),
    Recommendation.CHANGES_REQUESTED: _(
        "Revise the protocol as the commission asked and submit the new version."
    ),
    Recommendation.UNFAVOURABLE: _("Nothing: the project may not proceed on this opinion."),
}

# By status, for the steps that no decision qualifies.
AWAITED: dict[str, Promise] = {
    ProjectStatus.DRAFT: _("Complete the sections and submit."),
    ProjectStatus.INCOMPLETE: _("Complete the items the secretariat listed and submit again."),
    ProjectStatus.CHANGES_REQUESTED: AFTER_DECISION[Recommendation.CHANGES_REQUESTED],
    ProjectStatus.SUBMITTED: _("Nothing: the secretariat is checking the file."),
    ProjectStatus.UNDER_REVIEW: _("Nothing for now: the commission is reviewing the file."),
    ProjectStatus.APPROVED: AFTER_DECISION[Recommendation.FAVOURABLE],
    ProjectStatus.REJECTED: AFTER_DECISION[Recommendation.UNFAVOURABLE],
    ProjectStatus.FORMALITIES: _("Nothing: the formalities are under way."),
    ProjectStatus.PUBLISHED: _("Nothing: the information window is running."),
    ProjectStatus.ACTIVE: _("Report your results when available."),
}

# The statuses a decision leads to, where its opinion says what comes next.
DECIDED = frozenset(
    {
        ProjectStatus.APPROVED,
        ProjectStatus.FORMALITIES,
        ProjectStatus.CHANGES_REQUESTED,
        ProjectStatus.REJECTED,
    }
)


def after_decision(decision: Decision) -> Promise:
    """The next step that the decision's letter states."""
    return AFTER_DECISION[decision.opinion]


def _awaited(status: str, decision: Decision | None, revised: bool) -> Promise | str:
    if status in DECIDED and decision is not None:
        recommendations = decision.opinion == Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS
        if recommendations and not revised:
            # GOV-12: the revision is awaited until it is submitted, formalities or not.
            return after_decision(decision)
        if not recommendations and status != ProjectStatus.FORMALITIES:
            return after_decision(decision)
    return AWAITED.get(status, "")


def awaited(project: Project) -> Promise | str:
    """What is awaited from the team for the project now, "" when nothing is said."""
    decision = None
    revised = False
    if project.status in DECIDED:
        decision = project.decisions.in_force().first()
        if decision is not None:
            revised = project.versions.filter(submitted_at__gt=decision.decided_at).exists()
    return _awaited(project.status, decision, revised)


def awaited_for_projects(projects: list[Project]) -> dict[int, Promise | str]:
    """``awaited`` for many projects, in two queries at most whatever their number."""
    decided = [p for p in projects if p.status in DECIDED]
    in_force: dict[int, Decision] = {}
    revised: set[int] = set()
    if decided:
        for decision in Decision.objects.filter(project__in=decided).in_force():
            in_force.setdefault(decision.project_id, decision)
        later = Q()
        for decision in in_force.values():
            if decision.opinion == Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS:
                later |= Q(project_id=decision.project_id, submitted_at__gt=decision.decided_at)
        if later:
            revised = set(
                ProtocolVersion.objects.filter(later).values_list("project_id", flat=True)
            )
    return {p.pk: _awaited(p.status, in_force.get(p.pk), p.pk in revised) for p in projects}
