"""Reading reviews: the commission and the secretariat do; the team never sees them."""

from __future__ import annotations

import copy

import pytest

from eds_portal.roles import Role
from projects.actions import declare_interest
from projects.models import TeamMembership
from projects.review.actions import save_review, submit_review
from tests.conftest import login
from tests.projects.review_helpers import COMPLETE_REVIEW, assign, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

NOTES = COMPLETE_REVIEW["private_notes"]


@pytest.fixture
def reviewed(researcher, secretariat, rapporteur, commission_member):
    """Two rapporteurs, both submitted: one approves everything, one refuses the birth date."""
    project = project_in_review(researcher, secretariat)
    assign(project, rapporteur, secretariat)
    assign(project, commission_member, secretariat)
    save_review(project=project, by=rapporteur, data=COMPLETE_REVIEW)
    submit_review(project=project, by=rapporteur)
    other = copy.deepcopy(COMPLETE_REVIEW)
    other["private_notes"] = "Réserve sur la date de naissance."
    other["recommendation"] = "changes_requested"
    other["variables"]["person.birth_date"] = {"verdict": "refuse", "reason": "Inutile."}
    save_review(project=project, by=commission_member, data=other)
    submit_review(project=project, by=commission_member)
    return project


def _url(project) -> str:
    return f"/projects/{project.pk}/reviews/"


def test_the_secretariat_reads_reviews_notes_and_a_summary(
    client, secretariat, rapporteur, reviewed
):
    login(client, secretariat)
    response = client.get(_url(reviewed))
    assert response.status_code == 200
    html = response.content.decode()
    assert NOTES in html
    assert rapporteur.full_name in html
    [block] = response.context["blocks"]
    summary = {
        row.requested.code: (row.approve, row.coarser, row.refuse) for row in block["summary"]
    }
    assert summary == {
        "person.sex": (2, 0, 0),
        "person.birth_date": (0, 1, 1),
        "diagnosis.icpc2": (2, 0, 0),
    }


def test_a_commission_member_who_may_read_the_file_reads_the_reviews(client, make_user, reviewed):
    reader = make_user(Role.PATIENT_REPRESENTATIVE)
    login(client, reader)
    assert client.get(_url(reviewed)).status_code == 404  # not declared: does not know the file
    declare_interest(project=reviewed, by=reader, has_interest=False)
    response = client.get(_url(reviewed))
    assert response.status_code == 200
    assert NOTES in response.content.decode()
    # The project page carries the summary and the rapporteurs, and the link to the reviews.
    detail = client.get(f"/projects/{reviewed.pk}/")
    section = next(s for s in detail.context["commission_sections"] if s["key"] == "review")
    assert section["can_read"]
    assert section["submitted"] == 2
    assert len(section["rows"]) == 2
    assert _url(reviewed) in detail.content.decode()


def test_the_team_never_sees_reviews_notes_or_reviewer_names(
    client, researcher, rapporteur, commission_member, reviewed
):
    login(client, researcher)
    assert client.get(_url(reviewed)).status_code in (403, 404)
    detail = client.get(f"/projects/{reviewed.pk}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    for secret in (
        NOTES,
        "Réserve sur la date de naissance.",
        COMPLETE_REVIEW["ethics"],
        rapporteur.full_name,
        commission_member.full_name,
        "/reviews/",
        "/rapporteurs/",
    ):
        assert secret not in html, secret
    assert not any(s["key"] == "review" for s in detail.context["commission_sections"])
    for url in (f"/projects/{reviewed.pk}/review/", f"/projects/{reviewed.pk}/rapporteurs/"):
        assert client.get(url).status_code in (403, 404)


def test_a_team_member_who_sits_on_the_commission_sees_no_review(
    client, make_user, secretariat, reviewed
):
    member = make_user(Role.COMMISSION_MEMBER, Role.SECRETARIAT)
    TeamMembership.objects.create(project=reviewed, user=member, role="co_investigator")
    login(client, member)
    assert client.get(_url(reviewed)).status_code == 403
    detail = client.get(f"/projects/{reviewed.pk}/")
    assert NOTES not in detail.content.decode()
    assert not any(s["key"] == "review" for s in detail.context["commission_sections"])


def test_a_conflicted_member_does_not_read_the_reviews(client, make_user, reviewed):
    member = make_user(Role.COMMISSION_MEMBER)
    declare_interest(project=reviewed, by=member, has_interest=True, description="Lien.")
    login(client, member)
    assert client.get(_url(reviewed)).status_code == 404


def test_drafts_are_not_shown(client, secretariat, make_user, researcher, rapporteur):
    project = project_in_review(researcher, secretariat, title="Otites")
    assign(project, rapporteur, secretariat)
    save_review(project=project, by=rapporteur, data={"ethics": "Brouillon secret."})
    login(client, secretariat)
    response = client.get(_url(project))
    assert "Brouillon secret." not in response.content.decode()
    assert response.context["blocks"][0]["reviews"] == []


def test_an_assigned_rapporteur_gets_a_link_to_their_review(
    client, researcher, secretariat, rapporteur
):
    project = project_in_review(researcher, secretariat, title="Otites")
    assign(project, rapporteur, secretariat)
    login(client, rapporteur)
    detail = client.get(f"/projects/{project.pk}/")
    section = next(s for s in detail.context["commission_sections"] if s["key"] == "review")
    assert section["can_review"]
    assert f"/projects/{project.pk}/review/" in detail.content.decode()


@pytest.mark.parametrize(
    "persona",
    ["researcher", "dpo", "data_steward", "identity_officer", "auditor", "outsider"],
    indirect=True,
)
def test_roles_without_the_permission_do_not_read_reviews(client, persona, reviewed):
    login(client, persona)
    assert client.get(_url(reviewed)).status_code in (403, 404)


def test_the_reviews_page_query_count_is_pinned(
    client, secretariat, reviewed, django_assert_max_num_queries
):
    login(client, secretariat)
    client.get(_url(reviewed))
    with django_assert_max_num_queries(16):
        client.get(_url(reviewed))
