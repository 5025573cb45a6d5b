"""The regulatory route questionnaire (GOV-01, GOV-03, GOV-04).

A few yes/no questions propose the legal frame of the project and say why. The researcher
confirms the proposal; the commission and the secretariat see both the answers and the route.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from projects.models import RegulatoryRoute


class InternalUse:
    NONE = "none"
    INDICATORS = "indicators"
    CODING_QUALITY = "coding_quality"
    DECISION_SUPPORT = "decision_support"
    FEASIBILITY = "feasibility"

    CHOICES = [
        (NONE, _("No: this is research, a study or an evaluation")),
        (INDICATORS, _("Yes: indicators and steering of the activity")),
        (CODING_QUALITY, _("Yes: quality of the coded information")),
        (DECISION_SUPPORT, _("Yes: a decision-support tool")),
        (FEASIBILITY, _("Yes: feasibility counts before a study")),
    ]


@dataclass(frozen=True)
class RouteProposal:
    route: RegulatoryRoute
    reasons: tuple[str, ...]
    requires_consent: bool
    possible_here: bool


def _yes(answers: dict, key: str) -> bool:
    return str(answers.get(key, "")).lower() in {"yes", "true", "on", "1"}


def propose_route(answers: dict) -> RouteProposal:
    """The route that follows from the answers, with the reasons, most decisive first."""
    involves_person = _yes(answers, "involves_human_person")
    needs_consent = _yes(answers, "needs_consent")
    internal_use = answers.get("internal_use") or InternalUse.NONE
    linkage = _yes(answers, "linkage_other_sources")
    outside = _yes(answers, "data_outside_reference")
    non_eu = _yes(answers, "processing_outside_eu")

    if involves_person:
        route = RegulatoryRoute.MR001 if needs_consent else RegulatoryRoute.MR003
        return RouteProposal(
            route,
            (
                str(
                    _(
                        "Research involving the human person (Public Health Code L.1121-1) needs "
                        "a CPP opinion and is not carried out on warehouse data alone (GOV-03)."
                    )
                ),
            ),
            requires_consent=needs_consent,
            possible_here=False,
        )
    if non_eu:
        return RouteProposal(
            RegulatoryRoute.NOT_POSSIBLE,
            (str(_("Warehouse data may not be processed outside the European Union (SEC-02).")),),
            requires_consent=False,
            possible_here=False,
        )
    if internal_use != InternalUse.NONE and not (linkage or outside):
        return RouteProposal(
            RegulatoryRoute.INTERNAL,
            (
                str(
                    _(
                        "Internal uses listed by the warehouse reference framework need no other "
                        "CNIL formality (GOV-01)."
                    )
                ),
            ),
            requires_consent=needs_consent,
            possible_here=True,
        )
    reasons = []
    if linkage:
        reasons.append(
            str(
                _(
                    "Linkage with other data sources is outside the MR-004 reference "
                    "methodology (GOV-04)."
                )
            )
        )
    if outside:
        reasons.append(
            str(
                _(
                    "Data outside the categories of the reference methodology need an "
                    "authorisation (GOV-04)."
                )
            )
        )
    if reasons:
        reasons.append(
            str(
                _(
                    "The route is a CNIL authorisation after a CESREES opinion, through "
                    "the Health Data Hub single window."
                )
            )
        )
        return RouteProposal(
            RegulatoryRoute.AUTHORISATION,
            tuple(reasons),
            requires_consent=needs_consent,
            possible_here=True,
        )
    return RouteProposal(
        RegulatoryRoute.MR004,
        (
            str(
                _(
                    "Research not involving the human person, on warehouse data only, within the "
                    "reference methodology: a declaration of conformity to MR-004 suffices."
                )
            ),
        ),
        requires_consent=needs_consent,
        possible_here=True,
    )
