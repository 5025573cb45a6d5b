"""Withdrawing a declared interest (GOV-10): a request the secretariat answers; until it accepts,
the conflict stands. And the parties a member judges a conflict against."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from eds_portal.errors import Refused
from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects.actions import declare_interest, save_section
from projects.conflicts import is_conflicted, may_read_file, parties
from projects.interest_actions import answer_interest_withdrawal, request_interest_withdrawal
from projects.models import ConflictDeclaration, InterestWithdrawal, WithdrawalStatus
from projects.workflow import TransitionRefused
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS
from tests.projects.sessions_helpers import declare, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

INTEREST = "Co-auteur du porteur en 2024."
WHY = "La collaboration a pris fin en janvier ; aucune publication commune en cours."


@pytest.fixture
def conflicted(in_review, commission_member):
    declare_interest(
        project=in_review, by=commission_member, has_interest=True, description=INTEREST
    )
    return commission_member


def _events(action: str):
    return list(AuditEvent.objects.filter(action=action))


# --- The member cannot lift the conflict alone --------------------------------------------------


def test_declaring_no_interest_over_an_interest_is_refused(client, in_review, conflicted, english):
    with pytest.raises(TransitionRefused) as refused:
        declare_interest(project=in_review, by=conflicted, has_interest=False)
    assert "ask the secretariat" in refused.value.reasons[0]
    login(client, conflicted)
    response = client.post(
        f"/projects/{in_review.pk}/interests/", {"has_interest": "no"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert "ask the secretariat" in response.content.decode()
    api = login(APIClient(), conflicted)
    put = api.put(
        f"/api/v1/projects/{in_review.pk}/interests/", {"has_interest": False}, format="json"
    )
    assert put.status_code == 409
    assert ConflictDeclaration.objects.get(member=conflicted).has_interest
    assert is_conflicted(conflicted, in_review)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404


def test_a_request_leaves_the_conflict_standing_until_the_secretariat_accepts(
    client, in_review, conflicted, secretariat, django_capture_on_commit_callbacks
):
    login(client, conflicted)
    page = client.get(f"/projects/{in_review.pk}/interests/", HTTP_ACCEPT_LANGUAGE="en")
    assert INTEREST in page.content.decode()
    assert f'action="/projects/{in_review.pk}/interests/withdrawal/"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{in_review.pk}/interests/withdrawal/", {"reason": WHY})
    assert response.status_code == 302
    withdrawal = InterestWithdrawal.objects.get()
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert withdrawal.interest == INTEREST
    assert withdrawal.reason == WHY
    (event,) = _events("project.interest_withdrawal_requested")
    assert event.actor == conflicted
    assert event.after == {"withdrawal": withdrawal.pk, "member": conflicted.pk}
    asked = Notification.objects.filter(
        recipient=secretariat, url="/commission/interest-withdrawals/"
    )
    assert asked.count() == 1
    assert secretariat.email in {m.to[0] for m in mail.outbox}

    # Pending: still conflicted, still 404, no second request, no new declaration.
    assert is_conflicted(conflicted, in_review)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    page = client.get(f"/projects/{in_review.pk}/interests/", HTTP_ACCEPT_LANGUAGE="en")
    assert "awaits the secretariat" in page.content.decode()
    with pytest.raises(Refused):
        request_interest_withdrawal(project=in_review, by=conflicted, reason=WHY)
    with pytest.raises(TransitionRefused):
        declare_interest(
            project=in_review, by=conflicted, has_interest=True, description="Autre lien."
        )

    login(client, secretariat)
    listing = client.get("/commission/interest-withdrawals/").content.decode()
    assert WHY in listing
    assert INTEREST in listing
    with django_capture_on_commit_callbacks(execute=True):
        answered = client.post(
            f"/commission/interest-withdrawals/{withdrawal.pk}/answer/",
            {f"withdrawal-{withdrawal.pk}-decision": "accept"},
        )
    assert answered.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.ACCEPTED
    assert withdrawal.decided_by == secretariat
    declaration = ConflictDeclaration.objects.get(member=conflicted)
    assert not declaration.has_interest
    assert declaration.description == ""
    (event,) = _events("project.interest_withdrawal_accepted")
    assert event.actor == secretariat
    assert event.after["has_interest"] is False
    assert Notification.objects.filter(recipient=conflicted).count() == 1
    assert conflicted.email in {m.to[0] for m in mail.outbox}

    # Access regained.
    login(client, conflicted)
    assert may_read_file(conflicted, in_review)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 200


def test_a_refusal_keeps_the_interest_and_says_why(
    client, in_review, conflicted, secretariat, english
):
    withdrawal = request_interest_withdrawal(project=in_review, by=conflicted, reason=WHY)
    with pytest.raises(Refused) as refused:
        answer_interest_withdrawal(withdrawal=withdrawal, by=secretariat, accept=False)
    assert any("Say why" in r for r in refused.value.reasons)
    login(client, secretariat)
    unanswered = client.post(
        f"/commission/interest-withdrawals/{withdrawal.pk}/answer/",
        {f"withdrawal-{withdrawal.pk}-decision": "refuse"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert unanswered.status_code == 400
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PENDING
    client.post(
        f"/commission/interest-withdrawals/{withdrawal.pk}/answer/",
        {
            f"withdrawal-{withdrawal.pk}-decision": "refuse",
            f"withdrawal-{withdrawal.pk}-answer": "La publication commune est de 2025.",
        },
    )
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.REFUSED
    assert ConflictDeclaration.objects.get(member=conflicted).has_interest
    assert is_conflicted(conflicted, in_review)
    (event,) = _events("project.interest_withdrawal_refused")
    assert event.after["has_interest"] is True
    assert Notification.objects.filter(recipient=conflicted).count() == 1
    login(client, conflicted)
    assert client.get(f"/projects/{in_review.pk}/").status_code == 404
    page = client.get(f"/projects/{in_review.pk}/interests/", HTTP_ACCEPT_LANGUAGE="en")
    assert "La publication commune est de 2025." in page.content.decode()
    # An answered request is final; a new one may be made.
    with pytest.raises(Refused):
        answer_interest_withdrawal(withdrawal=withdrawal, by=secretariat, accept=True)
    assert request_interest_withdrawal(project=in_review, by=conflicted, reason=WHY).pk


@pytest.mark.parametrize(
    "persona",
    ["commission_member", "chair", "patient_representative", "dpo", "researcher"],
    indirect=True,
)
def test_only_the_secretariat_answers(client, in_review, conflicted, persona):
    withdrawal = request_interest_withdrawal(project=in_review, by=conflicted, reason=WHY)
    with pytest.raises(Refused):
        answer_interest_withdrawal(withdrawal=withdrawal, by=persona, accept=True)
    login(client, persona)
    assert client.get("/commission/interest-withdrawals/").status_code == 403
    answer = client.post(
        f"/commission/interest-withdrawals/{withdrawal.pk}/answer/",
        {f"withdrawal-{withdrawal.pk}-decision": "accept"},
    )
    assert answer.status_code == 403
    api = login(APIClient(), persona)
    assert api.get("/api/v1/commission/interest-withdrawals/").status_code == 403
    posted = api.post(
        f"/api/v1/commission/interest-withdrawals/{withdrawal.pk}/answer/",
        {"accept": True},
        format="json",
    )
    assert posted.status_code == 403
    withdrawal.refresh_from_db()
    assert withdrawal.status == WithdrawalStatus.PENDING
    assert is_conflicted(conflicted, in_review)
    assert not _events("project.interest_withdrawal_accepted")


def test_the_api_asks_and_answers(in_review, conflicted, secretariat):
    member = login(APIClient(), conflicted)
    base = f"/api/v1/projects/{in_review.pk}/interests/"
    assert member.get(base + "withdrawal/").status_code == 404
    empty = member.post(base + "withdrawal/", {"reason": " "}, format="json")
    assert empty.status_code in (400, 409)
    created = member.post(base + "withdrawal/", {"reason": WHY}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "pending"
    assert member.get(base).json()["withdrawal_status"] == "pending"
    assert member.post(base + "withdrawal/", {"reason": WHY}, format="json").status_code == 409
    assert member.get(f"/api/v1/projects/{in_review.pk}/").status_code == 404

    office = login(APIClient(), secretariat)
    (row,) = office.get("/api/v1/commission/interest-withdrawals/").json()
    assert row["member_id"] == conflicted.pk
    assert row["interest"] == INTEREST
    answer_url = f"/api/v1/commission/interest-withdrawals/{row['id']}/answer/"
    refused = office.post(answer_url, {"accept": False}, format="json")
    assert refused.status_code == 409
    accepted = office.post(answer_url, {"accept": True}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert member.get(base).json()["has_interest"] is False
    assert member.get(f"/api/v1/projects/{in_review.pk}/").status_code == 200
    assert office.post(answer_url, {"accept": True}, format="json").status_code == 409
    assert len(_events("project.interest_withdrawal_accepted")) == 1


def test_nothing_to_withdraw_without_a_declared_interest(
    in_review, commission_member, researcher, make_user, english
):
    with pytest.raises(Refused) as refused:
        request_interest_withdrawal(project=in_review, by=commission_member, reason=WHY)
    assert "You have declared no interest in this project." in refused.value.reasons
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    with pytest.raises(Refused) as refused:
        request_interest_withdrawal(project=in_review, by=colleague, reason=WHY)
    assert any("cannot be withdrawn" in r for r in refused.value.reasons)
    assert not InterestWithdrawal.objects.exists()


def test_a_pending_request_keeps_the_agenda_item_hidden(
    client, item, commission_member, secretariat
):
    declare(item.project, commission_member, interest=True)
    request_interest_withdrawal(project=item.project, by=commission_member, reason=WHY)
    login(client, commission_member)
    url = f"/commission/sessions/{item.session_id}/items/{item.pk}/"
    assert client.get(url).status_code == 404
    answer_interest_withdrawal(
        withdrawal=InterestWithdrawal.objects.get(), by=secretariat, accept=True
    )
    assert client.get(url).status_code == 200


def test_the_secretariat_home_lists_the_requests(client, in_review, conflicted, secretariat):
    request_interest_withdrawal(project=in_review, by=conflicted, reason=WHY)
    login(client, secretariat)
    home = client.get("/").content.decode()
    assert in_review.reference in home
    assert "/commission/interest-withdrawals/" in home


# --- The parties a member judges a conflict against -------------------------------------------


@pytest.fixture
def with_parties(researcher, secretariat, make_user):
    from projects.actions import check_admissibility, create_project, submit_project
    from projects.models import TeamMembership
    from tests.projects.helpers import attach_required, fill_draft

    project = create_project(by=researcher, title="Otites de l'enfant")
    fill_draft(project, researcher)
    save_section(
        project=project,
        section_key="actors",
        raw={
            **VALID_SECTIONS["actors"],
            "controller_name": "Inserm",
            "joint_controllers": "Université de Lille",
            "processors": "DataLab Santé — hébergement\nBiostat Conseil — analyses",
            "funders": "Fondation Enfance\nLaboratoire Pharmakids",
            "analysis_platform": "Plateforme HDS de l'Inserm",
            "data_recipients": f"{researcher.full_name}, Inserm",
        },
        by=researcher,
    )
    analyst = make_user(Role.RESEARCHER, organisation="CHU de Bordeaux")
    TeamMembership.objects.create(project=project, user=analyst, role="analyst")
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    return project


def test_the_declaration_lists_every_party_of_the_protocol(
    client, with_parties, commission_member, researcher
):
    found = {party.kind: party.names for party in parties(with_parties)}
    assert found["controller"] == ("Inserm",)
    assert found["joint_controllers"] == ("Université de Lille",)
    assert found["processors"] == ("DataLab Santé — hébergement", "Biostat Conseil — analyses")
    assert found["funders"] == ("Fondation Enfance", "Laboratoire Pharmakids")
    assert found["platform"] == ("Plateforme HDS de l'Inserm",)
    assert set(found["team"]) == {researcher.organisation, "CHU de Bordeaux"}

    login(client, commission_member)
    page = client.get(f"/projects/{with_parties.pk}/interests/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    for label in ("Data controller", "Processors and laboratories", "Funders"):
        assert label in html
    for name in (
        "Inserm",
        "Université de Lille",
        "DataLab Santé — hébergement",
        "Biostat Conseil — analyses",
        "Fondation Enfance",
        "Laboratoire Pharmakids",
        "CHU de Bordeaux",
        researcher.organisation,
    ):
        assert name in html, name
    api = login(APIClient(), commission_member)
    body = api.get(f"/api/v1/projects/{with_parties.pk}/interests/").json()
    by_kind = {p["kind"]: p["names"] for p in body["parties"]}
    assert by_kind["funders"] == ["Fondation Enfance", "Laboratoire Pharmakids"]
    assert by_kind["processors"] == ["DataLab Santé — hébergement", "Biostat Conseil — analyses"]


def test_no_funding_is_not_a_party(in_review):
    kinds = {party.kind for party in parties(in_review)}
    # VALID_SECTIONS: "Aucun" funder, no processor, no joint controller.
    assert "funders" not in kinds
    assert "processors" not in kinds
    assert {"controller", "team"} <= kinds


def test_the_secretariat_page_query_count_is_pinned(
    client, researcher, secretariat, make_user, django_assert_num_queries
):
    def ask(n):
        for i in range(n):
            project = project_in_review(researcher, secretariat, f"Dossier {i}")
            member = make_user(Role.COMMISSION_MEMBER)
            declare(project, member, interest=True)
            request_interest_withdrawal(project=project, by=member, reason=WHY)

    ask(2)
    login(client, secretariat)
    client.get("/commission/interest-withdrawals/")
    # Session, user, OTP device, roles (4); pending and answered requests (2); session save
    # in its savepoint (3): the same for 2 requests as for 5.
    with django_assert_num_queries(9):
        assert client.get("/commission/interest-withdrawals/").status_code == 200
    ask(3)
    with django_assert_num_queries(9):
        page = client.get("/commission/interest-withdrawals/")
    assert page.content.decode().count('name="withdrawal-') >= 5
