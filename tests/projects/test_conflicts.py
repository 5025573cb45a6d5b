"""Conflicts of interest (GOV-10): a conflicted member does not see the file.

Assignment and votes come with the review module; they will ask the same ``is_conflicted``.
"""

from __future__ import annotations

import pytest

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.actions import check_admissibility, create_project, declare_interest, submit_project
from projects.conflicts import automatic_conflict, is_conflicted, may_read_file
from projects.models import ConflictDeclaration, TeamMembership
from tests.conftest import login
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def in_review(researcher, secretariat):
    project = create_project(by=researcher, title="Asthme de l'enfant")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    return project


def test_a_member_must_declare_before_reading_the_file(client, commission_member, in_review):
    login(client, commission_member)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    assert in_review.reference not in client.get("/projects/").content.decode()
    home = client.get("/").content.decode()
    assert f"/projects/{in_review.pk}/interests/" in home
    page = client.get(f"/projects/{in_review.pk}/interests/")
    assert page.status_code == 200
    html = page.content.decode()
    assert in_review.title in html  # the public title, to judge a conflict ...
    assert "Décrire l&#x27;incidence" not in html  # ... but not the file (objectives)
    assert "Étude rétrospective" not in html
    response = client.post(f"/projects/{in_review.pk}/interests/", {"has_interest": "no"})
    assert response.status_code == 302
    assert client.get(f"/projects/{in_review.pk}/").status_code == 200
    assert in_review.reference in client.get("/projects/").content.decode()
    assert AuditEvent.objects.get(action="project.interest_declared").after == {
        "has_interest": False,
        "first": True,
    }


def test_declaring_an_interest_hides_the_file(client, commission_member, in_review):
    login(client, commission_member)
    missing = client.post(f"/projects/{in_review.pk}/interests/", {"has_interest": "yes"})
    assert missing.status_code == 400
    client.post(
        f"/projects/{in_review.pk}/interests/",
        {"has_interest": "yes", "description": "Co-auteur du porteur en 2024."},
    )
    assert is_conflicted(commission_member, in_review)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    declaration = ConflictDeclaration.objects.get()
    assert declaration.description == "Co-auteur du porteur en 2024."


def test_a_later_interest_withdraws_access(client, commission_member, in_review):
    declare_interest(project=in_review, by=commission_member, has_interest=False)
    assert may_read_file(commission_member, in_review)
    declare_interest(
        project=in_review,
        by=commission_member,
        has_interest=True,
        description="Financement reçu du promoteur.",
    )
    assert not may_read_file(commission_member, in_review)
    assert AuditEvent.objects.filter(action="project.interest_declared").count() == 2


@pytest.mark.usefixtures("english")
def test_team_members_and_colleagues_are_conflicted_automatically(make_user, researcher, in_review):
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation.upper())
    assert automatic_conflict(colleague, in_review)
    # Even a declaration of "no interest" does not open the file.
    declare_interest(project=in_review, by=colleague, has_interest=False)
    assert not may_read_file(colleague, in_review)
    member = make_user(Role.COMMISSION_MEMBER, organisation="CHU de Lille")
    TeamMembership.objects.create(project=in_review, user=member, role="analyst")
    assert "team" in automatic_conflict(member, in_review)
    other = make_user(Role.COMMISSION_MEMBER, organisation="CHU de Lille")
    assert "organisation" in automatic_conflict(other, in_review)


def test_the_page_refuses_a_declaration_from_a_conflicted_member(
    client, make_user, researcher, in_review
):
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    login(client, colleague)
    response = client.post(f"/projects/{in_review.pk}/interests/", {"has_interest": "no"})
    assert response.status_code == 400
    assert not ConflictDeclaration.objects.exists()


def test_files_not_in_review_have_no_declaration_page(client, commission_member, researcher):
    draft = create_project(by=researcher, title="Brouillon")
    login(client, commission_member)
    assert client.get(f"/projects/{draft.pk}/interests/").status_code == 404


@pytest.mark.parametrize(
    "persona",
    ["researcher", "secretariat", "dpo", "data_steward", "identity_officer", "auditor", "outsider"],
    indirect=True,
)
def test_only_commission_members_declare(client, persona, in_review):
    login(client, persona)
    url = f"/projects/{in_review.pk}/interests/"
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"has_interest": "no"}).status_code in (403, 404)
    assert not ConflictDeclaration.objects.exists()


def test_project_list_of_a_member_query_count_is_pinned(
    client, commission_member, researcher, secretariat, django_assert_num_queries
):
    for i in range(4):
        project = create_project(by=researcher, title=f"Dossier {i}")
        fill_draft(project, researcher)
        attach_required(project, researcher)
        submit_project(project=project, by=researcher)
        check_admissibility(project=project, by=secretariat, accept=True)
        declare_interest(project=project, by=commission_member, has_interest=False)
    login(client, commission_member)
    response = client.get("/projects/")
    assert response.content.decode().count("/projects/") >= 4
    # Session, user, OTP device, roles, readable files, their teams and members (2 prefetches),
    # the list with counts, my memberships, session save (3): the same for 4 files as for 400.
    with django_assert_num_queries(12):
        client.get("/projects/")
