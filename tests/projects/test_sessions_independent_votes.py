"""Independent votes (GOV-10): nobody sees the others' votes, nor who has voted, until the chair
closes the vote; a conflicted member gets 404 on the item as on the file; a session decides
after a vote, or says why it held none."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import Decision, ProjectStatus, Vote, WrittenAgreement
from projects.sessions import actions
from projects.sessions.actions import Refused, cast_vote, close_vote, visible_tally
from projects.sessions.decisions import DecisionRefused
from tests.conftest import login
from tests.projects.sessions_helpers import approve_all, decide, declare

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

TABLE = "Votes per choice"  # the caption of the counts' table


def _url(item) -> str:
    return f"/commission/sessions/{item.session_id}/items/{item.pk}/"


def _api(item) -> str:
    return f"/api/v1/commission/sessions/{item.session_id}/items/{item.pk}/"


def _page(client, item) -> str:
    response = client.get(_url(item), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


# --- While the vote is open ------------------------------------------------------------------


def test_a_member_sees_neither_the_tally_nor_who_voted_before_or_after_voting(
    client, voting, commission_member, patient_representative, chair
):
    cast_vote(item=voting, by=patient_representative, choice="unfavourable")
    login(client, commission_member)
    before = _page(client, voting)
    assert TABLE not in before
    assert "Unfavourable" not in before.split('id="tally-title"')[1]
    assert "Not voted yet" not in before
    assert chair.full_name not in before
    assert patient_representative.full_name not in before
    assert "vote cast so far" not in before
    assert "votes cast so far" not in before
    assert 'name="choice"' in before

    client.post(_url(voting) + "vote/", {"choice": "favourable"})
    after = _page(client, voting)
    assert "You voted “Favourable”" in after  # a member sees their own vote
    assert TABLE not in after
    assert "Unfavourable" not in after.split('id="tally-title"')[1]
    assert chair.full_name not in after
    assert patient_representative.full_name not in after
    assert "votes cast so far" not in after


def test_the_api_hides_the_tally_from_a_member_before_and_after_voting(
    voting, commission_member, patient_representative
):
    cast_vote(item=voting, by=patient_representative, choice="unfavourable")
    member = login(APIClient(), commission_member)
    before = member.get(_api(voting) + "tally/").json()
    assert before == {
        "closed": False,
        "counts": None,
        "cast": None,
        "eligible": None,
        "not_voted": None,
        "leading": None,
        "my_vote": None,
    }
    assert member.post(_api(voting) + "vote/", {"choice": "favourable"}).status_code == 201
    after = member.get(_api(voting) + "tally/").json()
    assert after["my_vote"] == "favourable"
    assert after["counts"] is None
    assert after["cast"] is None
    assert after["not_voted"] is None


def test_the_chair_sees_only_how_many_voted_and_the_secretariat_who_has_not(
    client, voting, chair, commission_member, patient_representative, secretariat
):
    cast_vote(item=voting, by=commission_member, choice="unfavourable")
    login(client, chair)
    page = _page(client, voting)
    assert "1 vote cast so far, of 3 eligible voters." in page
    assert TABLE not in page
    assert "Not voted yet" not in page
    assert commission_member.full_name not in page
    api = login(APIClient(), chair).get(_api(voting) + "tally/").json()
    assert (api["cast"], api["eligible"], api["counts"], api["not_voted"]) == (1, 3, None, None)

    login(client, secretariat)
    page = _page(client, voting)
    assert TABLE not in page
    assert "Not voted yet" in page
    assert chair.full_name in page
    assert patient_representative.full_name in page
    api = login(APIClient(), secretariat).get(_api(voting) + "tally/").json()
    assert api["counts"] is None
    assert {v["id"] for v in api["not_voted"]} == {chair.pk, patient_representative.pk}


def test_the_session_page_hides_the_vote_counts_until_the_vote_closes(
    client, voting, chair, commission_member
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    url = f"/commission/sessions/{voting.session_id}/"
    login(client, commission_member)
    assert client.get(url).context["rows"][0]["vote_count"] is None
    login(client, chair)
    assert client.get(url).context["rows"][0]["vote_count"] == 1
    close_vote(item=voting, by=chair)
    login(client, commission_member)
    assert client.get(url).context["rows"][0]["vote_count"] == 1


# --- Closing the vote ----------------------------------------------------------------------


def test_once_the_chair_closes_the_vote_everyone_sees_the_tally(
    client, voting, chair, commission_member, patient_representative, english
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    cast_vote(item=voting, by=patient_representative, choice="abstention")
    login(client, chair)
    response = client.post(_url(voting) + "close-vote/")
    assert response.status_code == 302
    voting.refresh_from_db()
    assert voting.vote_closed_by == chair
    assert voting.vote_closed_at is not None
    event = AuditEvent.objects.get(action="session.vote_closed")
    assert event.actor == chair
    assert event.after["counts"]["favourable"] == 1
    assert event.after["cast"] == 2
    assert "member" not in str(event.after)  # counts, never who voted what

    login(client, commission_member)
    page = _page(client, voting)
    assert TABLE in page
    assert "Votes cast: 2. Eligible voters present and not conflicted: 3." in page
    api = login(APIClient(), patient_representative).get(_api(voting) + "tally/").json()
    assert api["closed"] is True
    assert api["counts"]["favourable"] == 1
    assert api["counts"]["abstention"] == 1
    assert api["leading"] == "favourable"
    assert api["my_vote"] == "abstention"
    assert api["not_voted"] is None  # who did not vote stays with the secretariat

    # No vote after the close; the chair's last voter is told why.
    with pytest.raises(Refused) as refused, translation.override("en"):
        cast_vote(item=voting, by=chair, choice="favourable")
    assert "The chair has closed the vote on this item." in refused.value.reasons
    with pytest.raises(Refused):
        close_vote(item=voting, by=chair)
    assert AuditEvent.objects.filter(action="session.vote_closed").count() == 1


def test_only_the_chair_closes_the_vote(client, voting, commission_member, secretariat):
    for user in (commission_member, secretariat):
        login(client, user)
        assert client.post(_url(voting) + "close-vote/").status_code == 403
        api = login(APIClient(), user)
        assert api.post(_api(voting) + "close-vote/").status_code == 403
    voting.refresh_from_db()
    assert voting.vote_closed_at is None


def test_the_api_closes_the_vote(voting, chair, commission_member):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    closed = login(APIClient(), chair).post(_api(voting) + "close-vote/")
    assert closed.status_code == 200
    assert closed.json()["counts"]["favourable"] == 1
    again = login(APIClient(), chair).post(_api(voting) + "close-vote/")
    assert again.status_code == 409


def test_the_decision_closes_the_vote_and_the_tally_appears(
    voting, chair, commission_member, patient_representative
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    assert visible_tally(voting, patient_representative)["counts"] is None
    decide(voting, chair)
    voting.refresh_from_db()
    assert voting.vote_closed_by == chair
    actions_seen = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions_seen.index("session.vote_closed") < actions_seen.index("decision.recorded")
    assert visible_tally(voting, patient_representative)["counts"]["favourable"] == 1


def test_a_closed_vote_leaves_the_awaiting_panel(client, voting, chair, commission_member):
    login(client, commission_member)
    assert _url(voting) in client.get("/").content.decode()
    close_vote(item=voting, by=chair)
    assert _url(voting) not in client.get("/").content.decode()


def test_an_undeclared_member_reaches_the_item_but_never_its_votes(
    client, voting, chair, commission_member, secretariat, make_user
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    close_vote(item=voting, by=chair)
    newcomer = make_user(Role.COMMISSION_MEMBER)
    login(client, newcomer)
    page = _page(client, voting)
    assert f"/projects/{voting.project_id}/interests/" in page
    assert TABLE not in page
    assert login(APIClient(), newcomer).get(_api(voting) + "tally/").json()["counts"] is None


# --- Conflicted members: 404, as on the file -------------------------------------------------


def _conflicted_members(voting, secretariat, researcher, make_user):
    declared = make_user(Role.COMMISSION_MEMBER)
    declare(voting.project, declared, interest=True)
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    actions.record_attendance(
        session=voting.session,
        by=secretariat,
        presence={declared.pk: True, colleague.pk: True},
    )
    return declared, colleague


def test_a_conflicted_member_gets_404_on_the_item_its_tally_and_its_vote(
    client, voting, secretariat, researcher, make_user, commission_member, chair
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    for member in _conflicted_members(voting, secretariat, researcher, make_user):
        login(client, member)
        assert client.get(f"/projects/{voting.project_id}/").status_code == 404  # the file
        assert client.get(_url(voting)).status_code == 404
        assert client.post(_url(voting) + "vote/", {"choice": "favourable"}).status_code == 404
        api = login(APIClient(), member)
        assert api.get(_api(voting) + "tally/").status_code == 404
        assert api.post(_api(voting) + "vote/", {"choice": "favourable"}).status_code == 404
        session = api.get(f"/api/v1/commission/sessions/{voting.session_id}/").json()
        assert session["agenda"][0]["tally_url"] is None
        page = client.get(f"/commission/sessions/{voting.session_id}/")
        assert page.status_code == 200
        assert f'href="{_url(voting)}"' not in page.content.decode()
        assert page.context["rows"][0]["vote_count"] is None
    # Still so once the vote is closed.
    close_vote(item=voting, by=chair)
    assert client.get(_url(voting)).status_code == 404
    assert Vote.objects.count() == 1


def test_a_conflicted_chair_gets_404_on_closing_deciding_and_deferring(
    client, voting, chair, commission_member
):
    declaration = chair.conflict_declarations.get(project=voting.project)
    declaration.has_interest, declaration.description = True, "Co-auteur."
    declaration.save()
    login(client, chair)
    for path in ("", "close-vote/", "decide/", "defer/"):
        assert client.post(_url(voting) + path).status_code == 404, path
    api = login(APIClient(), chair)
    assert api.post(_api(voting) + "close-vote/").status_code == 404
    assert api.post(_api(voting) + "decide/", {}, format="json").status_code == 404
    voting.refresh_from_db()
    assert voting.vote_closed_at is None
    assert voting.deferred_at is None


def test_the_secretariat_and_unconflicted_members_still_reach_the_item(
    client, voting, secretariat, commission_member, chair
):
    for user in (secretariat, commission_member, chair):
        login(client, user)
        assert client.get(_url(voting)).status_code == 200
        assert login(APIClient(), user).get(_api(voting) + "tally/").status_code == 200


# --- Deciding without a vote -----------------------------------------------------------------


def test_the_chair_cannot_decide_an_item_nobody_voted_on_without_saying_why(
    client, voting, chair, english
):
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair)
    assert list(refused.value.field_errors) == ["no_vote_reason"]
    voting.refresh_from_db()
    voting.project.refresh_from_db()
    assert not Decision.objects.exists()
    assert voting.decided_at is None
    assert voting.vote_closed_at is None
    assert voting.project.status == ProjectStatus.UNDER_REVIEW
    assert not AuditEvent.objects.filter(action__in=["decision.recorded", "session.vote_closed"])

    login(client, chair)
    url = _url(voting) + "decide/"
    form = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="no_vote_reason"' in form
    data = {
        "opinion": "favourable",
        "reasons": "Protocole solide.",
        **{f"verdict__{code}": "approve" for code in approve_all(voting.version)},
    }
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "No vote has been cast on this item" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_chair_decides_without_a_vote_with_a_reason_audited_and_in_the_letter(
    client, voting, chair, researcher
):
    login(client, chair)
    data = {
        "opinion": "favourable",
        "reasons": "Protocole solide.",
        "no_vote_reason": "Avis rendu par procédure écrite le 3 mars.",
        **{f"verdict__{code}": "approve" for code in approve_all(voting.version)},
    }
    response = client.post(_url(voting) + "decide/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    decision = Decision.objects.get()
    assert decision.no_vote_reason == "Avis rendu par procédure écrite le 3 mars."
    assert decision.tally["cast"] == 0
    event = AuditEvent.objects.get(action="decision.recorded")
    assert event.after["no_vote_reason"] == "Avis rendu par procédure écrite le 3 mars."
    login(client, researcher)
    letter = client.get(f"/projects/{decision.project_id}/decisions/{decision.pk}/")
    assert "Avis rendu par procédure écrite le 3 mars." in letter.content.decode()
    api = login(APIClient(), researcher).get(f"/api/v1/projects/{decision.project_id}/decisions/")
    assert api.json()[0]["no_vote_reason"] == "Avis rendu par procédure écrite le 3 mars."


def test_a_reason_for_no_vote_is_refused_when_votes_were_cast(
    voting, chair, commission_member, english
):
    cast_vote(item=voting, by=commission_member, choice="favourable")
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair, no_vote_reason="Procédure écrite.")
    assert "no_vote_reason" in refused.value.field_errors
    assert not Decision.objects.exists()


def test_the_api_decides_without_a_vote_only_with_a_reason(voting, chair):
    api = login(APIClient(), chair)
    body = {
        "opinion": "favourable",
        "reasons": "Protocole solide.",
        "variable_decisions": approve_all(voting.version),
    }
    refused = api.post(_api(voting) + "decide/", body, format="json")
    assert refused.status_code == 409
    assert "no_vote_reason" in refused.json()["field_errors"]
    body["no_vote_reason"] = "Procédure écrite."
    created = api.post(_api(voting) + "decide/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["no_vote_reason"] == "Procédure écrite."


# --- The written procedure: opinions are votes too ------------------------------------------


def test_written_opinions_are_hidden_until_the_procedure_is_decided(
    client, in_review, chair, rapporteur, commission_member, secretariat
):
    from projects.models import WrittenProcedure
    from projects.sessions.decisions import record_written_opinion
    from tests.projects.sessions_helpers import assign

    # The procedure as ``open_written_procedure`` leaves it (its amendment rules aside).
    for member in (rapporteur, commission_member):
        assign(in_review, member, secretariat)
    declare(in_review, chair, rapporteur, commission_member)
    procedure = WrittenProcedure.objects.create(
        project=in_review, version=in_review.versions.get(), opened_by=chair
    )
    record_written_opinion(procedure=procedure, by=chair, choice="unfavourable")
    url = f"/projects/{in_review.pk}/written-procedure/"

    def opinions(user) -> str:
        login(client, user)
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        return page.content.decode().split('id="opinions-title"')[1].split("</section>")[0]

    before = opinions(rapporteur)
    assert "Unfavourable" not in before
    assert chair.full_name not in before
    assert "1 written opinion given." in before
    record_written_opinion(procedure=procedure, by=rapporteur, choice="favourable")
    after = opinions(rapporteur)
    assert "Your written opinion: “Favourable”" in after
    assert "Unfavourable" not in after
    assert chair.full_name not in after
    assert "differ" not in after  # what follows from the others' opinions is hidden too
    # The chair, who decides, reads them once the chair's own is given.
    assert rapporteur.full_name in opinions(chair)
    assert "differ" in opinions(chair)
    procedure.closed_at = procedure.opened_at
    procedure.save(update_fields=["closed_at"])
    assert chair.full_name in opinions(commission_member)
    assert WrittenAgreement.objects.count() == 2
