"""The review over the API: rapporteurs, my review, the reviews, declarations of interests."""

from __future__ import annotations

import copy
import json

import pytest
from rest_framework.test import APIClient

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import ConflictDeclaration, RapporteurAssignment, Review
from tests.conftest import login
from tests.projects.review_helpers import COMPLETE_REVIEW, assign, in_days, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def in_review(researcher, secretariat):
    return project_in_review(researcher, secretariat)


def _base(project) -> str:
    return f"/api/v1/projects/{project.pk}/"


def test_the_secretariat_lists_assigns_and_removes_rapporteurs(
    secretariat, rapporteur, make_user, researcher, in_review
):
    api = login(APIClient(), secretariat)
    url = f"{_base(in_review)}rapporteurs/"
    listed = api.get(url)
    assert listed.status_code == 200
    body = listed.json()
    assert (body["minimum"], body["lacking"], body["rapporteurs"]) == (2, 2, [])
    assert rapporteur.pk in {c["member_id"] for c in body["candidates"]}
    created = api.post(
        url, {"member": rapporteur.pk, "due_date": in_days(9).isoformat()}, format="json"
    )
    assert created.status_code == 201, created.content
    assignment_url = created.json()["url"]
    assert api.get(url).json()["lacking"] == 1
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    refused = api.post(
        url, {"member": colleague.pk, "due_date": in_days(9).isoformat()}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["reasons"]
    assert api.post(url, {"member": rapporteur.pk}, format="json").status_code == 400
    moved = api.patch(assignment_url, {"due_date": in_days(20).isoformat()}, format="json")
    assert moved.status_code == 200
    assert moved.json()["due_date"] == in_days(20).isoformat()
    assert api.delete(assignment_url).status_code == 204
    assert api.delete(assignment_url).status_code == 404
    assert AuditEvent.objects.filter(action="review.rapporteur_removed").count() == 1


def test_a_rapporteur_saves_and_submits_through_the_api(rapporteur, secretariat, in_review):
    assign(in_review, rapporteur, secretariat)
    api = login(APIClient(), rapporteur)
    url = f"{_base(in_review)}review/"
    mine = api.get(url)
    assert mine.status_code == 200
    body = mine.json()
    assert body["state"] == "none"
    assert body["editable"]
    birth = next(v for v in body["variables"] if v["code"] == "person.birth_date")
    assert birth["coarser_choices"] == ["five_year_band"]
    assert "ethics" in body["errors"]
    draft = api.put(url, {"ethics": "Rien à signaler."}, format="json")
    assert draft.status_code == 200
    assert draft.json()["complete"] is False
    assert api.post(f"{url}submit/").status_code == 400
    bad = api.put(url, {"variables": {"person.sex": {"verdict": "maybe"}}}, format="json")
    assert bad.status_code == 400
    assert Review.objects.get().ethics == "Rien à signaler."
    saved = api.put(url, COMPLETE_REVIEW, format="json")
    assert saved.json() == {"saved": True, "complete": True, "errors": {}}
    submitted = api.post(f"{url}submit/")
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "submitted"
    assert api.put(url, COMPLETE_REVIEW, format="json").status_code == 409
    assert api.post(f"{url}submit/").status_code == 409


def test_a_coarser_generalisation_that_is_not_coarser_is_reported(
    rapporteur, secretariat, in_review
):
    assign(in_review, rapporteur, secretariat)
    api = login(APIClient(), rapporteur)
    data = copy.deepcopy(COMPLETE_REVIEW)
    data["variables"]["person.birth_date"]["generalisation"] = "region"
    saved = api.put(f"{_base(in_review)}review/", data, format="json").json()
    assert saved["errors"] == {
        "generalisation__person.birth_date": [
            saved["errors"]["generalisation__person.birth_date"][0]
        ]
    }
    assert api.post(f"{_base(in_review)}review/submit/").status_code == 400


def test_readers_list_reviews_and_the_team_never_does(
    researcher, rapporteur, secretariat, commission_member, in_review
):
    assign(in_review, rapporteur, secretariat)
    api = login(APIClient(), rapporteur)
    api.put(f"{_base(in_review)}review/", COMPLETE_REVIEW, format="json")
    api.post(f"{_base(in_review)}review/submit/")
    staff = login(APIClient(), secretariat)
    listed = staff.get(f"{_base(in_review)}reviews/")
    assert listed.status_code == 200
    [block] = listed.json()
    assert block["reviews"][0]["private_notes"] == COMPLETE_REVIEW["private_notes"]
    assert block["reviews"][0]["reviewer"] == rapporteur.full_name
    team = login(APIClient(), researcher)
    response = team.get(f"{_base(in_review)}reviews/")
    assert response.status_code in (403, 404)
    assert COMPLETE_REVIEW["private_notes"] not in response.content.decode()
    project = team.get(_base(in_review)).content.decode()
    assert rapporteur.full_name not in project
    assert COMPLETE_REVIEW["private_notes"] not in project
    # A member who has not declared does not know the file.
    member = login(APIClient(), commission_member)
    assert member.get(f"{_base(in_review)}reviews/").status_code == 404


def test_a_member_declares_interests_through_the_api(
    commission_member, make_user, researcher, in_review
):
    api = login(APIClient(), commission_member)
    url = f"{_base(in_review)}interests/"
    assert api.get(url).json()["declared"] is False
    assert api.put(url, {"has_interest": True}, format="json").status_code == 400
    declared = api.put(url, {"has_interest": False}, format="json")
    assert declared.status_code == 200
    assert declared.json()["has_interest"] is False
    assert api.get(_base(in_review)).status_code == 200  # may now read the file
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    conflicted = login(APIClient(), colleague).put(url, {"has_interest": False}, format="json")
    assert conflicted.status_code == 409
    assert ConflictDeclaration.objects.count() == 1


@pytest.mark.parametrize(
    "persona",
    ["researcher", "commission_member", "dpo", "data_steward", "auditor", "outsider"],
    indirect=True,
)
def test_roles_without_the_permission_are_refused_everywhere(
    persona, secretariat, rapporteur, in_review
):
    assignment = assign(in_review, rapporteur, secretariat)
    api = login(APIClient(), persona)
    base = _base(in_review)
    calls = [
        ("get", f"{base}rapporteurs/", None),
        ("post", f"{base}rapporteurs/", {"member": rapporteur.pk, "due_date": "2099-01-01"}),
        ("patch", f"{base}rapporteurs/{assignment.pk}/", {"due_date": "2099-01-01"}),
        ("delete", f"{base}rapporteurs/{assignment.pk}/", None),
        ("get", f"{base}review/", None),
        ("put", f"{base}review/", COMPLETE_REVIEW),
        ("post", f"{base}review/submit/", None),
        ("get", f"{base}reviews/", None),
    ]
    if Role.COMMISSION_MEMBER not in persona.roles:
        calls.append(("put", f"{base}interests/", {"has_interest": False}))
    for method, url, data in calls:
        response = getattr(api, method)(url, data, format="json")
        assert response.status_code in (403, 404), (method, url, response.status_code)
    assert RapporteurAssignment.objects.filter(removed_at__isnull=True).count() == 1
    assert not Review.objects.exists()


def test_anonymous_is_refused(in_review):
    api = APIClient()
    for url in ("rapporteurs/", "review/", "reviews/", "interests/"):
        assert api.get(f"{_base(in_review)}{url}").status_code in (401, 403)


def test_the_schema_lists_the_review_endpoints(researcher):
    from openapi_spec_validator import validate

    api = login(APIClient(), researcher)
    spec = json.loads(api.get("/api/v1/schema/?format=json").content)
    validate(spec)
    paths = spec["paths"]
    expected = {
        "/api/v1/projects/{id}/rapporteurs/": {"get", "post"},
        "/api/v1/projects/{id}/rapporteurs/{assignment_id}/": {"patch", "delete"},
        "/api/v1/projects/{id}/review/": {"get", "put"},
        "/api/v1/projects/{id}/review/submit/": {"post"},
        "/api/v1/projects/{id}/reviews/": {"get"},
        "/api/v1/projects/{id}/interests/": {"get", "put"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
