"""Projects, drafts that lose nothing, completeness, submission and versions (GOV-05, GOV-12)."""

from __future__ import annotations

import pytest
from django.core import mail

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects import workflow
from projects.actions import create_project, save_section, submit_project, withdraw_project
from projects.completeness import missing_items
from projects.models import Project, ProjectStatus, ProtocolVersion
from projects.regulatory_route import propose_route
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites")


@pytest.fixture
def complete_project(project, researcher):
    fill_draft(project, researcher)
    attach_required(project, researcher)
    return project


def test_creating_a_project_makes_its_author_lead_and_is_audited(client, researcher):
    login(client, researcher)
    response = client.post("/projects/new/", {"title": "  Étude bronchiolite  "})
    project = Project.objects.get()
    assert response.status_code == 302
    assert response.url == f"/projects/{project.pk}/"
    assert project.reference.startswith("EDS-")
    assert project.title == "Étude bronchiolite"
    assert project.memberships.get().role == "lead"
    assert AuditEvent.objects.filter(action="project.created", actor=researcher).exists()


def test_references_are_sequential(researcher):
    first = create_project(by=researcher, title="A")
    second = create_project(by=researcher, title="B")
    assert int(second.reference[-4:]) == int(first.reference[-4:]) + 1


def test_a_section_saved_with_errors_keeps_everything_typed(client, researcher, project):
    login(client, researcher)
    url = f"/projects/{project.pk}/sections/methodology/"
    typed = {
        "methodology": "Une longue méthodologie " * 20,
        "population": "",
        "planned_start": "2026-05-01",
        "planned_end": "2026-01-01",
    }
    response = client.post(url, typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "field--error" in html
    project.draft.refresh_from_db()
    assert project.draft.content["methodology"] == typed
    # Coming back later shows the same text and the same errors.
    again = client.get(url).content.decode()
    assert "Une longue méthodologie" in again
    assert 'value="2026-05-01"' in again
    assert "field--error" in again


def test_saving_a_valid_section_goes_on_to_the_next_one(client, researcher, project):
    login(client, researcher)
    response = client.post(
        f"/projects/{project.pk}/sections/identification/",
        {**VALID_SECTIONS["identification"], "action": "next"},
    )
    assert response.status_code == 302
    assert response.url == f"/projects/{project.pk}/sections/purpose/"
    project.refresh_from_db()
    assert project.title == VALID_SECTIONS["identification"]["lay_title"]


def test_text_typed_when_the_session_expired_is_given_back(client, researcher, project):
    url = f"/projects/{project.pk}/sections/purpose/"
    response = client.post(url, {"objectives": "Mon texte si long à retaper"})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    project.draft.refresh_from_db()
    assert "purpose" not in project.draft.content  # nothing saved without a session
    client.post(
        "/accounts/login/", {"username": researcher.email, "password": "correct-horse-battery-12"}
    )
    html = client.get(url).content.decode()
    assert "Mon texte si long à retaper" in html
    # Once shown back, it is the form's ordinary content.
    assert "Mon texte si long à retaper" not in client.get(url).content.decode()


def test_completeness_lists_every_missing_item_with_a_link(researcher, project):
    items = missing_items(project)
    sections = {item.section for item in items}
    assert {
        "purpose",
        "methodology",
        "actors",
        "information",
        "route",
        "data_request",
        "attachments",
    } <= sections
    fill_draft(project, researcher, except_sections=("actors",))
    items = missing_items(project)
    assert {item.section for item in items} == {"actors", "attachments"}
    assert all(item.url.startswith(f"/projects/{project.pk}/") for item in items)


@pytest.mark.parametrize(
    ("section", "change", "field"),
    [
        ("purpose", {"prohibited_purposes": ""}, "prohibited_purposes"),
        ("information", {"exception_reason": ""}, "exception_reason"),
        ("data_request", {"just__person.sex": ""}, "just__person.sex"),
        ("data_request", {"access_months": "61"}, "access_months"),
        (
            "data_request",
            {"var__call.notes": "on", "just__call.notes": "x", "gen__call.notes": "excluded"},
            "gen__call.notes",
        ),
        (
            "data_request",
            {"var__call.notes": "on", "just__call.notes": "x", "gen__call.notes": "scrubbed"},
            "free_text_justification",
        ),
        ("data_request", {"icpc2_codes": "ZZ9"}, "__all__"),
        ("route", {"linkage_other_sources": "yes"}, "route_confirmed"),
    ],
)
def test_field_rules(researcher, project, section, change, field):
    fill_draft(project, researcher)
    save_section(
        project=project,
        section_key=section,
        raw={**VALID_SECTIONS[section], **change},
        by=researcher,
    )
    from projects.sections import BY_KEY, bound_form

    project.draft.refresh_from_db()
    form = bound_form(BY_KEY[section], project.draft.content)
    assert not form.is_valid()
    assert field in form.errors


def test_submission_freezes_a_version_audits_and_notifies(
    client, researcher, secretariat, complete_project, django_capture_on_commit_callbacks
):
    login(client, researcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/projects/{complete_project.pk}/submit/")
    assert response.status_code == 302
    version = ProtocolVersion.objects.get(project=complete_project)
    assert response.url == f"/projects/{complete_project.pk}/versions/1/"
    complete_project.refresh_from_db()
    assert complete_project.status == ProjectStatus.SUBMITTED
    assert version.content["identification"] == VALID_SECTIONS["identification"]
    assert [a["kind"] for a in version.content["_attachments"]]
    assert version.attachments.count() == 3
    event = AuditEvent.objects.get(action="project.submit")
    assert event.after["version"] == 1
    assert event.after["content_sha256"] == version.content_sha256
    recipients = {address for message in mail.outbox for address in message.to}
    assert secretariat.email in recipients
    assert researcher.email in recipients
    # The draft is no longer editable.
    edit = client.post(f"/projects/{complete_project.pk}/sections/purpose/", {"objectives": "x"})
    assert edit.status_code == 403


def test_an_incomplete_draft_cannot_be_submitted(client, researcher, project):
    login(client, researcher)
    page = client.get(f"/projects/{project.pk}/submit/").content.decode()
    assert "missing-list" in page
    response = client.post(f"/projects/{project.pk}/submit/")
    assert response.status_code == 302
    assert not ProtocolVersion.objects.exists()
    project.refresh_from_db()
    assert project.status == ProjectStatus.DRAFT


def test_versions_are_immutable(researcher, complete_project):
    version = submit_project(project=complete_project, by=researcher)
    version.content = {"changed": True}
    with pytest.raises(PermissionError):
        version.save()
    with pytest.raises(PermissionError):
        version.delete()


def test_a_revision_makes_a_second_version_back_to_review(researcher, complete_project):
    submit_project(project=complete_project, by=researcher)
    # The commission's side asks for changes; simulate its transition.
    Project.objects.filter(pk=complete_project.pk).update(status=ProjectStatus.CHANGES_REQUESTED)
    complete_project.refresh_from_db()
    save_section(
        project=complete_project,
        section_key="purpose",
        raw={**VALID_SECTIONS["purpose"], "objectives": "Objectifs révisés"},
        by=researcher,
    )
    second = submit_project(project=complete_project, by=researcher)
    complete_project.refresh_from_db()
    assert second.number == 2
    assert complete_project.status == ProjectStatus.UNDER_REVIEW
    first = complete_project.versions.get(number=1)
    assert first.content["purpose"]["objectives"] != second.content["purpose"]["objectives"]


def test_only_the_lead_submits(client, make_user, complete_project):
    from projects.models import TeamMembership

    colleague = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=complete_project, user=colleague, role="co_investigator")
    login(client, colleague)
    assert client.post(f"/projects/{complete_project.pk}/submit/").status_code == 403
    # ... but a co-investigator edits.
    response = client.post(
        f"/projects/{complete_project.pk}/sections/purpose/", VALID_SECTIONS["purpose"]
    )
    assert response.status_code == 302


def test_withdrawal_needs_a_reason_and_is_audited(client, researcher, project):
    with pytest.raises(workflow.TransitionRefused):
        withdraw_project(project=project, by=researcher, reason="  ")
    login(client, researcher)
    response = client.post(f"/projects/{project.pk}/withdraw/", {"reason": "Financement perdu"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.WITHDRAWN
    assert project.withdrawal_reason == "Financement perdu"
    event = AuditEvent.objects.get(action="project.withdraw")
    # The free text stays on the project, not in the append-only trail (LOG-04).
    assert "Financement" not in str(event.after)
    assert event.after["reason_length"] == len("Financement perdu")
    with pytest.raises(workflow.TransitionRefused):
        withdraw_project(project=project, by=researcher, reason="again")


@pytest.mark.parametrize(
    ("answers", "route", "possible"),
    [
        ({"involves_human_person": "yes", "needs_consent": "yes"}, "mr001", False),
        ({"involves_human_person": "yes", "needs_consent": "no"}, "mr003", False),
        ({"internal_use": "feasibility"}, "internal", True),
        ({"internal_use": "indicators", "linkage_other_sources": "yes"}, "authorisation", True),
        ({"linkage_other_sources": "yes"}, "authorisation", True),
        ({"data_outside_reference": "yes"}, "authorisation", True),
        ({"processing_outside_eu": "yes"}, "not_possible", False),
        ({}, "mr004", True),
    ],
)
def test_route_triage(answers, route, possible):
    base = {
        "involves_human_person": "no",
        "internal_use": "none",
        "linkage_other_sources": "no",
        "data_outside_reference": "no",
        "processing_outside_eu": "no",
        "needs_consent": "no",
    }
    proposal = propose_route({**base, **answers})
    assert proposal.route == route
    assert proposal.possible_here is possible
    assert proposal.reasons


def test_consent_flag_follows_the_route_answers(researcher, project):
    save_section(
        project=project,
        section_key="route",
        raw={**VALID_SECTIONS["route"], "needs_consent": "yes"},
        by=researcher,
    )
    project.refresh_from_db()
    assert project.requires_consent


@pytest.mark.parametrize("persona", ["secretariat", "dpo"], indirect=True)
def test_staff_may_read_but_not_edit(client, persona, complete_project):
    login(client, persona)
    assert client.get(f"/projects/{complete_project.pk}/").status_code == 200
    assert client.get(f"/projects/{complete_project.pk}/sections/purpose/").status_code == 403
    assert client.post(f"/projects/{complete_project.pk}/submit/").status_code == 403


@pytest.mark.parametrize(
    "persona",
    ["commission_member", "identity_officer", "data_steward", "auditor", "outsider"],
    indirect=True,
)
def test_strangers_get_404(client, persona, complete_project):
    login(client, persona)
    for url in ("", "sections/purpose/", "submit/", "withdraw/"):
        assert client.get(f"/projects/{complete_project.pk}/{url}").status_code in (403, 404)
    assert client.get(f"/projects/{complete_project.pk}/").status_code in (403, 404)


def test_another_researcher_gets_404(client, make_user, complete_project):
    other = make_user(Role.RESEARCHER)
    login(client, other)
    assert client.get(f"/projects/{complete_project.pk}/").status_code == 404
    assert client.get(f"/projects/{complete_project.pk}/sections/purpose/").status_code == 404
    assert complete_project.reference not in client.get("/projects/").content.decode()


def test_project_list_query_count_is_pinned(client, researcher, django_assert_num_queries):
    for i in range(5):
        create_project(by=researcher, title=f"P{i}")
    login(client, researcher)
    client.get("/projects/")
    # Session, user, roles, the projects with their counts, my memberships, session save (3):
    # the same for 5 projects as for 500.
    with django_assert_num_queries(8):
        client.get("/projects/")


def test_demo_projects_in_several_states(capsys):
    from django.core.management import call_command

    call_command("load_demo")
    call_command("load_demo_projects")
    call_command("load_demo_projects")
    statuses = sorted(Project.objects.values_list("status", flat=True))
    assert statuses == [
        "approved",
        "draft",
        "submitted",
        "submitted",
        "under_review",
        "withdrawn",
    ]
    assert ProtocolVersion.objects.count() == 5
    revised = Project.objects.get(title__startswith="Fièvre")
    assert revised.versions.count() == 2
    # The commission's side: two rapporteurs on the file under review, one review submitted;
    # the decided file went through a session with its quorum, one variable refused.
    from projects.models import Decision, RapporteurAssignment, Review
    from projects.sessions.decisions import approved_specification

    in_review = Project.objects.get(status="under_review")
    assert RapporteurAssignment.objects.filter(project=in_review).count() == 2
    assert Review.objects.filter(project=in_review, submitted_at__isnull=False).count() == 1
    decision = Decision.objects.get()
    assert decision.number.startswith("CSE-")
    assert decision.agenda_item.session.attendance.filter(present=True).count() == 4
    specification = approved_specification(decision.project)
    assert [v["code"] for v in specification["refused"]] == ["diagnosis.icpc2"]
    delivered = {v["code"] for v in specification["variables"]}
    # Sex, birth year, the ICD-10 diagnosis (enough for the study) and the outcome.
    assert delivered == {"person.sex", "person.birth_date", "diagnosis.icd10", "outcome.kind"}


def _approved(project, researcher):
    from tests.factories import DecisionFactory

    version = submit_project(project=project, by=researcher)
    # The commission's decision comes with the review module; stand in for it here.
    DecisionFactory(project=project, version=version)
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.APPROVED)
    project.refresh_from_db()
    return project


def test_an_amendment_after_approval_goes_to_the_commission(client, researcher, complete_project):
    project = _approved(complete_project, researcher)
    assert not project.is_editable
    login(client, researcher)
    assert client.post(f"/projects/{project.pk}/sections/purpose/", {}).status_code == 403
    response = client.post(f"/projects/{project.pk}/amendment/")
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.is_editable
    assert project.status == ProjectStatus.APPROVED  # the approval stays in force meanwhile
    save_section(
        project=project,
        section_key="data_request",
        raw={**VALID_SECTIONS["data_request"], "access_months": "36"},
        by=researcher,
    )
    version = submit_project(project=project, by=researcher)
    project.refresh_from_db()
    assert version.number == 2
    assert version.is_amendment
    # GOV-13: the amendment is under review, the project keeps its status (and its access).
    assert project.status == ProjectStatus.APPROVED
    assert project.review_status == ProjectStatus.UNDER_REVIEW
    assert project.pending_amendment().version == version
    assert project.amendment_opened_at is None
    assert not project.is_editable
    actions = list(
        AuditEvent.objects.filter(target_id=str(project.pk)).values_list("action", flat=True)
    )
    assert "project.amendment_opened" in actions
    assert "project.submit_amendment" in actions


def test_amendments_are_refused_before_approval_and_to_others(
    make_user, researcher, complete_project
):
    with pytest.raises(workflow.TransitionRefused):
        workflow.open_amendment(complete_project, by=researcher)  # still a draft
    project = _approved(complete_project, researcher)
    colleague = make_user(Role.RESEARCHER)
    from projects.models import TeamMembership

    TeamMembership.objects.create(project=project, user=colleague, role="co_investigator")
    with pytest.raises(workflow.TransitionRefused):
        workflow.open_amendment(project, by=colleague)
    workflow.open_amendment(project, by=researcher)
    with pytest.raises(workflow.TransitionRefused):
        workflow.open_amendment(project, by=researcher)


@pytest.mark.parametrize("status", list(ProjectStatus))
@pytest.mark.parametrize(
    "name",
    [
        "submit",
        "resubmit",
        "withdraw",
        "accept_for_review",
        "return_incomplete",
    ],
)
def test_every_transition_from_every_status(
    researcher, secretariat, make_user, project, status, name
):
    """Only the listed sources allow a transition, and only for its roles."""
    from projects.models import TeamMembership

    colleague = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=project, user=colleague, role="co_investigator")
    from django.utils import timezone

    Project.objects.filter(pk=project.pk).update(
        status=status, withdrawn_at=timezone.now() if status == ProjectStatus.WITHDRAWN else None
    )
    project.refresh_from_db()
    transition = workflow.TRANSITIONS[name]
    allowed_people = (
        [secretariat] if name in {"accept_for_review", "return_incomplete"} else [researcher]
    )
    for person in (researcher, colleague, secretariat):
        reasons = workflow.reasons_against(project, name, person)
        state_ok = status in transition.sources
        role_ok = person in allowed_people
        if not (state_ok and role_ok):
            assert reasons, (person, status, name)
            with pytest.raises(workflow.TransitionRefused):
                workflow.fire(project, name, by=person, reason="x")
    project.refresh_from_db()
    assert project.status == status
    if status in transition.sources and not transition.guard(project):
        workflow.fire(project, name, by=allowed_people[0], reason="x")
        project.refresh_from_db()
        assert project.status == transition.target


def test_revoking_the_role_ends_access_to_the_project(client, researcher, project):
    from eds_portal.actions import revoke_role

    login(client, researcher)
    assert client.get(f"/projects/{project.pk}/").status_code == 200
    revoke_role(user=researcher, role=Role.RESEARCHER)
    for url in ("", "sections/purpose/", "team/", "attachments/"):
        assert client.get(f"/projects/{project.pk}/{url}").status_code == 404, url
    assert client.post(f"/projects/{project.pk}/sections/purpose/", {}).status_code == 404


@pytest.mark.django_db(
    transaction=True, databases=["default", "warehouse"], serialized_rollback=True
)
def test_concurrent_creations_get_distinct_references(make_user):
    """Several researchers creating projects at the same moment (PostgreSQL: threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    users = [make_user(Role.RESEARCHER) for _ in range(6)]

    def create(user):
        try:
            return create_project(by=user, title="Concurrent").reference
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=6) as pool:
        references = list(pool.map(create, users))
    assert len(set(references)) == 6
