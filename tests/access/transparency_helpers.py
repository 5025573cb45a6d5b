"""An approved project, as the commission leaves it: the starting point of formalities."""

from __future__ import annotations

from datetime import date

from projects import workflow
from projects.actions import check_admissibility, create_project, submit_project
from projects.models import Project, Recommendation
from tests.factories import DecisionFactory
from tests.projects.helpers import attach_required, fill_draft

SPECIFICATION = {
    "variables": [
        {"code": "person.sex", "generalisation": "exact", "verdict": "approve"},
        {"code": "person.birth_date", "generalisation": "year", "verdict": "approve"},
        {"code": "diagnosis.icpc2", "generalisation": "exact", "verdict": "approve"},
    ],
    "criteria": {"icpc2_codes": ["R78"]},
    "access_months": 24,
    "expected_persons": 5000,
}


def approved_project(
    researcher, secretariat, chair, *, opinion=Recommendation.FAVOURABLE, title="Bronchiolites"
) -> Project:
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    version = submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    DecisionFactory(
        project=project,
        version=version,
        opinion=opinion,
        recommendations="Préciser la durée de conservation."
        if opinion == Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS
        else "",
        approved_specification=SPECIFICATION,
        signed_by=chair,
    )
    workflow.fire(project, "approve", by=chair)
    project.refresh_from_db()
    return project


def record_mr004(project, secretariat, **overrides):
    from access.formalities.actions import record_formalities

    values = {
        "formality_type": "mr004",
        "formality_reference": "2226543 v 0",
        "formality_date": date(2026, 1, 5),
        "directory": "hdh",
        "directory_reference": "HDH-2026-0042",
        "directory_date": date(2026, 1, 6),
    }
    values.update(overrides)
    return record_formalities(project=project, by=secretariat, **values)
