"""Whether a project may be provisioned: every gate, every reason (GOV-02, TRA-09, CON-07,
OPP-09, OPP-10).

``provisioning_blockers`` is the one answer. The provisioning task calls it again when it runs
(GOV-02: enforced in the background, not only in the page); the project page shows it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access.models import TO_MATCH_STATUSES, Kind, ObjectionOverride, OppositionRequest, Scope
from access.models_formalities import DIRECTORY_REQUIRED, FormalityRecord, PublicDirectory
from projects.models import (
    Amendment,
    AmendmentStatus,
    Decision,
    Project,
    ProjectStatus,
    ProtocolVersion,
    Recommendation,
)

S = ProjectStatus
# Where data may flow: published and waiting for its first delivery, or already active.
PROVISIONABLE = frozenset({S.PUBLISHED, S.ACTIVE})
# Steps of the way to publication: their own reasons say what is missing.
ON_THE_WAY = frozenset({S.APPROVED, S.FORMALITIES})


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def current_decision(project: Project) -> Decision | None:
    """The commission's decision in force: the latest one that no other supersedes."""
    return Decision.objects.filter(project=project).in_force().select_related("version").first()


def current_formality(project: Project) -> FormalityRecord | None:
    return FormalityRecord.objects.filter(project=project).order_by("-recorded_at", "-pk").first()


def published_version(project: Project, decision: Decision) -> ProtocolVersion | None:
    """The version the public page shows (GOV-12).

    With recommendations, it is the revised version submitted after the decision; otherwise
    the version the decision approved.
    """
    if decision.opinion == Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS:
        # An amendment the commission has not approved is not what the page shows (GOV-13).
        approved = Amendment.objects.filter(version=OuterRef("pk"), status=AmendmentStatus.APPROVED)
        return (
            project.versions.filter(submitted_at__gt=decision.decided_at)
            .filter(Q(is_amendment=False) | Exists(approved))
            .order_by("-number")
            .first()
        )
    return decision.version


def access_starts_at(decision: Decision) -> datetime:
    """When the access period of the decision's specification starts: its date, or, for an
    amendment, the start of the specification it amended (``access_from``, GOV-13)."""
    start = (decision.approved_specification or {}).get("access_from")
    if start:
        try:
            return datetime.fromisoformat(start)
        except (TypeError, ValueError):
            pass
    return decision.decided_at


def access_ends_at(decision: Decision) -> datetime | None:
    months = (decision.approved_specification or {}).get("access_months")
    if not months:
        return None
    return add_months(access_starts_at(decision), int(months))


def information_window_ends_at(first_published_at: datetime) -> datetime:
    return first_published_at + timedelta(days=settings.EDS_INFORMATION_WINDOW_DAYS)


def _moment(on: date | datetime | None) -> datetime:
    if on is None:
        return timezone.now()
    if isinstance(on, datetime):
        return on
    # A day: the gates as they stand at the end of that day.
    return timezone.make_aware(datetime.combine(on, datetime.max.time()))


def _day(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATE_FORMAT")


def formality_reasons(project: Project) -> list[str]:
    """What the CNIL formality and the directory registration still lack (GOV-02 b, c)."""
    formality = current_formality(project)
    if formality is None:
        return [_("The CNIL formality is not recorded.")]
    if formality.formality_type in DIRECTORY_REQUIRED and (
        formality.directory == PublicDirectory.NONE or not formality.directory_reference
    ):
        return [_("The registration in the public directory (HDH/PDS) is not recorded.")]
    return []


def revised_version_reasons(project: Project) -> list[str]:
    """GOV-12: with recommendations, the page shows the revised version, which must exist."""
    decision = current_decision(project)
    if decision is None or not decision.is_favourable:
        return []
    if published_version(project, decision) is None:
        return [
            _(
                "The opinion carries recommendations: the team must submit a revised version "
                "after the decision of %(date)s before the page is published (GOV-12)."
            )
            % {"date": _day(decision.decided_at)}
        ]
    return []


def publication_reasons(project: Project) -> list[str]:
    """The workflow's extra guard of "publish"."""
    return formality_reasons(project) + revised_version_reasons(project)


# Receipt numbers named in one reason; the rest are counted (the DPO's page lists them all).
PENDING_RECEIPTS_SHOWN = 20


def pending_objection_reasons(project: Project) -> list[str]:
    """Objections still waiting for identity matching or an ID copy that may cover ``project``.

    OPP-09, OPP-10: until the identity officer has matched an objection, the register cannot
    exclude its person, and the one-month matching deadline outlasts the information window:
    a run now could deliver a person who objected. Such a request (scope ALL, or PROJECTS naming
    this project) refuses the run until it is matched (applied), found to concern nobody in the
    warehouse (not matched: re-matched at each ingestion), refused, withdrawn or closed, or the
    DPO recorded an override for this project. The reason names receipt numbers, never anyone.
    One query; none for a project that is not on its way to data (its status says why).
    """
    if project.status not in PROVISIONABLE | ON_THE_WAY:
        return []
    names_project = OppositionRequest.projects.through.objects.filter(
        oppositionrequest_id=OuterRef("pk"), project_id=project.pk
    )
    overridden = ObjectionOverride.objects.filter(request_id=OuterRef("pk"), project_id=project.pk)
    receipts = list(
        OppositionRequest.objects.filter(kind=Kind.OBJECTION, status__in=TO_MATCH_STATUSES)
        .filter(Q(scope=Scope.ALL) | Q(scope=Scope.PROJECTS) & Exists(names_project))
        .exclude(Exists(overridden))
        .order_by("received_at", "receipt_number")
        .values_list("receipt_number", flat=True)
    )
    if not receipts:
        return []
    shown = ", ".join(receipts[:PENDING_RECEIPTS_SHOWN])
    if len(receipts) > PENDING_RECEIPTS_SHOWN:
        shown = ngettext(
            "%(receipts)s and %(count)s more",
            "%(receipts)s and %(count)s more",
            len(receipts) - PENDING_RECEIPTS_SHOWN,
        ) % {
            "receipts": shown,
            "count": len(receipts) - PENDING_RECEIPTS_SHOWN,
        }
    return [
        _(
            "Objections that may cover this project are waiting for identity matching or for "
            "a copy of an ID document (%(receipts)s): no data until each is settled or the DPO "
            "records an override for this project (OPP-09, OPP-10)."
        )
        % {"receipts": shown}
    ]


def provisioning_blockers(project: Project, *, on: date | datetime | None = None) -> list[str]:
    """Every reason why ``project`` may not be provisioned at ``on`` (now by default).

    An empty list means it may. The reasons are sentences for the page and the run's log.
    """
    from access.consent.selectors import consenting_persons
    from access.models_transparency import PublicPage

    moment = _moment(on)
    reasons: list[str] = []
    decision = current_decision(project)
    if decision is None or not decision.is_favourable:
        reasons.append(_("No favourable opinion of the commission is recorded."))
    if project.status not in PROVISIONABLE | ON_THE_WAY:
        reasons.append(
            _("The project is “%(status)s”: only a published or active project receives data.")
            % {"status": ProjectStatus(project.status).label}
        )
    reasons.extend(formality_reasons(project))
    page = PublicPage.objects.filter(project=project).first()
    if page is None or project.status in ON_THE_WAY:
        reasons.append(_("The project page is not published on the transparency portal."))
    else:
        window_end = information_window_ends_at(page.first_published_at)
        if moment < window_end:
            reasons.append(
                _("The information window runs until %(date)s: no data before then (TRA-09).")
                % {"date": _day(window_end)}
            )
    if decision is not None and decision.is_favourable:
        access_end = access_ends_at(decision)
        if access_end is not None and moment >= access_end:
            reasons.append(_("The access period ended on %(date)s.") % {"date": _day(access_end)})
    if project.requires_consent and not consenting_persons(project, on=moment):
        reasons.append(_("This project relies on consent and no valid consent is recorded."))
    reasons.extend(pending_objection_reasons(project))
    return reasons


@dataclass(frozen=True)
class GateState:
    blockers: list[str]
    formality: FormalityRecord | None
    decision: Decision | None
    first_published_at: datetime | None
    window_ends_at: datetime | None
    access_ends_at: datetime | None


def gate_state(project: Project) -> GateState:
    from access.models_transparency import PublicPage

    decision = current_decision(project)
    page = PublicPage.objects.filter(project=project).first()
    return GateState(
        blockers=provisioning_blockers(project),
        formality=current_formality(project),
        decision=decision,
        first_published_at=page.first_published_at if page else None,
        window_ends_at=information_window_ends_at(page.first_published_at) if page else None,
        access_ends_at=access_ends_at(decision) if decision and decision.is_favourable else None,
    )


def register() -> None:
    from projects import workflow

    workflow.register_guard("publish", publication_reasons)
