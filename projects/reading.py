"""A protocol as the commission reads it: every section, the data request, the cohort, the team.

What the rapporteurs review, the members vote on and the chair signs is a submitted version: its
page (printable) and its PDF show all of it, and the researcher previews the draft the same way
before submitting. The vote page, the review and decision forms and the letter show the data
request and its cohort with the same rows (``data_request``, ``cohort_rows``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from eds_portal.forms import querydict_from
from projects.models import Project, ProtocolVersion, RegulatoryRoute, TeamRole
from projects.pdf import html_to_pdf, static_text
from projects.regulatory_route import propose_route
from projects.sections import SECTIONS, delivery_shape_of
from warehouse import catalogue, reference
from warehouse.catalogue import Generalisation
from warehouse.cohort import CohortCriteriaForm, visit_kind_choices
from warehouse.models import Concept

DOCUMENT_TEMPLATE = "projects/reading/document.html"
DOCUMENT_CSS = "projects/protocol_reading.css"

_TICKED = {"on", "true", "1", "yes"}


# --- Values as read ------------------------------------------------------------------------


def _day(value: Any) -> str:
    """A day in the house's date style of the current language."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return formats.date_format(value, "DATE_FORMAT")


def _number(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _display(field: forms.Field, value: Any) -> str:
    """A stored answer as the reader reads it: labels of choices, days, yes or no."""
    if value in (None, "", []):
        return ""
    if isinstance(field, forms.BooleanField):
        return _("Yes") if str(value).lower() in _TICKED else _("No")
    if isinstance(field, forms.DateField):
        return _day(value)
    choices = {str(key): label for key, label in getattr(field, "choices", None) or []}
    if isinstance(value, list):
        return ", ".join(str(choices.get(str(item), item)) for item in value)
    return str(choices.get(str(value), value))


# --- The cohort ----------------------------------------------------------------------------


def _period(criteria: dict[str, Any]) -> list[str]:
    start, end = criteria.get("period_start"), criteria.get("period_end")
    if start and end:
        return [_("from %(start)s to %(end)s inclusive") % {"start": _day(start), "end": _day(end)}]
    if start:
        return [_("from %(start)s") % {"start": _day(start)}]
    if end:
        return [_("until %(end)s inclusive") % {"end": _day(end)}]
    return []


def _ages(criteria: dict[str, Any]) -> list[str]:
    low, high = criteria.get("age_min"), criteria.get("age_max")
    low = None if low in (None, "") else low
    high = None if high in (None, "") else high
    if low is not None and high is not None:
        text = ngettext(
            "from %(min)s to %(max)s year old",
            "from %(min)s to %(max)s years old",
            _number(high) or 0,
        )
        return [text % {"min": low, "max": high}]
    if low is not None:
        text = ngettext("%(min)s year old or more", "%(min)s years old or more", _number(low) or 0)
        return [text % {"min": low}]
    if high is not None:
        text = ngettext("%(max)s year old or less", "%(max)s years old or less", _number(high) or 0)
        return [text % {"max": high}]
    return []


def _sex(criteria: dict[str, Any]) -> list[str]:
    labels = {"M": _("Male"), "F": _("Female")}
    sex = criteria.get("sex") or ""
    return [labels.get(sex, sex)] if sex else []


def _codes(vocabulary: str, codes: Any) -> list[str]:
    """Each code with its label; an entry that is no code itself is a prefix of some."""
    if isinstance(codes, str):
        codes = [code for code in codes.replace(",", " ").split() if code]
    codes = [str(code) for code in codes or []]
    if not codes:
        return []
    french = (get_language() or "fr").startswith("fr")
    names = {
        concept.concept_code: concept.name_fr if french else concept.name_en
        for concept in Concept.objects.filter(vocabulary_id=vocabulary, concept_code__in=codes)
    }
    return [
        f"{code} — {names[code]}"
        if code in names
        else _("%(prefix)s (every code that starts with it)") % {"prefix": code}
        for code in codes
    ]


def _listed(values: Any, labels: dict[str, str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [labels.get(str(value), str(value)) for value in values or []]


def cohort_rows(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every criterion of the cohort, in the reader's words; ``values`` empty: no restriction.

    ``criteria`` is ``CohortCriteria.as_dict()`` (a specification, a valid request) or, for a
    draft with errors, what was typed.
    """
    criteria = criteria or {}
    rows = [
        ("period", _("Period of the episodes"), _period(criteria)),
        ("ages", _("Age at the time of the episode"), _ages(criteria)),
        ("sex", _("Sex"), _sex(criteria)),
        ("icpc2_codes", _("ICPC-2 codes"), _codes("ICPC2", criteria.get("icpc2_codes"))),
        ("icd10_codes", _("ICD-10 codes"), _codes("ICD10", criteria.get("icd10_codes"))),
        (
            "visit_kinds",
            _("Kinds of care"),
            _listed(criteria.get("visit_kinds"), dict(visit_kind_choices()))
            if criteria.get("visit_kinds")
            else [],
        ),
        (
            "departements",
            _("Départements of the associations"),
            _listed(
                criteria.get("departements"),
                {code: f"{code} {name}" for code, name in reference.departement_names().items()},
            ),
        ),
        (
            "associations",
            _("Associations"),
            _listed(
                criteria.get("associations"),
                {str(pk): name for pk, name in reference.association_names().items()},
            ),
        ),
    ]
    return [{"key": key, "label": label, "values": values} for key, label, values in rows]


def _criteria_of(raw: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The request's cohort as a specification holds it, and whether it is valid."""
    form = CohortCriteriaForm(querydict_from(raw))
    if form.is_valid():
        return form.criteria().as_dict(), True
    # A draft with errors: the valid fields as cleaned, the others as typed.
    criteria: dict[str, Any] = {}
    for name in form.fields:
        value = form.cleaned_data.get(name, raw.get(name))
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        criteria[name] = value
    return criteria, False


# --- The data request ----------------------------------------------------------------------


def _requested_variables(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The ticked variables, in catalogue order, each with its justification and generalisation."""
    rows = []
    for variable in catalogue.exportable_variables():
        if str(raw.get(f"var__{variable.code}", "")).lower() not in _TICKED:
            continue
        generalisation = str(raw.get(f"gen__{variable.code}") or variable.default.value)
        rows.append(
            {
                "code": variable.code,
                "label": variable.label,
                "sensitivity_label": variable.sensitivity.label,
                "justification": str(raw.get(f"just__{variable.code}") or "").strip(),
                "generalisation": generalisation,
                "generalisation_label": Generalisation(generalisation).label
                if generalisation in Generalisation.values
                else generalisation,
                "reidentification_note": catalogue.reidentification_note(generalisation) or "",
            }
        )
    return rows


def team_rows(team: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "name": member.get("name") or member.get("email") or "",
            "email": member.get("email") or "",
            "role": TeamRole(member["role"]).label
            if member.get("role") in TeamRole.values
            else member.get("role", ""),
        }
        for member in team
    ]


def data_request(content: dict[str, Any], team: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The data request of a version or a draft, as the commission decides on it; None if absent.

    ``team``: the members as a version freezes them (``content["_team"]``): the approved
    specification names them as the recipients of the files.
    """
    raw = content.get("data_request")
    if raw is None:
        return None
    criteria, criteria_valid = _criteria_of(raw)
    try:
        shape = delivery_shape_of(raw).label
    except ValueError:
        shape = str(raw.get("delivery_shape"))
    return {
        "variables": _requested_variables(raw),
        "cohort": cohort_rows(criteria),
        "criteria_valid": criteria_valid,
        "expected_persons": raw.get("expected_persons") or "",
        "access_months": raw.get("access_months") or "",
        "free_text_justification": str(raw.get("free_text_justification") or "").strip(),
        "delivery_shape_label": shape,
        "declared_recipients": str(
            (content.get("actors") or {}).get("data_recipients") or ""
        ).strip(),
        "recipients": team_rows(team),
    }


def version_request(version: ProtocolVersion) -> dict[str, Any] | None:
    return data_request(version.content, version.content.get("_team") or [])


# --- The whole protocol --------------------------------------------------------------------


def _sections(content: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    for section in SECTIONS:
        raw = content.get(section.key)
        block: dict[str, Any] = {"key": section.key, "title": section.title, "rows": None}
        if raw is not None and section.key != "data_request":
            form = section.form_class()
            rows = []
            for name, field in form.fields.items():
                value = raw.get(name)
                label = field.label
                if name == "confirmed_route":
                    label = _("Regulatory route confirmed")
                    value = (
                        RegulatoryRoute(value).label if value in RegulatoryRoute.values else value
                    )
                    rows.append({"label": label, "value": str(value or "")})
                    continue
                rows.append({"label": label, "value": _display(field, value)})
            block["rows"] = rows
            if section.key == "route":
                block["reasons"] = list(propose_route(raw).reasons)
        blocks.append(block)
    return blocks


def _attachment_rows(attachments) -> list[dict[str, Any]]:
    return [
        {
            "pk": a.pk,
            "name": a.original_name,
            "kind": a.get_kind_display(),
            "sha256": a.sha256,
            "size": a.size,
        }
        for a in attachments
    ]


def version_reading(version: ProtocolVersion) -> dict[str, Any]:
    """Everything the commission reads of a submitted version."""
    content = version.content or {}
    team = content.get("_team") or []
    return {
        "sections": _sections(content),
        "request": data_request(content, team),
        "team": team_rows(team),
        "attachments": _attachment_rows(version.attachments.order_by("kind", "pk")),
        "is_draft": False,
    }


def draft_reading(project: Project) -> dict[str, Any]:
    """The draft as the commission would read it once submitted (the team's preview)."""
    content = project.draft.content or {}
    team = [
        {"user": m.user_id, "email": m.user.email, "name": m.user.full_name, "role": m.role}
        for m in project.memberships.select_related("user").order_by("role", "user__email")
    ]
    return {
        "sections": _sections(content),
        "request": data_request(content, team),
        "team": team_rows(team),
        "attachments": _attachment_rows(
            project.attachments.filter(removed_at__isnull=True).order_by("kind", "pk")
        ),
        "is_draft": True,
    }


def version_pdf(version: ProtocolVersion) -> bytes:
    """The version as a tagged PDF, in the current language (French by default)."""
    context = {
        "project": version.project,
        "version": version,
        "reading": version_reading(version),
        "for_pdf": True,
        "inline_css": static_text(DOCUMENT_CSS),
        "portal_name": settings.EDS_PORTAL_NAME,
    }
    html = render_to_string(DOCUMENT_TEMPLATE, context)
    return html_to_pdf(html, document="the protocol's PDF")
