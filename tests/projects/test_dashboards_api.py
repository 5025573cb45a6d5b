"""The pipeline and the statistics in the API: same figures, same refusals, in the schema."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from projects.actions import check_admissibility, create_project, submit_project
from projects.models import ProjectStatus
from tests.conftest import login
from tests.factories import DecisionFactory
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

PIPELINE = "/api/v1/commission/pipeline/"
STATISTICS = "/api/v1/commission/statistics/"


def _submitted(researcher, title="Otites"):
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    project.refresh_from_db()
    return project


@pytest.fixture
def files(researcher, secretariat):
    waiting = _submitted(researcher, "En attente")
    in_review = _submitted(researcher, "En revue")
    check_admissibility(project=in_review, by=secretariat, accept=True)
    create_project(by=researcher, title="Brouillon")
    return waiting, in_review


@pytest.mark.parametrize("persona", ["secretariat", "chair", "dpo"], indirect=True)
def test_the_pipeline_in_the_api(persona, files):
    waiting, in_review = files
    response = login(APIClient(), persona).get(PIPELINE)
    assert response.status_code == 200
    body = response.json()
    counts = {entry["status"]: entry["count"] for entry in body["statuses"]}
    assert counts["submitted"] == 1
    assert counts["under_review"] == 1
    assert "draft" not in counts
    assert [p["reference"] for p in body["projects"]] == [waiting.reference, in_review.reference]
    row = body["projects"][1]
    assert row["status"] == "under_review"
    assert row["working_days_in_status"] == 0
    assert row["lead"] == "Rita Researcher"
    assert [p["status"] for p in row["past_statuses"]] == ["draft", "submitted"]
    assert row["page"].endswith(f"/projects/{in_review.pk}/")


def test_the_pipeline_filter(secretariat, files):
    api = login(APIClient(), secretariat)
    body = api.get(PIPELINE, {"status": "under_review"}).json()
    assert [entry["status"] for entry in body["statuses"]] == ["under_review"]
    assert [p["reference"] for p in body["projects"]] == [files[1].reference]
    refused = api.get(PIPELINE, {"status": "draft"})
    assert refused.status_code == 400
    assert "status" in refused.json()


def test_the_pipeline_api_runs_a_fixed_number_of_queries(secretariat, researcher, files):
    api = login(APIClient(), secretariat)
    with CaptureQueriesContext(connection) as few:
        api.get(PIPELINE)
    for index in range(4):
        _submitted(researcher, f"Autre {index}")
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(PIPELINE).json()["projects"]) == 6
    assert len(many) == len(few)


def test_the_statistics_in_the_api(secretariat, chair, researcher, files):
    _waiting, in_review = files
    DecisionFactory(
        project=in_review,
        version=in_review.versions.get(number=1),
        reasons="Favorable.",
        signed_by=chair,
    )
    body = login(APIClient(), secretariat).get(STATISTICS, {"months": 6}).json()
    assert len(body["decisions_by_month"]) == 6
    assert body["last_month"] == timezone.localdate().strftime("%Y-%m")
    assert body["decisions_by_month"][-1]["count"] == 1
    assert body["decisions_by_month"][-1]["median_calendar_days"] == 0
    assert body["decisions_by_month"][0]["median_working_days"] is None
    assert body["decisions"]["count"] == 1
    assert body["admissibility"] == {
        "count": 1,
        "median_calendar_days": 0.0,
        "median_working_days": 0.0,
    }
    per_status = {entry["status"]: entry["count"] for entry in body["files_per_status"]}
    assert per_status[ProjectStatus.SUBMITTED] == 1
    assert login(APIClient(), secretariat).get(STATISTICS, {"months": 5}).status_code == 400


REFUSED = [
    "researcher",
    "commission_member",
    "patient_representative",
    "identity_officer",
    "data_steward",
    "auditor",
    "outsider",
]


@pytest.mark.parametrize("url", [PIPELINE, STATISTICS])
@pytest.mark.parametrize("persona", REFUSED, indirect=True)
def test_other_roles_are_refused(persona, url, files):
    response = login(APIClient(), persona).get(url)
    assert response.status_code == 403
    assert files[0].reference not in response.content.decode()


@pytest.mark.parametrize("url", [PIPELINE, STATISTICS])
def test_anonymous_and_staff_tokens_are_refused(secretariat, url):
    assert APIClient().get(url).status_code in (401, 403)
    token = Token.objects.create(user=secretariat)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert script.get(url).status_code == 403


def test_the_endpoints_are_in_the_schema(researcher):
    from openapi_spec_validator import validate

    response = login(APIClient(), researcher).get("/api/v1/schema/?format=json")
    spec = json.loads(response.content)
    validate(spec)
    for path in (PIPELINE, STATISTICS):
        assert "get" in spec["paths"][path]
    pipeline = spec["paths"][PIPELINE]["get"]
    assert [p["name"] for p in pipeline["parameters"]] == ["status"]
    assert pipeline["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Pipeline"
    )
