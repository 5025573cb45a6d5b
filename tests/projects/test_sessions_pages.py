"""Pages of the sessions: who reaches them, what they show, and their query counts."""

from __future__ import annotations

import pytest

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import CommissionSession, SessionStatus, Vote
from projects.sessions import actions
from tests.conftest import login
from tests.projects.sessions_helpers import declare, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

COMMISSION = ["commission_member", "patient_representative", "chair", "secretariat"]
OTHERS = ["researcher", "identity_officer", "data_steward", "dpo", "auditor", "outsider"]


@pytest.mark.parametrize("persona", COMMISSION, indirect=True)
def test_the_commission_and_secretariat_see_sessions(client, persona, item):
    login(client, persona)
    listing = client.get("/commission/sessions/")
    assert listing.status_code == 200
    assert f"/commission/sessions/{item.session.pk}/" in listing.content.decode()
    page = client.get(f"/commission/sessions/{item.session.pk}/")
    assert page.status_code == 200
    assert item.project.reference in page.content.decode()
    assert client.get(f"/commission/sessions/{item.session.pk}/items/{item.pk}/").status_code == 200


@pytest.mark.parametrize("persona", OTHERS, indirect=True)
def test_others_do_not_reach_sessions(client, persona, item):
    login(client, persona)
    for url in (
        "/commission/sessions/",
        f"/commission/sessions/{item.session.pk}/",
        f"/commission/sessions/{item.session.pk}/items/{item.pk}/",
    ):
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_login(client, item):
    response = client.get(f"/commission/sessions/{item.session.pk}/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_unknown_session_is_404(client, chair):
    login(client, chair)
    assert client.get("/commission/sessions/999999/").status_code == 404


def test_secretariat_plans_a_session_and_its_agenda(client, secretariat, in_review):
    login(client, secretariat)
    bad = client.post("/commission/sessions/new/", {"date": "pas une date", "place": "Salle"})
    assert bad.status_code == 400
    assert "Salle" in bad.content.decode()  # what was typed is given back
    response = client.post(
        "/commission/sessions/new/", {"date": "2031-03-12T14:00", "place": "Salle A"}
    )
    session = CommissionSession.objects.get()
    assert response.url == f"/commission/sessions/{session.pk}/"
    page = client.get(response.url).content.decode()
    assert in_review.reference in page  # offered for the agenda
    client.post(f"/commission/sessions/{session.pk}/agenda/", {"project": in_review.pk})
    assert session.items.get().project == in_review


def test_a_member_cannot_create_a_session(client, commission_member):
    login(client, commission_member)
    assert client.get("/commission/sessions/new/").status_code == 403
    assert client.post("/commission/sessions/new/", {"date": "2031-03-12T14:00"}).status_code == 403
    assert not CommissionSession.objects.exists()


def test_attendance_page_and_opening_show_the_quorum_reasons(
    client, item, secretariat, chair, commission_member, patient_representative, settings
):
    settings.LANGUAGE_CODE = "en"  # the assertions read the English msgids
    login(client, secretariat)
    session = item.session
    page = client.get(f"/commission/sessions/{session.pk}/attendance/")
    assert page.status_code == 200
    assert patient_representative.full_name in page.content.decode()
    client.post(
        f"/commission/sessions/{session.pk}/attendance/",
        {f"member_{chair.pk}": "present", f"member_{commission_member.pk}": "present"},
    )
    login(client, chair)
    response = client.post(f"/commission/sessions/{session.pk}/open/", follow=True)
    html = response.content.decode()
    assert "No patient representative is present" in html
    assert "the quorum needs at least 3" in html
    session.refresh_from_db()
    assert session.status == SessionStatus.PLANNED
    login(client, secretariat)
    client.post(
        f"/commission/sessions/{session.pk}/attendance/",
        {f"member_{patient_representative.pk}": "present"},
    )
    login(client, chair)
    client.post(f"/commission/sessions/{session.pk}/open/")
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN


def test_the_secretariat_cannot_open(client, item, secretariat):
    login(client, secretariat)
    assert client.post(f"/commission/sessions/{item.session.pk}/open/").status_code == 403


def test_the_vote_form_is_offered_only_to_eligible_members(
    client, voting, commission_member, researcher, secretariat, make_user, english
):
    url = f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, commission_member)
    assert 'name="choice"' in client.get(url).content.decode()
    response = client.post(url + "vote/", {"choice": "favourable"})
    assert response.status_code == 302
    assert Vote.objects.get().member == commission_member
    page = client.get(url).content.decode()
    assert 'name="choice"' not in page
    assert "You voted" in page

    # A colleague of the team is conflicted: the item, like the file, is not theirs to know.
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    actions.record_attendance(session=voting.session, by=secretariat, presence={colleague.pk: True})
    login(client, colleague)
    assert client.get(url).status_code == 404
    assert client.post(url + "vote/", {"choice": "unfavourable"}).status_code == 404
    assert Vote.objects.count() == 1

    newcomer = make_user(Role.COMMISSION_MEMBER)
    actions.record_attendance(session=voting.session, by=secretariat, presence={newcomer.pk: True})
    login(client, newcomer)
    page = client.get(url).content.decode()
    assert f"/projects/{voting.project.pk}/interests/" in page
    assert 'name="choice"' not in page


def test_the_secretariat_sees_who_has_not_voted(client, voting, secretariat, chair):
    login(client, secretariat)
    page = client.get(f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/")
    assert chair.full_name in page.content.decode()


def test_a_researcher_cannot_vote_even_by_post(client, voting, researcher):
    login(client, researcher)
    url = f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/vote/"
    assert client.post(url, {"choice": "favourable"}).status_code == 403
    assert not Vote.objects.exists()


def test_the_chair_decides_from_the_page(
    client, voting, chair, commission_member, researcher, english
):
    actions.cast_vote(item=voting, by=commission_member, choice="favourable")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, chair)
    url = f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/decide/"
    form = client.get(url)
    assert form.status_code == 200
    assert "person.birth_date" in form.content.decode()
    data = {
        "opinion": "favourable",
        "reasons": "",
        "verdict__person.sex": "approve",
        "verdict__person.birth_date": "coarser",
        "generalisation__person.birth_date": "five_year_band",
        "reason__person.birth_date": "",
        "verdict__diagnosis.icpc2": "approve",
    }
    bad = client.post(url, data)
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "This field is required." in html
    data["reasons"] = "Projet d'intérêt public."
    no_reason = client.post(url, data)
    assert no_reason.status_code == 400
    html = no_reason.content.decode()
    assert "Give the reason for this verdict." in html
    assert "Projet d&#x27;intérêt public." in html  # nothing typed is lost
    data["reason__person.birth_date"] = "Petits effectifs."
    recorded = client.post(url, data)
    assert recorded.status_code == 302, recorded.content.decode()[:3000]
    voting.project.refresh_from_db()
    assert voting.project.status == "approved"
    decision = voting.project.decisions.get()
    spec = decision.approved_specification
    assert {v["code"]: v["generalisation"] for v in spec["variables"]}["person.birth_date"] == (
        "five_year_band"
    )


def test_session_list_query_count(client, chair, secretariat, django_assert_max_num_queries):
    from django.utils import timezone

    for days in range(6):
        actions.create_session(by=secretariat, date=timezone.now() + timezone.timedelta(days))
    login(client, chair)
    with django_assert_max_num_queries(8):
        assert client.get("/commission/sessions/").status_code == 200


def test_session_page_query_count(
    client,
    item,
    researcher,
    secretariat,
    chair,
    commission_member,
    patient_representative,
    django_assert_max_num_queries,
):
    for n in range(4):
        project = project_in_review(researcher, secretariat, f"Projet {n}")
        actions.add_to_agenda(session=item.session, project=project, by=secretariat)
        declare(project, commission_member)
    actions.record_attendance(
        session=item.session,
        by=secretariat,
        presence={chair.pk: True, commission_member.pk: True, patient_representative.pk: False},
    )
    login(client, commission_member)
    with django_assert_max_num_queries(15):
        assert client.get(f"/commission/sessions/{item.session.pk}/").status_code == 200


def test_home_panels_of_the_chair_and_member(client, voting, chair, commission_member):
    login(client, chair)
    home = client.get("/").content.decode()
    assert f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/" in home
    login(client, commission_member)
    home = client.get("/").content.decode()
    assert f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/" in home  # to vote
    actions.cast_vote(item=voting, by=commission_member, choice="favourable")
    home = client.get("/").content.decode()
    assert f"/commission/sessions/{voting.session.pk}/items/{voting.pk}/" not in home


def test_agenda_changes_are_audited_from_the_page(client, item, secretariat):
    login(client, secretariat)
    session = item.session
    client.post(f"/commission/sessions/{session.pk}/items/{item.pk}/remove/")
    assert not session.items.exists()
    assert AuditEvent.objects.filter(action="session.agenda_removed").count() == 1
