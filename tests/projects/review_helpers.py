"""Files in review, rapporteurs and complete reviews, for the review's tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

from projects.actions import check_admissibility, create_project, declare_interest, submit_project
from projects.models import Project, RapporteurAssignment
from projects.review.actions import assign_rapporteur
from tests.projects.helpers import attach_required, fill_draft

# VALID_SECTIONS requests sex (exact), birth date (year) and an ICPC-2 diagnosis (exact).
COMPLETE_REVIEW = {
    "scientific_quality": "Question claire, équipe expérimentée.",
    "public_interest": "Meilleure orientation des nourrissons.",
    "methodology": "Étude descriptive adaptée.",
    "information_of_persons": "Exception justifiée.",
    "ethics": "Pas de risque particulier.",
    "recommendation": "favourable_recommendations",
    "private_notes": "Le porteur a déjà publié sur le sujet.",
    "variables": {
        "person.sex": {"verdict": "approve"},
        "person.birth_date": {
            "verdict": "coarser",
            "generalisation": "five_year_band",
            "reason": "La bande de 5 ans suffit.",
        },
        "diagnosis.icpc2": {"verdict": "approve"},
    },
}


def project_in_review(researcher, secretariat, title: str = "Bronchiolites") -> Project:
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    return project


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def assign(project, member, secretariat, *, days: int = 14, declare: bool = True):
    if declare:
        declare_interest(project=project, by=member, has_interest=False)
    return assign_rapporteur(project=project, member=member, due_date=in_days(days), by=secretariat)


def review_post(data: dict, action: str = "save") -> dict:
    """The review form's POST for a review in the actions' shape."""
    post = {name: value for name, value in data.items() if name != "variables"}
    for code, verdict in data.get("variables", {}).items():
        post[f"verdict__{code}"] = verdict.get("verdict", "")
        post[f"generalisation__{code}"] = verdict.get("generalisation", "")
        post[f"reason__{code}"] = verdict.get("reason", "")
    post["action"] = action
    return post


def overdue_assignment(project, member, secretariat, *, days_late: int = 2):
    """An assignment whose due date is past (the action refuses past dates: set it after)."""
    assignment = assign(project, member, secretariat)
    RapporteurAssignment.objects.filter(pk=assignment.pk).update(due_date=in_days(-days_late))
    assignment.refresh_from_db()
    return assignment
