"""Amendments and the data (GOV-13, MIN-01, MIN-13): what leaves while an amendment is pending,
once it is approved, once it is refused.

While the commission has not approved an amendment, every download, every run and every
recipient stays those of the decision in force. An approved amendment becomes the decision in
force: a run is queued at once to deliver it and replaces the earlier dataset by the house's
rules (superseded, links refused naming the replacement); its access period sets the end of
access. A refused one changes nothing. The public page shows the amendment's outcome.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access.formalities.gates import add_months, current_decision
from access.models_provisioning import ProvisioningRun, RunPart, RunStatus
from access.models_transparency import PublicPage
from access.provisioning import links, publication, runs, selectors, serving
from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects.models import AmendmentStatus, ProjectStatus, TeamMembership, TeamRole
from projects.team_actions import remove_member
from tests.access.provisioning_helpers import DBS, VARIABLES, published, run_everything
from tests.conftest import login
from tests.projects.amendment_helpers import (
    ADDED_VARIABLE,
    decide_in_session,
    submit_amendment,
    write_amendment,
)
from tests.projects.helpers import VALID_SECTIONS

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]

# The amendment: the pseudonym and one more variable, the whole warehouse as cohort (the tiny
# generated one has few infants with a bronchiolitis).
REQUEST = {
    **VALID_SECTIONS["data_request"],
    "icpc2_codes": "",
    "age_max": "",
    "var__person.pseudonym": "on",
    "just__person.pseudonym": "Relier les tables.",
    "gen__person.pseudonym": "exact",
    f"var__{ADDED_VARIABLE}": "on",
    f"just__{ADDED_VARIABLE}": "Savoir si le patient est adressé aux urgences.",
    f"gen__{ADDED_VARIABLE}": "exact",
    "access_months": "36",
}


@pytest.fixture(autouse=True)
def _english_messages(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def researcher(make_user):
    """The lead, a named recipient enrolled in two-factor login."""
    return make_user(
        Role.RESEARCHER, full_name="Rita Researcher", email="rita@inserm.example", device=True
    )


@pytest.fixture
def colleague(make_user):
    """A co-investigator named as a recipient by the decision in force."""
    return make_user(Role.RESEARCHER, full_name="Colin Colleague", device=True)


@pytest.fixture
def analyst(make_user):
    """Joins the team with the amendment: a recipient only once it is approved."""
    return make_user(Role.RESEARCHER, full_name="Ana Analyst", device=True)


@pytest.fixture
def members(commission_member, patient_representative):
    return [commission_member, patient_representative]


@pytest.fixture
def project(researcher, colleague, secretariat, chair):
    project = published(
        researcher,
        secretariat,
        chair,
        recipients=[(researcher, "lead"), (colleague, "co_investigator")],
    )
    TeamMembership.objects.create(project=project, user=colleague, role=TeamRole.CO_INVESTIGATOR)
    return project


@pytest.fixture
def run(project, data_steward, django_capture_on_commit_callbacks):
    """The dataset delivered under the decision in force: the project is active."""
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    return run


def _amend(project, researcher, analyst, **request):
    write_amendment(project, researcher, data_request={**REQUEST, **request}, analyst=analyst)
    return submit_amendment(project, researcher)


def _status(client, user, run, name="person.csv") -> int:
    login(client, user)
    response = client.get(links.download_url(run, name, user))
    for closer in getattr(response, "_resource_closers", []):
        closer()
    return response.status_code


def _codes(run) -> set[str]:
    return {entry["code"] for entry in run.manifest["specification"]["variables"]}


# --- Pending: the decision in force governs ------------------------------------------------------


def test_a_pending_amendment_changes_no_download_no_run_and_no_recipient(
    client,
    project,
    run,
    researcher,
    colleague,
    analyst,
    data_steward,
    django_capture_on_commit_callbacks,
):
    base = current_decision(project)
    _amend(project, researcher, analyst)
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    assert project.amendments.get().status == AmendmentStatus.UNDER_REVIEW

    # The recipients of the decision in force download; the one the amendment adds does not.
    assert _status(client, researcher, run) == 200
    assert _status(client, colleague, run) == 200
    assert _status(client, analyst, run) == 404
    assert serving.may_serve(analyst, run).refusal == serving.Refusal.UNKNOWN

    # A run now executes the decision in force: the variable the amendment adds does not leave.
    with django_capture_on_commit_callbacks(execute=True):
        again = runs.start_run(project=project, by=data_steward)
    again.refresh_from_db()
    assert again.status == RunStatus.PUBLISHED, again.reasons
    assert again.decision == base
    assert ADDED_VARIABLE not in _codes(again)
    assert _codes(again) == {v["code"] for v in VARIABLES}
    assert _status(client, analyst, again) == 404

    # A recipient removed from the team meanwhile loses access at once.
    remove_member(membership=project.memberships.get(user=colleague), by=researcher)
    assert _status(client, colleague, again) == 404


# --- Approved: a new run, the earlier dataset replaced -------------------------------------------


def test_an_approved_amendment_is_delivered_by_a_new_run_that_replaces_the_dataset(
    client,
    project,
    run,
    researcher,
    colleague,
    analyst,
    secretariat,
    chair,
    members,
    data_steward,
    django_capture_on_commit_callbacks,
):
    base = current_decision(project)
    pages_before = project.publications.count()
    _amend(project, researcher, analyst)
    Notification.objects.all().delete()
    decision = decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        capture=django_capture_on_commit_callbacks,
    )
    assert project.status == ProjectStatus.ACTIVE
    assert current_decision(project) == decision != base

    # A run was queued for the specification in force, on behalf of the data steward, and ran.
    new = ProvisioningRun.objects.exclude(pk=run.pk).get()
    assert new.status == RunStatus.PUBLISHED, new.reasons
    assert new.decision == decision
    assert new.started_by == data_steward
    assert ADDED_VARIABLE in _codes(new)
    started = AuditEvent.objects.get(action="provisioning.run_started", target_id=str(new.pk))
    assert started.actor is None
    assert started.after["reason"] == "specification_changed"
    assert started.after["decision"] == decision.number
    assert started.after["replaces"] == run.pk
    assert Notification.objects.filter(recipient=data_steward, body__contains=decision.number)

    # The earlier dataset is replaced by the house's rules: superseded, its links refused.
    run.refresh_from_db()
    assert run.superseded_by == new
    assert _status(client, researcher, run) == 410
    # The recipients are those of the decision in force: the analyst now, the others still.
    assert _status(client, analyst, new) == 200
    assert _status(client, researcher, new) == 200

    # GOV-13: the public page shows the amendment and the amended data.
    page = PublicPage.objects.get(project=project)
    assert project.publications.count() == pages_before + 1
    snapshot = page.current.snapshot
    assert snapshot["amendments"] == [
        {
            "number": 1,
            "status": "approved",
            "decision": decision.number,
            "date": timezone.localtime(decision.decided_at).date().isoformat(),
            "version": decision.version.number,
        }
    ]
    assert ADDED_VARIABLE in {v["code"] for v in snapshot["data"]["variables"]}
    assert snapshot["opinion"]["number"] == decision.number
    assert page.current.published_by == chair
    public = client.get(f"/transparency/projects/{project.reference}/")
    assert public.status_code == 200
    assert f"decision {decision.number}" in public.content.decode()


def test_a_recipient_the_approved_amendment_no_longer_names_cannot_download(
    client,
    project,
    run,
    researcher,
    colleague,
    analyst,
    secretariat,
    chair,
    members,
    django_capture_on_commit_callbacks,
):
    """The colleague left the team during the amendment, which does not name them: put back on
    the team afterwards, they still download nothing (the specification in force governs)."""
    write_amendment(project, researcher, data_request=REQUEST)
    remove_member(membership=project.memberships.get(user=colleague), by=researcher)
    submit_amendment(project, researcher)
    decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        capture=django_capture_on_commit_callbacks,
    )
    TeamMembership.objects.create(project=project, user=colleague, role=TeamRole.CO_INVESTIGATOR)
    new = ProvisioningRun.objects.exclude(pk=run.pk).get()
    assert _status(client, colleague, new) == 404
    assert _status(client, colleague, run) in (404, 410)
    assert _status(client, researcher, new) == 200


def test_the_amended_duration_sets_the_end_of_access(
    project, run, researcher, analyst, secretariat, chair, members
):
    base = current_decision(project)
    later = timezone.now() + timedelta(days=45)
    assert serving.dataset_state(run, now=later).allowed  # 24 months from the first decision
    _amend(project, researcher, analyst, access_months="1")
    assert serving.dataset_state(run, now=later).allowed  # pending: the former period holds
    decision = decide_in_session(project, secretariat=secretariat, chair=chair, members=members)
    # Counted from the start of access in force, not from the amendment's decision.
    assert selectors.access_ends_at(run) == add_months(base.decided_at, 1)
    assert decision.approved_specification["access_from"] == base.decided_at.isoformat()
    assert serving.dataset_state(run, now=later).refusal == serving.Refusal.ACCESS_ENDED


# --- Refused: nothing changes ---------------------------------------------------------------------


def test_a_refused_amendment_changes_nothing_for_the_data(
    client,
    project,
    run,
    researcher,
    analyst,
    secretariat,
    chair,
    members,
    django_capture_on_commit_callbacks,
):
    base = current_decision(project)
    ends = selectors.access_ends_at(run)
    _amend(project, researcher, analyst, access_months="60")
    decision = decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        opinion="unfavourable",
        capture=django_capture_on_commit_callbacks,
    )
    assert project.status == ProjectStatus.ACTIVE
    assert current_decision(project) == base
    assert list(ProvisioningRun.objects.all()) == [run]
    run.refresh_from_db()
    assert run.superseded_by is None
    assert selectors.access_ends_at(run) == ends
    assert _status(client, researcher, run) == 200
    assert _status(client, analyst, run) == 404
    assert not AuditEvent.objects.filter(
        action="provisioning.run_started", after__reason="specification_changed"
    ).exists()
    # The page lists the refusal; what it shows of the data is unchanged.
    snapshot = PublicPage.objects.get(project=project).current.snapshot
    assert snapshot["amendments"][0]["status"] == "refused"
    assert snapshot["amendments"][0]["decision"] == decision.number
    assert snapshot["opinion"]["number"] == base.number
    assert ADDED_VARIABLE not in {v["code"] for v in snapshot["data"]["variables"]}


# --- A run planned on the former specification ----------------------------------------------------


def test_a_run_planned_before_the_approval_is_not_published_and_a_new_one_follows(
    project,
    run,
    researcher,
    analyst,
    secretariat,
    chair,
    members,
    data_steward,
    django_capture_on_commit_callbacks,
):
    base = current_decision(project)
    _amend(project, researcher, analyst)
    stale = runs.start_run(project=project, by=data_steward)  # queued, not sent (no commit)
    runs.prepare_run(run_id=stale.pk, worker="w1")
    for part in RunPart.objects.filter(run=stale, status="pending"):
        runs.write_part(part_id=part.pk, worker="w1")
    stale.refresh_from_db()
    assert (stale.status, stale.decision) == (RunStatus.WRITING, base)
    decision = decide_in_session(
        project,
        secretariat=secretariat,
        chair=chair,
        members=members,
        capture=django_capture_on_commit_callbacks,
    )
    # A run is under way: no second one now.
    assert ProvisioningRun.objects.count() == 2

    publication.publish_run(run_id=stale.pk, worker="w1")
    stale.refresh_from_db()
    assert stale.status == RunStatus.FAILED
    assert decision.number in stale.reasons[0]
    follow_up = ProvisioningRun.objects.exclude(pk__in=[run.pk, stale.pk]).get()
    assert follow_up.status == RunStatus.QUEUED
    done = run_everything(follow_up.pk)
    assert done.status == RunStatus.PUBLISHED, done.reasons
    assert done.decision == decision
    assert ADDED_VARIABLE in _codes(done)
    run.refresh_from_db()
    assert run.superseded_by == done
