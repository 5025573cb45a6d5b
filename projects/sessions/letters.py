"""Decision letters (GOV-11): a printable HTML page and the same letter as a PDF.

The PDF is rendered by WeasyPrint from the same template, with the stylesheet inlined and a URL
fetcher that refuses every fetch: rendering a letter never reaches out to the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from projects.models import Decision, Recommendation, VariableVerdict
from warehouse import catalogue
from warehouse.catalogue import Generalisation

LETTER_TEMPLATE = "projects/decisions/letter.html"
LETTER_CSS = "projects/decision_letter.css"


def letter_css() -> str:
    """The letter's stylesheet, inlined in the PDF's HTML: the renderer needs no fetch at all."""
    found = finders.find(LETTER_CSS)
    return Path(found).read_text(encoding="utf-8") if found else ""


def _no_network_fetcher():
    """A WeasyPrint fetcher that fetches nothing: a letter never reaches out to the network."""
    from weasyprint.urls import URLFetcher

    class NoFetch(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"the decision letter may not fetch {url!r}")

    return NoFetch(fail_on_errors=False)


def variable_rows(decision: Decision) -> list[dict[str, Any]]:
    """The per-variable table of the letter: every requested variable and its verdict."""
    specification = decision.approved_specification
    rows = []
    for entry in specification.get("decisions", []):
        variable = catalogue.BY_CODE.get(entry["code"])
        rows.append(
            {
                "code": entry["code"],
                "label": variable.label if variable else entry["code"],
                "verdict": entry["verdict"],
                "verdict_label": VariableVerdict(entry["verdict"]).label,
                "requested_label": _generalisation_label(entry.get("requested_generalisation")),
                "generalisation_label": _generalisation_label(entry.get("generalisation")),
                "reason": entry.get("reason", ""),
                "refused": entry["verdict"] == VariableVerdict.REFUSE,
            }
        )
    return rows


def _generalisation_label(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(Generalisation(value).label)
    except ValueError:
        return value


def letter_context(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision,
        "project": decision.project,
        "version": decision.version,
        "opinion_label": Recommendation(decision.opinion).label,
        "rows": variable_rows(decision),
        "specification": decision.approved_specification,
        "session": decision.agenda_item.session if decision.agenda_item_id else None,
        "written": decision.written_procedure_id is not None,
        "portal_name": settings.EDS_PORTAL_NAME,
    }


def _decision(decision: Decision) -> Decision:
    return Decision.objects.select_related(
        "project",
        "version",
        "signed_by",
        "supersedes",
        "agenda_item__session",
        "written_procedure",
    ).get(pk=decision.pk)


def render_letter_html(decision: Decision, *, request=None, for_pdf: bool = False) -> str:
    context = letter_context(_decision(decision))
    context["for_pdf"] = for_pdf
    if for_pdf:
        context["inline_css"] = letter_css()
    return render_to_string(LETTER_TEMPLATE, context, request=request)


def letter_pdf(decision: Decision) -> bytes:
    """The letter as a PDF, in the language of the request (French by default)."""
    import weasyprint

    html = render_letter_html(decision, for_pdf=True)
    return weasyprint.HTML(string=html, url_fetcher=_no_network_fetcher()).write_pdf()
