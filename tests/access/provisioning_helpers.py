"""Helpers of the provisioning tests: a provisionable project, runs done in-process, checks.

Their fixtures (the generated warehouse, the settings) are in ``tests/access/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from django.db import transaction

from access.models import EntryEffect, Scope
from access.models_provisioning import ProvisioningRun, RunPart
from access.provisioning import publication, runs
from projects import workflow
from projects.actions import check_admissibility, create_project, submit_project
from tests.factories import DecisionFactory
from tests.projects.helpers import attach_required, fill_draft
from warehouse.models import Person

DBS = ["default", "warehouse", "vault"]

VARIABLES = [
    {"code": "person.pseudonym", "generalisation": "exact", "verdict": "approve"},
    {"code": "person.sex", "generalisation": "exact", "verdict": "approve"},
    {"code": "visit.kind", "generalisation": "exact", "verdict": "approve"},
    {"code": "visit.start", "generalisation": "shifted_date", "verdict": "approve"},
    {"code": "diagnosis.icpc2", "generalisation": "exact", "verdict": "approve"},
]


# The same, with the call-takers' notes delivered scrubbed (free text: MIN-05's review).
NOTES_VARIABLES = [
    *VARIABLES,
    {"code": "call.notes", "generalisation": "scrubbed", "verdict": "approve"},
]


def specification(recipients, *, access_months=24, shape=None, variables=None) -> dict:
    return {
        **({"delivery_shape": shape} if shape else {}),
        "version": 1,
        "variables": variables or VARIABLES,
        "criteria": {},
        "access_months": access_months,
        "expected_persons": 100,
        "recipients": [
            {"user_id": user.pk, "email": user.email, "name": user.full_name, "role": role}
            for user, role in recipients
        ],
    }


def approved(
    researcher,
    secretariat,
    chair,
    *,
    recipients=None,
    title="Bronchiolites",
    shape=None,
    variables=None,
):
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    version = submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    DecisionFactory(
        project=project,
        version=version,
        approved_specification=specification(
            recipients or [(researcher, "lead")], shape=shape, variables=variables
        ),
        signed_by=chair,
    )
    workflow.fire(project, "approve", by=chair)
    project.refresh_from_db()
    return project


def published(researcher, secretariat, chair, **options):
    from access.formalities.actions import publish_project
    from tests.access.transparency_helpers import record_mr004

    project = approved(researcher, secretariat, chair, **options)
    record_mr004(project, secretariat)
    publish_project(project=project, by=secretariat)
    project.refresh_from_db()
    return project


def run_everything(run_id: int, worker: str = "w1") -> ProvisioningRun:
    """Plans, writes every part and publishes in this process, step by step."""
    runs.prepare_run(run_id=run_id, worker=worker)
    for _round in range(3):  # a rebuild adds a round of parts
        for part in RunPart.objects.filter(run_id=run_id, status="pending"):
            runs.write_part(part_id=part.pk, worker=worker)
        publication.publish_run(run_id=run_id, worker=worker)
        run = ProvisioningRun.objects.get(pk=run_id)
        if run.status != "running":
            break
    return ProvisioningRun.objects.get(pk=run_id)


def pseudonyms_in(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.glob("*.parquet"):
        table = pq.read_table(path)
        if "person_pseudonym" in table.column_names:
            found |= set(table.column("person_pseudonym").to_pylist())
    return found


def person_keys() -> list[str]:
    return list(Person.objects.order_by("person_id").values_list("person_source_value", flat=True))


def object_to_everything(person_key: str, by) -> None:
    """Appends an objection to every reuse (as the identity officer's match does)."""
    from access.opposition import register
    from tests.access.helpers import online_request

    request = online_request()
    with transaction.atomic():
        register.append_entry(
            by=by,
            request=request,
            effect=EntryEffect.OBJECT,
            person_key=person_key,
            scope=Scope.ALL,
            project_references=[],
        )
    # Matched, as the entry says: an objection still awaiting its match would block runs.
    mark_applied(request)


def mark_applied(request) -> None:
    from django.utils import timezone

    from access.models import OppositionRequest, RequestStatus

    OppositionRequest.objects.filter(pk=request.pk).update(
        status=RequestStatus.APPLIED, matched_at=timezone.now()
    )
