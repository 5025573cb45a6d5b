"""What a project's public page says: the public fields of "Fields A", and nothing else.

Built by an allow-list from the published version's sections, the decision in force, the
formality record and the results the secretariat enters. Never the team's e-mails, the
reviewers, the votes, the reasons or private notes of the commission.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from access.formalities.gates import (
    access_ends_at,
    current_decision,
    current_formality,
    information_window_ends_at,
    published_version,
)
from projects.models import AmendmentStatus, AttachmentKind, Project, ProjectStatus

S = ProjectStatus

# Public fields of each section of the protocol (Fields A, sections 1 to 6).
PUBLIC_SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "identification": ("lay_title", "acronym", "summary", "scientific_lead"),
    "purpose": ("objectives", "medical_domains", "public_interest", "expected_benefits"),
    "methodology": ("methodology", "population", "planned_start", "planned_end"),
    "actors": (
        "controller_name",
        "controller_type",
        "controller_location",
        "controller_representative",
        "joint_controllers",
        "processors",
        "funders",
        "analysis_platform",
        "data_recipients",
        "analysis_in_eu",
    ),
    "information": ("information_mode", "exception_reason", "interests_summary"),
}

# The public status of a project (TRA-01): planned, ongoing, completed, stopped.
PUBLIC_STATUS = {
    S.ACTIVE: "ongoing",
    S.CLOSED: "completed",
    S.SUSPENDED: "stopped",
    S.WITHDRAWN: "stopped",
    S.REJECTED: "stopped",
}
PUBLIC_STATUSES = ("planned", "ongoing", "completed", "stopped")


def public_status(project_status: str) -> str:
    return PUBLIC_STATUS.get(project_status, "planned")


def project_statuses_for(status: str) -> list[str] | None:
    """The project statuses shown as one public status (for the portal's filter)."""
    if status not in PUBLIC_STATUSES:
        return None
    if status == "planned":
        return [s for s in S.values if s not in PUBLIC_STATUS]
    return [s for s, public in PUBLIC_STATUS.items() if public == status]


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def _section(content: dict, key: str) -> dict[str, Any]:
    raw = content.get(key) or {}
    return {name: raw.get(name, "") for name in PUBLIC_SECTION_FIELDS[key]}


def _data(specification: dict) -> dict[str, Any]:
    from warehouse.catalogue import BY_CODE

    variables = []
    tables: list[str] = []
    for item in specification.get("variables", []):
        if item.get("verdict") == "refuse":
            continue
        variable = BY_CODE.get(item.get("code", ""))
        if variable is None:
            continue
        variables.append(
            {
                "code": variable.code,
                "label_fr": variable.label_fr,
                "label_en": variable.label_en,
                "generalisation": item.get("generalisation", ""),
            }
        )
        if variable.table not in tables:
            tables.append(variable.table)
    return {
        "categories": tables,
        "variables": variables,
        "expected_persons": specification.get("expected_persons"),
        "access_months": specification.get("access_months"),
        "cohort": _cohort(specification.get("criteria") or {}),
    }


def _cohort(criteria: dict[str, Any]) -> dict[str, Any]:
    """Who may be in the data, as the approved specification's cohort says: the period of care,
    the area (départements, associations) and the ages, so that a person can tell whether they
    are concerned. Codes only: the page writes them in words, in its language."""
    return {
        "period_start": criteria.get("period_start") or "",
        "period_end": criteria.get("period_end") or "",
        "departements": list(criteria.get("departements") or []),
        "associations": [int(pk) for pk in criteria.get("associations") or []],
        "age_min": criteria.get("age_min"),
        "age_max": criteria.get("age_max"),
    }


def build_snapshot(
    project: Project,
    *,
    results: dict[str, Any] | None = None,
    published_at: datetime | None = None,
    first_published_at: datetime | None = None,
) -> dict[str, Any]:
    """The public page of ``project`` as it would read now."""
    decision = current_decision(project)
    if decision is None:
        raise ValueError("no decision: nothing to publish")
    version = published_version(project, decision) or decision.version
    content = version.content
    formality = current_formality(project)
    published_at = published_at or timezone.now()
    first = first_published_at or published_at
    note = (
        version.attachments.filter(kind=AttachmentKind.INFORMATION_NOTE)
        .order_by("-uploaded_at", "-pk")
        .first()
    )
    first_version = project.versions.order_by("number").first()
    access_end = access_ends_at(decision)
    return {
        "schema": 1,
        "reference": project.reference,
        "status": public_status(project.status),
        "version_number": version.number,
        "identification": _section(content, "identification"),
        "purpose": _section(content, "purpose"),
        "methodology": _section(content, "methodology"),
        "actors": _section(content, "actors"),
        "information": _section(content, "information"),
        "data": _data(decision.approved_specification or {}),
        "route": (content.get("route") or {}).get("confirmed_route", ""),
        "legal_basis": "gdpr_6_1_e_9_2_j",
        "opinion": {
            "number": decision.number,
            "date": _date(decision.decided_at),
            "outcome": decision.opinion,
            "recommendations": decision.recommendations,
            "version_reviewed": decision.version.number,
        },
        "formality": {
            "type": formality.formality_type,
            "reference": formality.formality_reference,
            "date": formality.formality_date.isoformat(),
            "directory": formality.directory,
            "directory_reference": formality.directory_reference,
            "directory_date": formality.directory_date.isoformat()
            if formality.directory_date
            else "",
            "cesrees_opinion_date": formality.cesrees_opinion_date.isoformat()
            if formality.cesrees_opinion_date
            else "",
        }
        if formality
        else None,
        "calendar": {
            "submitted": _date(first_version.submitted_at) if first_version else "",
            "opinion": _date(decision.decided_at),
            "first_published": _date(first),
            "information_window_ends": _date(information_window_ends_at(first)),
            "planned_start": (content.get("methodology") or {}).get("planned_start", ""),
            "planned_end": (content.get("methodology") or {}).get("planned_end", ""),
            "access_ends": _date(access_end),
        },
        "information_note": {"id": note.pk, "name": note.original_name, "sha256": note.sha256}
        if note
        else None,
        "results": {
            "status": (results or {}).get("results_status", "") or "not_yet",
            "summary": (results or {}).get("results_summary", ""),
            "publications": (results or {}).get("publications", ""),
            "sent_to_pds": (results or {}).get("results_sent_to_pds", ""),
        },
        "information_window_days": settings.EDS_INFORMATION_WINDOW_DAYS,
        "amendments": _amendments(project),
    }


def _amendments(project: Project) -> list[dict[str, Any]]:
    """The amendments the commission decided (GOV-13): number, date, outcome, version; never
    their reasons. An approved one is what the page shows; a refused one changed nothing."""
    decided = (
        project.amendments.filter(status__in=[AmendmentStatus.APPROVED, AmendmentStatus.REFUSED])
        .select_related("decision", "version")
        .order_by("number")
    )
    return [
        {
            "number": amendment.number,
            "status": amendment.status,
            "decision": amendment.decision.number,
            "date": _date(amendment.decision.decided_at),
            "version": amendment.version.number,
        }
        for amendment in decided
    ]


def search_text(snapshot: dict[str, Any]) -> str:
    """What the portal's search looks in, lower-cased."""
    parts = [
        snapshot.get("reference", ""),
        *snapshot.get("identification", {}).values(),
        snapshot.get("purpose", {}).get("objectives", ""),
        snapshot.get("purpose", {}).get("medical_domains", ""),
        snapshot.get("actors", {}).get("controller_name", ""),
    ]
    return " ".join(str(p) for p in parts if p).lower()
