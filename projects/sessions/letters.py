"""Decision letters (GOV-11): a printable HTML page and the same letter as a PDF.

The PDF is rendered by WeasyPrint from the same template, with the stylesheet inlined and a URL
fetcher that refuses every fetch: rendering a letter never reaches out to the network.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from projects.models import Decision, Recommendation, VariableVerdict, VoteChoice
from projects.next_steps import after_decision
from projects.pdf import html_to_pdf, no_network_fetcher, static_text
from projects.reading import cohort_rows, team_rows
from projects.sessions.quorum import attendance_record
from warehouse import catalogue
from warehouse.catalogue import Generalisation

LETTER_TEMPLATE = "projects/decisions/letter.html"
LETTER_CSS = "projects/decision_letter.css"


def letter_css() -> str:
    """The letter's stylesheet, inlined in the PDF's HTML: the renderer needs no fetch at all."""
    return static_text(LETTER_CSS)


def _no_network_fetcher():
    """A WeasyPrint fetcher that fetches nothing: a letter never reaches out to the network."""
    return no_network_fetcher("the decision letter")


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


def vote_figures(decision: Decision) -> dict[str, Any] | None:
    """For, against and abstentions on the opinion adopted, and the count of each choice.

    "For" counts the votes (or written opinions) for the opinion the commission adopted,
    "against" those for any other opinion. None when nobody voted.
    """
    tally = decision.tally or {}
    counts = tally.get("counts") or tally.get("opinions") or {}
    cast = sum(counts.values())
    if not cast:
        return None
    for_ = counts.get(decision.opinion, 0)
    abstain = counts.get(VoteChoice.ABSTENTION, 0)
    return {
        "for": for_,
        "against": cast - for_ - abstain,
        "abstain": abstain,
        "cast": cast,
        "eligible": tally.get("eligible"),
        "rows": [
            {"label": choice.label, "count": counts.get(choice.value, 0)} for choice in VoteChoice
        ],
    }


def _attendance(decision: Decision, session) -> dict[str, Any]:
    """The attendance and the quorum kept with the decision (or, for decisions recorded before
    they were kept, as the session's attendance stands)."""
    tally = decision.tally or {}
    if "attendance" in tally:
        record = {"attendance": dict(tally["attendance"]), "quorum": tally.get("quorum")}
    elif session is not None:
        record = attendance_record(session)
    else:
        return {"attendance": None, "quorum": None}
    # Present but not entitled to vote: conflicted on the project (GOV-10).
    eligible = tally.get("eligible")
    if eligible is not None:
        record["attendance"]["not_taking_part"] = max(0, record["attendance"]["present"] - eligible)
    return record


def letter_context(decision: Decision) -> dict[str, Any]:
    specification = decision.approved_specification or {}
    session = decision.agenda_item.session if decision.agenda_item_id else None
    return {
        "decision": decision,
        "project": decision.project,
        "version": decision.version,
        "opinion_label": Recommendation(decision.opinion).label,
        "rows": variable_rows(decision),
        "specification": specification,
        "session": session,
        "written": decision.written_procedure_id is not None,
        "portal_name": settings.EDS_PORTAL_NAME,
        **_attendance(decision, session),
        "votes": vote_figures(decision),
        "cohort": cohort_rows(specification.get("criteria")),
        "recipients": team_rows(specification.get("recipients") or []),
        # The same sentence as the team's home page says (projects/next_steps.py).
        "next_step": after_decision(decision),
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
    html = render_letter_html(decision, for_pdf=True)
    return html_to_pdf(html, document="the decision letter")
