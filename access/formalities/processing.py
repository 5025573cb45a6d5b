"""The controller's record of processing activities (GDPR art. 30; GOV-16).

One row per project that reached the commission: purpose, categories of data and of persons,
recipients, access duration and deletion, legal basis, formality, transfers, security.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from access.formalities.gates import access_ends_at
from access.models_formalities import FormalityRecord, FormalityType
from projects.models import Decision, Project, ProtocolVersion


def security_summary(platform: str) -> str:
    measures = _(
        "Pseudonymised warehouse hosted by a certified health data host (HDS) in the EU; "
        "project-specific pseudonyms and shifted dates; variables minimised and generalised as "
        "approved; small counts checked; delivery by expiring, audited downloads to named "
        "recipients; destruction at the end of access; hash-chained audit trail."
    )
    if platform:
        return f"{measures} " + _("Analysis platform: %(platform)s.") % {"platform": platform}
    return measures


def _categories(decision: Decision | None, content: dict) -> list[str]:
    from warehouse.catalogue import BY_CODE

    if decision is not None:
        codes = [
            v.get("code", "")
            for v in (decision.approved_specification or {}).get("variables", [])
            if v.get("verdict") != "refuse"
        ]
    else:
        request = content.get("data_request") or {}
        codes = [key[5:] for key, value in request.items() if key.startswith("var__") and value]
    labels = []
    for code in codes:
        variable = BY_CODE.get(code)
        if variable is not None and variable.label not in labels:
            labels.append(variable.label)
    return labels


def processing_rows() -> list[dict]:
    projects = (
        Project.objects.filter(versions__isnull=False)
        .distinct()
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=ProtocolVersion.objects.order_by("-number"),
                to_attr="ordered_versions",
            ),
            Prefetch(
                "decisions",
                queryset=Decision.objects.in_force(),
                to_attr="current_decisions",
            ),
            Prefetch(
                "formality_records",
                queryset=FormalityRecord.objects.order_by("-recorded_at", "-pk"),
                to_attr="records",
            ),
        )
        .order_by("reference")
    )
    rows = []
    for project in projects:
        version = project.ordered_versions[0]
        content = version.content
        decision = project.current_decisions[0] if project.current_decisions else None
        if decision is not None and not decision.is_favourable:
            decision_for_data = None
        else:
            decision_for_data = decision
        formality = project.records[0] if project.records else None
        purpose = content.get("purpose") or {}
        actors = content.get("actors") or {}
        request = content.get("data_request") or {}
        months = (
            (decision_for_data.approved_specification or {}).get("access_months")
            if decision_for_data
            else request.get("access_months", "")
        )
        access_end = access_ends_at(decision_for_data) if decision_for_data else None
        rows.append(
            {
                "reference": project.reference,
                "title": project.title,
                "status": project.get_status_display(),
                "controller": actors.get("controller_name", ""),
                "purpose": purpose.get("objectives", "")
                or (content.get("identification") or {}).get("summary", ""),
                "legal_basis": _("GDPR art. 6(1)(e) and 9(2)(j); public interest research"),
                "formality": (
                    f"{FormalityType(formality.formality_type).label} "
                    f"{formality.formality_reference} ({formality.formality_date:%Y-%m-%d})"
                )
                if formality
                else "",
                "persons": (content.get("methodology") or {}).get("population", ""),
                "categories": ", ".join(_categories(decision_for_data, content)),
                "recipients": actors.get("data_recipients", ""),
                "access_months": months or "",
                "access_ends": timezone.localtime(access_end).date().isoformat()
                if access_end
                else "",
                "transfers": _("None: analysis in the EU")
                if actors.get("analysis_in_eu")
                else _("To be checked"),
                "security": security_summary(actors.get("analysis_platform", "")),
            }
        )
    return rows


COLUMNS = [
    "reference",
    "title",
    "status",
    "controller",
    "purpose",
    "legal_basis",
    "formality",
    "persons",
    "categories",
    "recipients",
    "access_months",
    "access_ends",
    "transfers",
    "security",
]
