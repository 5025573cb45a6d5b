"""Helpers shared by the sessions and decisions tests; their fixtures are in conftest.py."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from projects.actions import check_admissibility, create_project, declare_interest, submit_project
from projects.models import Project, RapporteurAssignment
from projects.sessions import actions
from projects.sessions.decisions import record_decision, requested_variables
from tests.projects.helpers import attach_required, fill_draft


def project_in_review(researcher, secretariat, title="Bronchiolites à domicile") -> Project:
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    return project


def declare(project, *members, interest=False):
    for member in members:
        declare_interest(
            project=project,
            by=member,
            has_interest=interest,
            description="Co-auteur du porteur." if interest else "",
        )


def approve_all(version) -> dict[str, dict]:
    return {item.code: {"verdict": "approve"} for item in requested_variables(version)}


def open_session_with(session, *, by, chair, present, absent=()):
    presence = {m.pk: True for m in present} | {m.pk: False for m in absent}
    actions.record_attendance(session=session, by=by, presence=presence)
    return actions.open_session(session=session, by=chair)


def decide(item, chair, opinion="favourable", **kwargs):
    kwargs.setdefault("reasons", "Protocole solide, intérêt public établi.")
    kwargs.setdefault("variable_decisions", approve_all(item.version))
    return record_decision(
        project=item.project, by=chair, opinion=opinion, agenda_item=item, **kwargs
    )


def assign(project, member, by):
    return RapporteurAssignment.objects.create(
        project=project,
        member=member,
        due_date=timezone.localdate() + timedelta(days=10),
        assigned_by=by,
    )
