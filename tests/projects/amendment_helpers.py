"""Helpers of the amendment tests (GOV-13): an amendment written, submitted and decided the way
the portal does it (the lead's actions, a session of the commission with its quorum)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from projects import workflow
from projects.actions import save_section, submit_project
from projects.models import (
    Amendment,
    Draft,
    Project,
    ProtocolVersion,
    TeamMembership,
    TeamRole,
)
from projects.sessions import actions as sessions
from tests.projects.helpers import VALID_SECTIONS
from tests.projects.sessions_helpers import decide, declare, open_session_with

# What the amendment asks: one more variable and a longer access period.
ADDED_VARIABLE = "outcome.kind"
AMENDED_REQUEST = {
    **VALID_SECTIONS["data_request"],
    f"var__{ADDED_VARIABLE}": "on",
    f"just__{ADDED_VARIABLE}": "Savoir si l'enfant est adressé aux urgences.",
    f"gen__{ADDED_VARIABLE}": "exact",
    "access_months": "36",
}


def write_amendment(
    project: Project, lead, *, data_request: dict | None = None, analyst=None
) -> Amendment:
    """The lead opens an amendment and changes the data request (and the team, if given)."""
    amendment = workflow.open_amendment(project, by=lead)
    current = Draft.objects.get(project=project).content
    save_section(
        project=project,
        section_key="data_request",
        raw=data_request or {**current.get("data_request", {}), **AMENDED_REQUEST},
        by=lead,
    )
    if analyst is not None:
        TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    return amendment


def submit_amendment(project: Project, lead) -> ProtocolVersion:
    version = submit_project(project=project, by=lead)
    project.refresh_from_db()
    return version


def decide_in_session(
    project: Project,
    *,
    secretariat,
    chair,
    members,
    opinion: str = "favourable",
    capture=None,
    **kwargs,
):
    """The secretariat puts the file on a session's agenda; the quorum votes; the chair signs.

    ``members``: two members besides the chair, one a patient representative (the quorum).
    """
    session = sessions.create_session(
        by=secretariat, date=timezone.now() + timedelta(days=7), place="Salle du conseil"
    )
    item = sessions.add_to_agenda(session=session, project=project, by=secretariat)
    declare(project, chair, *members)
    open_session_with(session, by=secretariat, chair=chair, present=[chair, *members])
    item.refresh_from_db()
    for member in members:
        choice = opinion if opinion != "favourable_recommendations" else "favourable"
        sessions.cast_vote(item=item, by=member, choice=choice)
    if capture is not None:
        with capture(execute=True):
            decision = decide(item, chair, opinion=opinion, **kwargs)
    else:
        decision = decide(item, chair, opinion=opinion, **kwargs)
    project.refresh_from_db()
    return decision
