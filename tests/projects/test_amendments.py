"""Amendments after approval and after delivery (GOV-13).

The lead of an approved, published or active project opens an amendment: the draft starts again
from the version in force, the team edits it, submits it, and the commission reviews and
decides it as any version. The project keeps its status (its access, its delivered-data
lifecycle) and its decision in force meanwhile; an approved amendment becomes the decision in
force, any other outcome leaves the former one. The amendments' transitions, like the project's,
are checked against a table written by hand (from docs/architecture.md and the brief of the
issue), not read back from ``workflow.AMENDMENT_TRANSITIONS``.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from access.formalities.gates import access_ends_at, add_months, current_decision
from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects import workflow
from projects.actions import save_section
from projects.models import (
    Amendment,
    AmendmentStatus,
    Project,
    ProjectStatus,
    TeamMembership,
    TeamRole,
)
from projects.sessions import actions as sessions
from tests.conftest import login
from tests.projects.amendment_helpers import (
    ADDED_VARIABLE,
    AMENDED_REQUEST,
    decide_in_session,
    submit_amendment,
    write_amendment,
)
from tests.projects.helpers import VALID_SECTIONS
from tests.projects.sessions_helpers import decide

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

S = ProjectStatus
A = AmendmentStatus

# name: (amendment statuses it starts from (None: no amendment pending), status it leads to,
# who may fire it, project statuses it may happen in). A suspended project amends nothing: it
# may only give up an amendment it had (that restores nothing).
AFTER_APPROVAL = {S.APPROVED, S.FORMALITIES, S.PUBLISHED, S.ACTIVE}
EXPECTED = {
    "open_amendment": ({None}, A.OPEN, {"lead"}, AFTER_APPROVAL),
    "submit_amendment": ({A.OPEN, A.CHANGES_REQUESTED}, A.UNDER_REVIEW, {"lead"}, AFTER_APPROVAL),
    "cancel_amendment": (
        {A.OPEN, A.CHANGES_REQUESTED},
        A.CANCELLED,
        {"lead"},
        AFTER_APPROVAL | {S.SUSPENDED},
    ),
    # The chair signs the commission's decision (and a correcting decision on an approved one).
    "approve_amendment": ({A.UNDER_REVIEW, A.APPROVED}, A.APPROVED, {"chair"}, AFTER_APPROVAL),
    "request_amendment_changes": (
        {A.UNDER_REVIEW, A.APPROVED},
        A.CHANGES_REQUESTED,
        {"chair"},
        AFTER_APPROVAL,
    ),
    "refuse_amendment": ({A.UNDER_REVIEW, A.APPROVED}, A.REFUSED, {"chair"}, AFTER_APPROVAL),
}
ACTORS = ["lead", "co_investigator", "analyst", "chair", "secretariat", "dpo", "outsider"]
ROLE_REASON = "Your role on this project does not allow it."


def test_the_table_names_every_amendment_transition():
    assert set(workflow.AMENDMENT_TRANSITIONS) == set(EXPECTED)
    for name, (_sources, target, _actors, _statuses) in EXPECTED.items():
        assert workflow.AMENDMENT_TRANSITIONS[name].target == target


# --- Building a project with a decision in force ------------------------------------------------


@pytest.fixture
def approved(voting, chair, commission_member, django_capture_on_commit_callbacks):
    """A project approved in a session of the commission (its decision in force)."""
    sessions.cast_vote(item=voting, by=commission_member, choice="favourable")
    with django_capture_on_commit_callbacks(execute=True):
        decide(voting, chair)
    project = voting.project
    project.refresh_from_db()
    assert project.status == S.APPROVED
    return project


def _put_in(project: Project, status: ProjectStatus) -> Project:
    # Fixtures only: the application changes a status through workflow.fire alone.
    Project.objects.filter(pk=project.pk).update(status=status)
    project.refresh_from_db()
    return project


@pytest.fixture
def active(approved):
    """Approved, formalities recorded, published, a dataset delivered (tests/access has the
    real way there; here only the protocol's side matters)."""
    return _put_in(approved, S.ACTIVE)


@pytest.fixture
def members(commission_member, patient_representative):
    return [commission_member, patient_representative]


def _actor(make_user, name, project):
    if name == "lead":
        return project.memberships.get(role=TeamRole.LEAD).user
    if name in {"co_investigator", "analyst"}:
        user = make_user(Role.RESEARCHER)
        TeamMembership.objects.create(project=project, user=user, role=name)
        return user
    roles = {
        "chair": [Role.CHAIR, Role.COMMISSION_MEMBER],
        "secretariat": [Role.SECRETARIAT],
        "dpo": [Role.DPO],
        "outsider": [],
    }[name]
    return make_user(*roles)


def _with_amendment(project: Project, status: AmendmentStatus | None) -> Amendment | None:
    """Fixtures only: an amendment in the given status, as the workflow leaves it."""
    if status is None:
        return None
    decision = current_decision(project)
    pending = status in {A.OPEN, A.UNDER_REVIEW, A.CHANGES_REQUESTED}
    amendment = Amendment.objects.create(
        project=project,
        number=1,
        status=status,
        base_decision=decision,
        base_version=decision.version,
        opened_by=project.created_by,
        version=decision.version if status != A.OPEN else None,
        decision=decision if status in {A.APPROVED, A.REFUSED} else None,
        closed_at=None if pending else timezone.now(),
    )
    if status in {A.OPEN, A.CHANGES_REQUESTED}:
        Project.objects.filter(pk=project.pk).update(amendment_opened_at=timezone.now())
        project.refresh_from_db()
    return amendment


AMENDMENT_STATES = [None, *AmendmentStatus]


@pytest.mark.parametrize("amendment_status", AMENDMENT_STATES, ids=lambda s: str(s))
@pytest.mark.parametrize(
    "project_status",
    [S.APPROVED, S.PUBLISHED, S.ACTIVE, S.SUSPENDED, S.CLOSED],
    ids=lambda s: s.value,
)
def test_project_status_amendment_status_and_role_allow_exactly_the_documented_transitions(
    approved, make_user, project_status, amendment_status, english
):
    project = _put_in(approved, project_status)
    amendment = _with_amendment(project, amendment_status)
    for actor in ACTORS:
        user = _actor(make_user, actor, project)
        for name, (sources, _target, actors, statuses) in EXPECTED.items():
            reasons = [
                str(r)
                for r in workflow.amendment_reasons_against(
                    project, name, user, amendment=amendment
                )
            ]
            # The project is complete and approved: the guards add nothing here.
            state_refused = bool(set(reasons) - {ROLE_REASON})
            assert (ROLE_REASON in reasons) == (actor not in actors), (actor, name, reasons)
            state_ok = project_status in statuses and amendment_status in sources
            assert state_refused == (not state_ok), (actor, name, reasons)


def test_a_suspended_project_says_why_it_cannot_amend(approved, english):
    project = _put_in(approved, S.SUSPENDED)
    lead = project.memberships.get(role=TeamRole.LEAD).user
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.open_amendment(project, by=lead)
    assert "The project is suspended: no amendment until it is resumed." in refused.value.reasons
    assert not Amendment.objects.exists()
    assert not project.is_editable


def test_an_amendment_needs_a_favourable_decision_in_force(researcher, chair, english):
    """The guard: a project put in "approved" with no favourable decision has nothing in
    force to amend (a fixture that skips the commission)."""
    from projects.actions import create_project
    from tests.factories import DecisionFactory

    project = _put_in(create_project(by=researcher, title="Sans avis"), S.APPROVED)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.open_amendment(project, by=researcher)
    assert refused.value.reasons == ["Only an approved project can be amended."]
    DecisionFactory(project=project, opinion="unfavourable", signed_by=chair)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.open_amendment(project, by=researcher)
    assert refused.value.reasons == ["Only an approved project can be amended."]
    assert not Amendment.objects.exists()


# --- The whole way: opened, submitted, reviewed in session, decided ---------------------------


def _events(project, prefix="project."):
    return list(
        AuditEvent.objects.filter(target_id=str(project.pk), action__startswith=prefix)
        .order_by("seq")
        .values_list("action", "actor_id", "before", "after")
    )


def test_an_active_project_amends_without_leaving_active(
    active,
    researcher,
    secretariat,
    chair,
    members,
    make_user,
    client,
    django_capture_on_commit_callbacks,
):
    project = active
    base = current_decision(project)
    base_version = base.version
    analyst = make_user(Role.RESEARCHER, full_name="Ana Analyst")
    Notification.objects.all().delete()
    mail.outbox.clear()

    # 1. Opened: the draft starts from the version in force; the status and the decision stay.
    with django_capture_on_commit_callbacks(execute=True):
        amendment = workflow.open_amendment(project, by=researcher)
    project.refresh_from_db()
    assert (project.status, project.is_editable) == (S.ACTIVE, True)
    assert amendment.status == A.OPEN
    assert (amendment.base_decision, amendment.base_version) == (base, base_version)
    assert project.draft.content == {
        k: v for k, v in base_version.content.items() if not k.startswith("_")
    }
    assert current_decision(project) == base
    opened = AuditEvent.objects.filter(action="project.amendment_opened").get()
    assert opened.actor == researcher
    assert opened.after["amendment_status"] == "open"
    assert opened.after["project_status"] == "active"
    assert "status" not in (opened.before or {})  # the pipeline reads no status change
    assert Notification.objects.filter(recipient=researcher, subject__contains=project.reference)

    # 2. Edited (a variable, a longer access, a recipient) and submitted.
    save_section(project=project, section_key="data_request", raw=AMENDED_REQUEST, by=researcher)
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        version = submit_amendment(project, researcher)
    amendment.refresh_from_db()
    assert version.is_amendment
    assert amendment.version == version
    assert amendment.status == A.UNDER_REVIEW
    assert (project.status, project.review_status) == (S.ACTIVE, S.UNDER_REVIEW)
    assert not project.is_editable
    assert current_decision(project) == base  # access continues under the decision in force
    submitted = AuditEvent.objects.filter(action="project.submit_amendment").get()
    assert submitted.before == {"amendment_status": "open"}
    assert submitted.after["version"] == version.number
    assert any(secretariat.email in m.to for m in mail.outbox)  # the data office hears of it

    # 3. The comparison shows what the amendment changes against the version in force.
    login(client, researcher)
    page = client.get(f"/projects/{project.pk}/compare/?new={version.number}")
    assert page.status_code == 200
    assert page.context["old"] == base_version
    assert page.context["amends"] is True
    changed = {
        row["code"]
        for block in page.context["blocks"]
        for table in block["tables"]
        for row in table["rows"]
        if row["code"]
    }
    assert ADDED_VARIABLE in changed
    assert page.context["substantial"]  # new variable, longer access: substantial (GOV-13)

    # 4. Decided in session: the amended specification is in force, the project still active.
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide_in_session(project, secretariat=secretariat, chair=chair, members=members)
    amendment.refresh_from_db()
    assert (amendment.status, amendment.decision) == (A.APPROVED, decision)
    assert amendment.closed_at is not None
    assert project.status == S.ACTIVE
    assert project.review_status == S.ACTIVE
    assert current_decision(project) == decision
    spec = decision.approved_specification
    assert ADDED_VARIABLE in {v["code"] for v in spec["variables"]}
    assert analyst.pk in {r["user_id"] for r in spec["recipients"]}
    # GOV-13: the duration changes the end, not the start, of the access period.
    assert spec["access_from"] == base.decided_at.isoformat()
    assert access_ends_at(decision) == add_months(base.decided_at, 36)
    approved_event = AuditEvent.objects.filter(action="project.approve_amendment").get()
    assert approved_event.actor == chair
    assert approved_event.before == {"amendment_status": "under_review"}
    assert approved_event.after["decision"] == decision.number
    assert AuditEvent.objects.filter(
        action="decision.recorded", after__number=decision.number
    ).exists()
    assert not AuditEvent.objects.filter(
        action__in=["project.approve", "project.reject", "project.request_changes"],
        target_id=str(project.pk),
        after__decision=decision.number,
    ).exists()
    told = Notification.objects.filter(recipient=researcher, body__contains=decision.number)
    assert told.exists()


def test_a_refused_amendment_leaves_the_former_specification_in_force(
    active, researcher, secretariat, chair, members, django_capture_on_commit_callbacks
):
    project = active
    base = current_decision(project)
    write_amendment(project, researcher)
    submit_amendment(project, researcher)
    decision = decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        opinion="unfavourable",
        capture=django_capture_on_commit_callbacks,
    )
    amendment = project.amendments.get()
    assert (amendment.status, amendment.decision) == (A.REFUSED, decision)
    assert project.status == S.ACTIVE  # never "rejected": the project keeps its approval
    assert current_decision(project) == base
    assert access_ends_at(current_decision(project)) == access_ends_at(base)
    assert project.decisions.count() == 2  # the refusal is on record, never in force
    refused = AuditEvent.objects.filter(action="project.refuse_amendment").get()
    assert refused.after["decision"] == decision.number
    # The team can open another one, from the version in force again.
    again = workflow.open_amendment(project, by=researcher)
    assert (again.number, again.base_version) == (2, base.version)


def test_changes_requested_on_an_amendment_reopen_its_draft(
    active, researcher, secretariat, chair, members, make_user, django_capture_on_commit_callbacks
):
    project = active
    base = current_decision(project)
    write_amendment(project, researcher)
    first = submit_amendment(project, researcher)
    decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        opinion="changes_requested",
        reasons="Justifier la durée supplémentaire.",
        capture=django_capture_on_commit_callbacks,
    )
    amendment = project.amendments.get()
    assert amendment.status == A.CHANGES_REQUESTED
    assert project.status == S.ACTIVE
    assert project.review_status == S.CHANGES_REQUESTED
    assert project.is_editable
    assert current_decision(project) == base
    second = submit_amendment(project, researcher)
    amendment.refresh_from_db()
    assert (amendment.status, amendment.version) == (A.UNDER_REVIEW, second)
    assert second.number == first.number + 1
    decision = decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        capture=django_capture_on_commit_callbacks,
    )
    assert current_decision(project) == decision
    assert decision.version == second


def test_a_correction_of_an_approved_amendment_to_unfavourable_restores_the_former_decision(
    active, researcher, secretariat, chair, members, english
):
    """GOV-11: a decision is corrected by a new one; correcting the amendment's approval into a
    refusal leaves the decision it amended in force again, the project still active."""
    from projects.sessions.decisions import record_decision
    from tests.projects.sessions_helpers import approve_all

    project = active
    base = current_decision(project)
    write_amendment(project, researcher)
    version = submit_amendment(project, researcher)
    approval = decide_in_session(project, secretariat=secretariat, chair=chair, members=members)
    assert current_decision(project) == approval
    correction = record_decision(
        project=project,
        by=chair,
        opinion="unfavourable",
        reasons="Erreur matérielle : la commission avait refusé l'amendement.",
        variable_decisions=approve_all(version),
        supersedes=approval,
    )
    project.refresh_from_db()
    amendment = project.amendments.get()
    assert (amendment.status, amendment.decision) == (A.REFUSED, correction)
    assert current_decision(project) == base
    assert project.status == S.ACTIVE
    event = AuditEvent.objects.filter(action="project.refuse_amendment").get()
    assert event.before == {"amendment_status": "approved"}


def test_the_written_procedure_decides_an_amendment_of_an_active_project(
    active, researcher, secretariat, chair, commission_member, rapporteur, english
):
    from projects.sessions.decisions import (
        open_written_procedure,
        record_decision,
        record_written_opinion,
    )
    from tests.projects.sessions_helpers import approve_all, assign, declare

    project = active
    write_amendment(project, researcher)
    version = submit_amendment(project, researcher)
    assign(project, commission_member, secretariat)
    assign(project, rapporteur, secretariat)
    declare(project, chair, commission_member, rapporteur)
    procedure = open_written_procedure(project=project, by=chair)
    for member in (chair, commission_member, rapporteur):
        record_written_opinion(procedure=procedure, by=member, choice="favourable")
    decision = record_decision(
        project=project,
        by=chair,
        opinion="favourable",
        reasons="Modification mineure.",
        variable_decisions=approve_all(version),
        written_procedure=procedure,
    )
    project.refresh_from_db()
    assert project.status == S.ACTIVE
    assert project.amendments.get().status == A.APPROVED
    assert current_decision(project) == decision


# --- Suspension, closure, cancellation -----------------------------------------------------------


def test_a_suspension_freezes_the_amendment_and_the_commission_cannot_decide_it(
    active, researcher, secretariat, chair, members, dpo, english
):
    project = active
    write_amendment(project, researcher)
    submit_amendment(project, researcher)
    workflow.fire(project, "suspend", by=dpo, reason="Contrôle en cours.")
    project.refresh_from_db()
    assert project.status == S.SUSPENDED
    assert project.review_status == S.SUSPENDED  # not "under review" around the suspension
    session = sessions.create_session(by=secretariat, date=timezone.now())
    with pytest.raises(sessions.Refused) as refused:
        sessions.add_to_agenda(session=session, project=project, by=secretariat)
    assert "Only a project under review can be put on the agenda." in refused.value.reasons
    assert project.amendments.get().status == A.UNDER_REVIEW
    # Resumed: the review goes on, and the decision applies.
    workflow.fire(project, "resume", by=dpo, reason="Contrôle terminé.")
    project.refresh_from_db()
    decision = decide_in_session(project, secretariat=secretariat, chair=chair, members=members)
    assert current_decision(project) == decision
    assert project.status == S.ACTIVE


def test_closing_the_project_ends_its_pending_amendment(
    active, researcher, secretariat, english, settings
):
    # The lead's final report, required to close, is tested in tests/access/test_outputs.py.
    settings.EDS_CLOSEOUT_REPORT_REQUIRED = False
    project = active
    write_amendment(project, researcher)
    workflow.fire(project, "close", by=secretariat, reason="Fin de l'étude.")
    project.refresh_from_db()
    amendment = project.amendments.get()
    assert amendment.status == A.CANCELLED
    assert project.amendment_opened_at is None
    assert not project.is_editable
    event = AuditEvent.objects.filter(action="project.cancel_amendment").get()
    assert event.actor is None  # the system, with the closure
    assert event.after["project_status"] == "closed"


def test_the_lead_cancels_an_amendment_and_what_was_typed_is_kept(active, researcher, english):
    project = active
    base = current_decision(project)
    write_amendment(project, researcher)
    typed = project.draft.__class__.objects.get(project=project).content
    assert typed["data_request"]["access_months"] == "36"
    amendment = workflow.cancel_amendment(project, by=researcher)
    project.refresh_from_db()
    assert amendment.status == A.CANCELLED
    assert amendment.kept_draft == typed
    assert project.draft.content["data_request"] == base.version.content["data_request"]
    assert not project.is_editable
    assert project.status == S.ACTIVE
    assert AuditEvent.objects.filter(action="project.cancel_amendment", actor=researcher).exists()


def test_an_amendment_under_review_cannot_be_cancelled_or_opened_twice(active, researcher, english):
    project = active
    write_amendment(project, researcher)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.open_amendment(project, by=researcher)
    assert "An amendment is already in progress." in refused.value.reasons
    submit_amendment(project, researcher)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.cancel_amendment(project, by=researcher)
    assert "Not possible while the amendment is “Under review”." in refused.value.reasons
    assert Amendment.objects.count() == 1


# --- Pages, and who may use them -----------------------------------------------------------------


def test_the_lead_opens_and_cancels_an_amendment_from_the_project_page(client, active, researcher):
    login(client, researcher)
    page = client.get(f"/projects/{active.pk}/")
    assert page.context["can_open_amendment"]
    assert f"/projects/{active.pk}/amendment/" in page.content.decode()
    assert client.post(f"/projects/{active.pk}/amendment/").status_code == 302
    page = client.get(f"/projects/{active.pk}/")
    assert page.context["amendment"].status == A.OPEN
    assert page.context["can_cancel_amendment"]
    assert f"/projects/{active.pk}/amendment/cancel/" in page.content.decode()
    assert client.post(f"/projects/{active.pk}/amendment/cancel/").status_code == 302
    assert Amendment.objects.get().status == A.CANCELLED


@pytest.fixture
def team_member(make_user, active):
    user = make_user(Role.RESEARCHER, full_name="Colin Co-investigator")
    TeamMembership.objects.create(project=active, user=user, role=TeamRole.CO_INVESTIGATOR)
    return user


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("team_member", 403),  # sees the project, may not amend it (the lead submits)
        ("outsider", 404),  # may not know the project exists
        ("commission_member", 403),  # reads the file, never amends it
        ("data_steward", 404),
    ],
)
def test_only_the_lead_may_open_or_cancel_an_amendment(
    client, active, researcher, request, who, expected
):
    user = request.getfixturevalue(who)
    login(client, user)
    assert client.post(f"/projects/{active.pk}/amendment/").status_code == expected
    assert not Amendment.objects.exists()
    workflow.open_amendment(active, by=researcher)
    assert client.post(f"/projects/{active.pk}/amendment/cancel/").status_code == expected
    assert Amendment.objects.get().status == A.OPEN
    assert not AuditEvent.objects.filter(action="project.cancel_amendment").exists()


def test_a_team_member_edits_the_amendment_but_does_not_submit_it(
    client, active, researcher, team_member
):
    workflow.open_amendment(active, by=researcher)
    login(client, team_member)
    page = client.get(f"/projects/{active.pk}/")
    assert not page.context["can_cancel_amendment"]
    assert "amendment/cancel/" not in page.content.decode()
    response = client.post(f"/projects/{active.pk}/sections/data_request/", AMENDED_REQUEST)
    assert response.status_code in (200, 302)
    active.refresh_from_db()
    assert active.draft.content["data_request"]["access_months"] == "36"
    assert client.post(f"/projects/{active.pk}/submit/").status_code == 403
    assert Amendment.objects.get().status == A.OPEN


def test_the_commission_reads_the_amendment_under_review(
    client, active, researcher, commission_member
):
    write_amendment(active, researcher)
    submit_amendment(active, researcher)
    login(client, commission_member)  # declared no interest in the first review
    assert client.get(f"/projects/{active.pk}/").status_code == 200
    compare = client.get(f"/projects/{active.pk}/compare/")
    assert compare.status_code == 200
    assert compare.context["old"].number == 1
    assert compare.context["new"].number == 2


def test_the_draft_of_an_amendment_is_not_editable_before_it_is_opened(client, active, researcher):
    login(client, researcher)
    response = client.post(f"/projects/{active.pk}/sections/purpose/", VALID_SECTIONS["purpose"])
    assert response.status_code == 403
    assert not active.is_editable
