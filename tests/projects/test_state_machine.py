"""The whole state machine of projects/workflow.py, against a table written by hand.

The table below comes from docs/architecture.md ("The protocol's life"), the README and the roles'
descriptions, not from ``workflow.TRANSITIONS``: a test that re-read the implementation could
not fail. For every project status and every kind of actor it says which transitions the
workflow lets through (status and role; the guards are tested apart), then checks that a
refused ``fire`` changes nothing, writes no audit event and schedules nothing, and that an
allowed one moves the project to the documented status with its audit event.
"""

from __future__ import annotations

import pytest
from django.utils import timezone, translation

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects import workflow
from projects.actions import create_project
from projects.models import (
    Decision,
    Project,
    ProjectStatus,
    Recommendation,
    TeamMembership,
    TeamRole,
)
from tests.factories import DecisionFactory
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

S = ProjectStatus

# "Any state before active" (docs/architecture.md): a rejected file is not on the way to
# delivery, so it cannot be withdrawn; nor can one that has received data.
BEFORE_DELIVERY = {
    S.DRAFT,
    S.SUBMITTED,
    S.INCOMPLETE,
    S.UNDER_REVIEW,
    S.CHANGES_REQUESTED,
    S.APPROVED,
    S.FORMALITIES,
    S.PUBLISHED,
}
# A decision is taken on a file under review; a correcting decision (GOV-11) on a decided one.
DECIDABLE = {S.UNDER_REVIEW, S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED}

# name: (statuses it starts from, status it leads to, who may fire it)
EXPECTED: dict[str, tuple[set[ProjectStatus], ProjectStatus, set[str]]] = {
    # Only the lead submits, withdraws and manages the team (projects/permissions.py).
    "submit": ({S.DRAFT, S.INCOMPLETE}, S.SUBMITTED, {"lead"}),
    # A revision asked by the commission goes straight back to it.
    "resubmit": ({S.CHANGES_REQUESTED}, S.UNDER_REVIEW, {"lead"}),
    # Amendments (GOV-13) have their own machine and never change the project's status: no
    # line here (tests/projects/test_amendments.py has their table).
    "withdraw": (BEFORE_DELIVERY, S.WITHDRAWN, {"lead"}),
    # The secretariat checks admissibility.
    "accept_for_review": ({S.SUBMITTED}, S.UNDER_REVIEW, {"secretariat"}),
    "return_incomplete": ({S.SUBMITTED}, S.INCOMPLETE, {"secretariat"}),
    # The chair signs the commission's decisions.
    "approve": (DECIDABLE, S.APPROVED, {"chair"}),
    "request_changes": (DECIDABLE, S.CHANGES_REQUESTED, {"chair"}),
    "reject": (DECIDABLE, S.REJECTED, {"chair"}),
    # The secretariat records the CNIL formalities, then publishes (approved -> formalities ->
    # published).
    "record_formalities": ({S.APPROVED}, S.FORMALITIES, {"secretariat"}),
    "publish": ({S.FORMALITIES}, S.PUBLISHED, {"secretariat"}),
    # After delivery (docs/architecture.md: published -> active -> closed, active -> suspended
    # -> active | closed). The first published dataset makes the project active: the
    # provisioning worker (the system, no user) or the data steward who watches the runs.
    "activate": ({S.PUBLISHED}, S.ACTIVE, {"data_steward"}),
    # The data office or the DPO stop deliveries, with a reason, and let them restart.
    "suspend": ({S.ACTIVE}, S.SUSPENDED, {"secretariat", "dpo"}),
    "resume": ({S.SUSPENDED}, S.ACTIVE, {"secretariat", "dpo"}),
    # The data office closes the project at its end.
    "close": ({S.ACTIVE, S.SUSPENDED}, S.CLOSED, {"secretariat"}),
}
# What the project page offers as buttons: the rest is fired by the pages that record a
# decision or a formality, with what they record.
BUTTONS = {
    "submit",
    "resubmit",
    "withdraw",
    "accept_for_review",
    "return_incomplete",
}

# Every role on its own, with no place in the project's team; then the team, and a researcher
# who leads another project.
ROLE_ACTORS = {
    "researcher": Role.RESEARCHER,
    "secretariat": Role.SECRETARIAT,
    "commission_member": Role.COMMISSION_MEMBER,
    "patient_representative": Role.PATIENT_REPRESENTATIVE,
    "chair": Role.CHAIR,
    "identity_officer": Role.IDENTITY_OFFICER,
    "data_steward": Role.DATA_STEWARD,
    "dpo": Role.DPO,
    "auditor": Role.AUDITOR,
}
TEAM_ACTORS = {
    "lead": TeamRole.LEAD,
    "co_investigator": TeamRole.CO_INVESTIGATOR,
    "analyst": TeamRole.ANALYST,
}
ACTORS = [*ROLE_ACTORS, *TEAM_ACTORS, "researcher_of_another_team", "no_role"]

STATUS_REASON = "Not possible while the project is"
ROLE_REASON = "Your role on this project does not allow it."


def expected_allowed(status: ProjectStatus, actor: str) -> set[str]:
    return {
        name
        for name, (sources, _target, actors) in EXPECTED.items()
        if status in sources and actor in actors
    }


def test_the_table_names_every_transition_of_the_workflow():
    """A transition added to the workflow needs its line in the table above (and vice versa)."""
    assert set(workflow.TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_transition_leads_to_the_documented_status(name):
    assert workflow.TRANSITIONS[name].target == EXPECTED[name][1]


def test_every_status_is_reachable_or_initial():
    reached = {target for _sources, target, _actors in EXPECTED.values()}
    assert set(ProjectStatus) - reached == {S.DRAFT}


# --- Building a project in any status, and any actor -------------------------------------------


def _user(make_user, actor: str, project: Project):
    if actor in ROLE_ACTORS:
        return make_user(ROLE_ACTORS[actor])
    if actor == "no_role":
        return make_user()
    if actor == "lead":
        return project.memberships.get(role=TeamRole.LEAD).user
    user = make_user(Role.RESEARCHER)
    if actor in TEAM_ACTORS:
        TeamMembership.objects.create(project=project, user=user, role=TEAM_ACTORS[actor])
    else:  # researcher_of_another_team
        create_project(by=user, title="Autre projet")
    return user


def _put_in(project: Project, status: ProjectStatus) -> Project:
    # Fixtures only: the application changes a status through workflow.fire alone.
    Project.objects.filter(pk=project.pk).update(
        status=status, withdrawn_at=timezone.now() if status == S.WITHDRAWN else None
    )
    project.refresh_from_db()
    return project


@pytest.fixture
def lead(make_user):
    return make_user(Role.RESEARCHER, full_name="Léa Lead")


def _project(lead, status: ProjectStatus, *, complete: bool = False) -> Project:
    project = create_project(by=lead, title="Machine à états")
    if complete:
        fill_draft(project, lead)
        attach_required(project, lead)
    return _put_in(project, status)


def _decision(project: Project, chair, opinion=Recommendation.FAVOURABLE) -> Decision:
    return DecisionFactory(project=project, opinion=opinion, reasons="Motivée.", signed_by=chair)


def _trail(project: Project) -> int:
    return AuditEvent.objects.filter(
        target_type="projects.project", target_id=str(project.pk)
    ).count()


# --- Who may fire what, from where --------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("status", list(ProjectStatus), ids=lambda s: s.value)
def test_status_and_role_allow_exactly_the_documented_transitions(
    make_user, lead, status, actor, django_capture_on_commit_callbacks
):
    project = _project(lead, status)
    user = _user(make_user, actor, project)
    expected = expected_allowed(status, actor)

    with translation.override("en"):
        allowed = set()
        for name in EXPECTED:
            reasons = [str(reason) for reason in workflow.reasons_against(project, name, user)]
            status_refused = any(r.startswith(STATUS_REASON) for r in reasons)
            role_refused = ROLE_REASON in reasons
            assert status_refused == (status not in EXPECTED[name][0]), (name, reasons)
            assert role_refused == (actor not in EXPECTED[name][2]), (name, reasons)
            if not status_refused and not role_refused:
                allowed.add(name)
    assert allowed == expected
    assert {t.name for t in workflow.available(project, user)} == expected & BUTTONS

    # Every other transition is refused by fire, and a refusal leaves no trace.
    events_before = _trail(project)
    updated_at = project.updated_at
    for name in sorted(set(EXPECTED) - expected):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(workflow.TransitionRefused) as refused,
        ):
            workflow.fire(project, name, by=user, reason="Essai")
        assert refused.value.reasons, name
        assert callbacks == [], name
        project.refresh_from_db()
        assert project.status == status, name
        assert project.updated_at == updated_at, name
        assert (project.withdrawn_at is not None) == (status == S.WITHDRAWN), name
    assert _trail(project) == events_before


# --- What an allowed transition does -----------------------------------------------------------

ALLOWED = sorted(
    (name, status, next(iter(actors)))
    for name, (sources, _target, actors) in EXPECTED.items()
    for status in sources
)
# Statuses a decision exists in (a decided file), and those that follow a favourable one.
DECIDED = {S.APPROVED, S.CHANGES_REQUESTED, S.REJECTED}
AFTER_APPROVAL = {S.APPROVED, S.FORMALITIES, S.PUBLISHED}


@pytest.mark.parametrize(("name", "status", "actor"), ALLOWED, ids=lambda v: str(v))
def test_an_allowed_transition_moves_the_project_and_is_audited(
    make_user, lead, monkeypatch, name, status, actor
):
    project = _project(lead, status, complete=True)
    user = _user(make_user, actor, project)
    if status in DECIDED | AFTER_APPROVAL:
        _decision(project, make_user(Role.CHAIR))
    # The publication's own conditions (formality records, public page) belong to access and
    # are tested there; here only the state machine is.
    monkeypatch.setattr(workflow, "_extra_guards", {}, raising=False)
    events_before = _trail(project)

    workflow.fire(project, name, by=user, reason="Le projet est abandonné.")

    project.refresh_from_db()
    assert project.status == EXPECTED[name][1]
    assert _trail(project) == events_before + 1
    event = AuditEvent.objects.filter(target_id=str(project.pk)).order_by("-seq").first()
    assert event.action == f"project.{name}"
    assert event.actor == user
    assert event.before["status"] == status
    assert event.after["status"] == EXPECTED[name][1]
    assert (project.withdrawn_at is not None) == (name == "withdraw")


# --- Guards -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [("submit", S.DRAFT), ("submit", S.INCOMPLETE), ("resubmit", S.CHANGES_REQUESTED)],
)
def test_an_incomplete_protocol_cannot_be_submitted(lead, name, status, english):
    project = _project(lead, status)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.fire(project, name, by=lead)
    assert "not complete" in str(refused.value)
    project.refresh_from_db()
    assert project.status == status


@pytest.mark.parametrize("status", sorted(AFTER_APPROVAL | {S.ACTIVE}))
def test_an_amendment_must_be_opened_before_it_is_submitted(lead, make_user, status, english):
    project = _project(lead, status, complete=True)
    _decision(project, make_user(Role.CHAIR))
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.fire_amendment(project, "submit_amendment", by=lead)
    assert "Open an amendment first." in refused.value.reasons
    project.refresh_from_db()
    assert project.status == status


def test_no_transition_of_the_project_is_an_amendment():
    """An amendment never moves the project (its access, its lifecycle): its transitions are
    apart, and none of the project's transitions is named after it."""
    assert not set(workflow.TRANSITIONS) & set(workflow.AMENDMENT_TRANSITIONS)
    assert not any("amend" in name for name in workflow.TRANSITIONS)


@pytest.mark.parametrize("name", ["approve", "request_changes", "reject"])
@pytest.mark.parametrize("status", sorted(DECIDED))
def test_a_decided_file_moves_only_with_a_correcting_decision(
    lead, make_user, name, status, english
):
    chair = make_user(Role.CHAIR)
    project = _project(lead, status)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.fire(project, name, by=chair)
    assert "There is no decision to correct." in refused.value.reasons
    _decision(project, chair)
    workflow.fire(project, name, by=chair)
    project.refresh_from_db()
    assert project.status == EXPECTED[name][1]


@pytest.mark.parametrize(
    ("name", "status"), [("record_formalities", S.APPROVED), ("publish", S.FORMALITIES)]
)
def test_formalities_need_a_favourable_opinion(lead, make_user, name, status, english):
    secretariat = make_user(Role.SECRETARIAT)
    chair = make_user(Role.CHAIR)
    project = _project(lead, status)
    with pytest.raises(workflow.TransitionRefused):
        workflow.fire(project, name, by=secretariat)
    _decision(project, chair, opinion=Recommendation.UNFAVOURABLE)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.fire(project, name, by=secretariat)
    assert any("favourable" in str(reason) for reason in refused.value.reasons)
    project.refresh_from_db()
    assert project.status == status


def test_a_refusal_lists_every_reason_at_once(lead, make_user, english):
    """Wrong status and wrong role are both said, so the page can explain the refusal."""
    auditor = make_user(Role.AUDITOR)
    project = _project(lead, S.REJECTED)
    reasons = [str(r) for r in workflow.reasons_against(project, "accept_for_review", auditor)]
    assert len(reasons) == 2
    assert reasons[0].startswith(STATUS_REASON)
    assert reasons[1] == ROLE_REASON


# --- After delivery -----------------------------------------------------------------------------


def test_the_system_activates_a_published_project_without_a_user(lead):
    """The provisioning worker fires "activate" as the system (no actor) at first delivery."""
    project = _project(lead, S.PUBLISHED)
    workflow.fire(project, "activate", by=None, details={"run": 1})
    project.refresh_from_db()
    assert project.status == S.ACTIVE
    event = AuditEvent.objects.filter(target_id=str(project.pk)).order_by("-seq").first()
    assert (event.action, event.actor, event.after["run"]) == ("project.activate", None, 1)


def test_the_system_cannot_fire_any_other_transition(lead):
    project = _project(lead, S.ACTIVE)
    for name in ("suspend", "close"):
        with pytest.raises(workflow.TransitionRefused):
            workflow.fire(project, name, by=None, reason="Audit")


@pytest.mark.parametrize(("name", "status"), [("suspend", S.ACTIVE), ("resume", S.SUSPENDED)])
def test_suspending_and_resuming_need_a_reason_kept_in_the_trail(
    lead, make_user, name, status, english, mailoutbox, django_capture_on_commit_callbacks
):
    dpo = make_user(Role.DPO)
    project = _project(lead, status)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.fire(project, name, by=dpo, reason="   ")
    assert refused.value.reasons == ["Give the reason."]
    project.refresh_from_db()
    assert project.status == status

    with django_capture_on_commit_callbacks(execute=True):
        workflow.fire(project, name, by=dpo, reason="Contrôle de la CNIL en cours.")
    project.refresh_from_db()
    assert project.status == EXPECTED[name][1]
    event = AuditEvent.objects.filter(target_id=str(project.pk)).order_by("-seq").first()
    assert event.after["reason"] == "Contrôle de la CNIL en cours."
    assert any("Contrôle de la CNIL en cours." in message.body for message in mailoutbox)
