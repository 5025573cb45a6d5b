"""A commission member's "my files" and home panel; the secretariat's follow-up panel."""

from __future__ import annotations

import pytest

from projects.review.actions import save_review
from tests.conftest import login
from tests.projects.review_helpers import assign, overdue_assignment, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

URL = "/commission/my-files/"


@pytest.fixture
def files(researcher, secretariat, rapporteur):
    """One file to declare, one assignment not declared, one overdue, one with a draft."""
    to_declare = project_in_review(researcher, secretariat, title="À déclarer")
    undeclared = project_in_review(researcher, secretariat, title="Assigné sans déclaration")
    assign(undeclared, rapporteur, secretariat, declare=False)
    late = project_in_review(researcher, secretariat, title="En retard")
    overdue_assignment(late, rapporteur, secretariat)
    drafted = project_in_review(researcher, secretariat, title="Brouillon")
    assign(drafted, rapporteur, secretariat, days=20)
    save_review(project=drafted, by=rapporteur, data={"ethics": "À compléter."})
    return {"to_declare": to_declare, "undeclared": undeclared, "late": late, "drafted": drafted}


def test_my_files_lists_what_the_member_has_to_do(client, rapporteur, files):
    login(client, rapporteur)
    response = client.get(URL)
    assert response.status_code == 200
    context = response.context
    assert {p.pk for p in context["to_declare"]} == {
        files["to_declare"].pk,
        files["undeclared"].pk,
    }
    rows = {row["assignment"].project_id: row for row in context["assignments"]}
    assert set(rows) == {files["undeclared"].pk, files["late"].pk, files["drafted"].pk}
    assert rows[files["late"].pk]["overdue"]
    assert not rows[files["drafted"].pk]["overdue"]
    assert not rows[files["undeclared"].pk]["assignment"].declared
    assert [r.project_id for r in context["drafts"]] == [files["drafted"].pk]
    html = response.content.decode()
    assert f"/projects/{files['undeclared'].pk}/interests/" in html
    assert f"/projects/{files['late'].pk}/review/" in html
    assert "status--alert" in html  # overdue highlighted


def test_the_home_panel_shows_my_assignments(client, rapporteur, files):
    login(client, rapporteur)
    html = client.get("/").content.decode()
    assert f"/projects/{files['drafted'].pk}/review/" in html
    assert URL in html


def test_my_files_query_count_is_pinned(
    client, researcher, secretariat, rapporteur, files, django_assert_max_num_queries
):
    login(client, rapporteur)
    client.get(URL)
    # Session, user, device, roles, my assignments, my drafts, files to declare with their teams
    # and members (2 prefetches), session save (3).
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    for i in range(4):
        project = project_in_review(researcher, secretariat, title=f"Dossier {i}")
        assign(project, rapporteur, secretariat)
        save_review(project=project, by=rapporteur, data={"ethics": "x"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


def test_the_secretariat_panel_lists_files_lacking_rapporteurs_and_overdue_reviews(
    client, secretariat, rapporteur, files
):
    login(client, secretariat)
    response = client.get("/")
    panel = next(
        p
        for section in response.context["sections"]
        for p in section["panels"]
        if p["key"] == "review_follow_up"
    )
    assert {p.pk for p in panel["lacking"]} == {f.pk for f in files.values()}
    assert [a.project_id for a in panel["overdue"]] == [files["late"].pk]
    assert rapporteur.full_name in response.content.decode()


def test_the_secretariat_panel_query_count_is_pinned(
    rf, researcher, secretariat, rapporteur, files, django_assert_num_queries
):
    from projects.review.panels import _review_follow_up

    request = rf.get("/")
    request.user = secretariat
    # Files lacking rapporteurs (counted in SQL), overdue assignments with their files and members.
    with django_assert_num_queries(2):
        _review_follow_up(request)
    for i in range(3):
        overdue_assignment(
            project_in_review(researcher, secretariat, title=f"Dossier {i}"),
            rapporteur,
            secretariat,
        )
    with django_assert_num_queries(2):
        _review_follow_up(request)


@pytest.mark.parametrize(
    "persona",
    ["researcher", "secretariat", "dpo", "data_steward", "identity_officer", "auditor", "outsider"],
    indirect=True,
)
def test_only_commission_members_have_my_files(client, persona):
    login(client, persona)
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize(
    "persona", ["commission_member", "chair", "patient_representative"], indirect=True
)
def test_every_commission_role_has_my_files(client, persona):
    login(client, persona)
    assert client.get(URL).status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
