"""Closeout (issue 12, item 5): the results due date and its reminders, the final report,
closing that destroys the datasets and ends the team's access, the public page, the pipeline;
named output checkers (item 3); the API of both; every role refused where it must be."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from access.formalities.gates import access_ends_at, add_months, current_decision
from access.models_outputs import OutputItemStatus, ResultsReminder, ReviewVerdict
from access.models_provisioning import DestructionCertificate, RunStatus
from access.outputs import actions
from access.outputs.closeout import (
    due_for_closeout,
    results_due_on,
    send_results_reminders,
    submit_closing_report,
)
from access.provisioning import delivery, runs
from eds_portal import authz
from eds_portal.authz import Permission, has_permission
from eds_portal.models import AuditEvent, Notification
from eds_portal.roles import Role
from projects import workflow
from projects.models import ProjectStatus, TeamMembership, TeamRole
from tests.access.provisioning_helpers import DBS, published
from tests.access.test_outputs import csv_file
from tests.conftest import PERSONAS, login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("english_client"),
]

TABLE = b"age band;boys;girls\n0-9;102;221\n"


@pytest.fixture
def lead(make_user):
    return make_user(
        Role.RESEARCHER, full_name="Rita Lead", email="rita.lead@inserm.example", device=True
    )


@pytest.fixture
def analyst(make_user):
    return make_user(Role.RESEARCHER, full_name="Anna Analyst", device=True)


@pytest.fixture
def project(lead, analyst, secretariat, chair):
    created = published(lead, secretariat, chair, recipients=[(lead, "lead"), (analyst, "analyst")])
    TeamMembership.objects.get_or_create(
        project=created, user=analyst, defaults={"role": TeamRole.ANALYST}
    )
    return created


@pytest.fixture
def active(project):
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    return project


@pytest.fixture
def checkers(make_user):
    return (
        make_user(Role.OUTPUT_CHECKER, full_name="Corinne Contrôle", organisation="Insee"),
        make_user(Role.OUTPUT_CHECKER, full_name="Victor Vérif", organisation="ORS Aquitaine"),
    )


def report(project, by, **changes):
    data = {
        "results_summary": "Visits peaked two weeks earlier.",
        "publications": "doi:10.1000/xyz",
        "no_results_reason": "",
        "copies_destroyed": True,
    }
    data.update(changes)
    return submit_closing_report(project=project, by=by, **data)


def released(project, lead, checkers):
    request = actions.create_output_request(project=project, title="Article", by=lead)
    item = actions.add_output_item(
        request=request,
        upload=csv_file(TABLE),
        by=lead,
        kind="table",
        title="Visits by age",
        description="Home visits by age band and sex.",
        cell_unit="persons",
        variables_crossed="age band, sex",
    )
    actions.submit_output_request(request=request, by=lead)
    for checker in checkers:
        actions.review_output(item=item, verdict=ReviewVerdict.APPROVE, comment="", by=checker)
    item.refresh_from_db()
    assert item.status == OutputItemStatus.RELEASED
    return item


# --- Due date and reminders -------------------------------------------------------------------


def test_the_results_are_due_at_the_end_of_access_plus_the_setting(project, settings):
    end = access_ends_at(current_decision(project))
    assert end is not None
    assert results_due_on(project) == timezone.localdate(add_months(end, 12))
    settings.EDS_RESULTS_DUE_MONTHS = 3
    assert results_due_on(project) == timezone.localdate(add_months(end, 3))


def test_the_lead_is_reminded_before_and_after_the_due_date_once_each(
    active, lead, analyst, mailoutbox, django_capture_on_commit_callbacks
):
    due = results_due_on(active)
    early = due - datetime.timedelta(days=31)
    before = due - datetime.timedelta(days=10)
    after = due + datetime.timedelta(days=1)
    assert send_results_reminders(today=early) == {"before": 0, "after": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert send_results_reminders(today=before) == {"before": 1, "after": 0}
        assert send_results_reminders(today=before) == {"before": 0, "after": 0}
        assert send_results_reminders(today=due) == {"before": 0, "after": 0}
        assert send_results_reminders(today=after) == {"before": 0, "after": 1}
        assert send_results_reminders(today=after + datetime.timedelta(days=40)) == {
            "before": 0,
            "after": 0,
        }
    # Once each, to the lead only, by e-mail through the queue, in the trail.
    assert ResultsReminder.objects.filter(project=active).count() == 2
    # The lead reads French (the default language): the subject is rendered in it.
    notes = Notification.objects.filter(subject__contains="résultats")
    assert {n.recipient for n in notes} == {lead}
    assert len(mailoutbox) == 2
    assert {m.to[0] for m in mailoutbox} == {lead.email}
    assert "attendus le" in mailoutbox[0].subject
    assert "en retard" in mailoutbox[1].subject
    events = AuditEvent.objects.filter(action="project.results_reminder_sent")
    assert [e.after["kind"] for e in events.order_by("seq")] == ["before", "after"]


def test_no_reminder_once_the_final_report_is_given(active, lead):
    report(active, lead)
    due = results_due_on(active)
    assert send_results_reminders(today=due + datetime.timedelta(days=5)) == {
        "before": 0,
        "after": 0,
    }
    assert not ResultsReminder.objects.exists()


def test_the_nightly_task_is_scheduled():
    from eds_portal.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "access.tasks.send_results_reminders_task" in tasks


def test_the_pipeline_shows_projects_due_for_closeout(active, lead, secretariat, client, settings):
    assert due_for_closeout() == []
    settings.EDS_RESULTS_REMINDER_DAYS = 365 * 5
    rows = due_for_closeout()
    assert [(r.project, r.report_given) for r in rows] == [(active, False)]
    login(client, secretariat)
    page = client.get(reverse("pipeline")).content.decode()
    assert 'id="closeout-due-title"' in page
    assert active.reference in page
    assert "Not given yet" in page
    report(active, lead)
    assert "Given: the project may be closed" in client.get(reverse("pipeline")).content.decode()
    api = client.get(reverse("api_closeout_due")).json()
    assert [(row["reference"], row["report_given"]) for row in api] == [(active.reference, True)]


# --- Closing: report, destruction, access, public page ----------------------------------------


@pytest.mark.usefixtures("warehouse_rows", "provisioning_settings")
def test_closing_destroys_the_dataset_and_ends_the_team_s_access(
    project,
    lead,
    analyst,
    secretariat,
    data_steward,
    checkers,
    client,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EDS_CLOSEOUT_REPORT_REQUIRED = True
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    item = released(project, lead, checkers)
    actions.list_output_publicly(item=item, publication_reference="doi:10.1000/xyz", by=lead)
    objects = [project, run, item, current_decision(project)]
    # The permissions decided on these objects (the others follow from the role alone).
    on_objects = [
        (permission, obj)
        for permission in Permission
        for obj in objects
        if (permission, type(obj)) in authz._registry.rules
    ]
    held = {
        (member.pk, permission, type(obj).__name__)
        for member in (lead, analyst)
        for permission, obj in on_objects
        if has_permission(member, permission, obj)
    }
    for needed in (Permission.VIEW_PROJECT, Permission.REQUEST_OUTPUTS, Permission.VIEW_RUNS):
        assert (analyst.pk, needed, "Project") in held
    assert (lead.pk, Permission.DOWNLOAD_DATASET, "ProvisioningRun") in held
    assert (lead.pk, Permission.DOWNLOAD_RELEASED_OUTPUT, "OutputItem") in held

    # Without the final report, closing is refused; the lead gives it on the closeout page.
    login(client, secretariat)
    lifecycle = reverse("project_lifecycle", args=[project.pk])
    assert client.post(lifecycle, {"transition": "close"}).status_code != 302
    login(client, lead)
    given = client.post(
        reverse("project_closeout", args=[project.pk]),
        {
            "results_summary": "Visits peaked two weeks earlier.",
            "publications": "",
            "no_results_reason": "Negative results, report sent to the PDS.",
            "copies_destroyed": "on",
        },
    )
    assert given.status_code == 302
    login(client, secretariat)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(lifecycle, {"transition": "close"}).status_code == 302
    project.refresh_from_db()
    assert project.status == ProjectStatus.CLOSED

    # The dataset is destroyed by the one destruction of provisioning, with its certificate.
    certificate = DestructionCertificate.objects.get(run=run)
    assert certificate.reason == delivery.REASON_PROJECT_CLOSED
    assert not Path(run.dataset_path).exists()
    # Its notice links the run for the data office only: the team may no longer open it.
    notices = Notification.objects.filter(subject__contains=project.reference).filter(
        Q(subject__icontains="destroyed") | Q(subject__icontains="détruit")
    )
    by_user = {notice.recipient_id: notice.url for notice in notices}
    assert by_user[lead.pk] == ""
    assert by_user[analyst.pk] == ""
    assert by_user[data_steward.pk] == reverse("provisioning_run", args=[run.pk])

    # The team holds no right left on the project, its runs, outputs or decisions.
    for member in (lead, analyst):
        member.forget_roles()
        for permission, obj in on_objects:
            fresh = type(obj).objects.get(pk=obj.pk)
            assert not has_permission(member, permission, fresh), (member, permission, obj)
    login(client, lead)
    for url in (
        reverse("project_detail", args=[project.pk]),
        reverse("project_outputs", args=[project.pk]),
        reverse("project_closeout", args=[project.pk]),
        reverse("output_request", args=[item.request_id]),
        reverse("output_download", args=[item.pk]),
        reverse("api_project_closeout", args=[project.pk]),
        reverse("api_project_output_requests", args=[project.pk]),
    ):
        assert client.get(url).status_code == 404, url
    # A former member still never checks the project's outputs (conflicted for good).
    assert TeamMembership.objects.filter(project=project, user=analyst).exists()

    # The public page says closed, lists the result and the final report.
    client.logout()
    page = client.get(reverse("transparency_project", args=[project.reference]))
    html = page.content.decode()
    assert "Visits by age" in html
    assert "Visits peaked two weeks earlier." in html
    assert "Negative results" in html
    assert "Completed" in html


def test_closing_waits_for_the_checkers(active, lead, secretariat, checkers, english):
    request = actions.create_output_request(project=active, title="Article", by=lead)
    item = actions.add_output_item(
        request=request,
        upload=csv_file(TABLE),
        by=lead,
        kind="table",
        title="Visits",
        description="By age.",
        cell_unit="persons",
    )
    actions.submit_output_request(request=request, by=lead)
    report(active, lead)
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.fire(active, "close", by=secretariat)
    assert any("still with the checkers" in str(r) for r in refused.value.reasons)
    for checker in checkers:
        actions.review_output(item=item, verdict=ReviewVerdict.APPROVE, comment="", by=checker)
    workflow.fire(active, "close", by=secretariat)
    active.refresh_from_db()
    assert active.status == ProjectStatus.CLOSED


# --- The closeout API -------------------------------------------------------------------------


def test_the_closeout_api_gives_the_due_date_and_takes_the_lead_s_report(
    active, lead, analyst, client
):
    url = reverse("api_project_closeout", args=[active.pk])
    login(client, analyst)
    read = client.get(url)
    assert read.status_code == 200
    assert read.json()["results_due_on"] == results_due_on(active).isoformat()
    assert read.json()["report"] is None
    body = {"results_summary": "Peak earlier.", "publications": "doi:x", "copies_destroyed": True}
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 409
    login(client, lead)
    missing = client.post(url, {**body, "copies_destroyed": False}, content_type="application/json")
    assert missing.status_code == 409
    assert missing.json()["reasons"]
    assert (
        client.post(url, {"copies_destroyed": "maybe"}, content_type="application/json").status_code
        == 400
    )
    given = client.post(url, body, content_type="application/json")
    assert given.status_code == 200
    assert given.json()["report"]["publications"] == "doi:x"


@pytest.mark.parametrize("persona", [*PERSONAS, "output_checker"], indirect=True)
def test_closeout_and_checkers_are_refused_where_they_must_be(persona, active, client):
    login(client, persona)
    closeout = reverse("api_project_closeout", args=[active.pk])
    assert client.get(closeout).status_code in (403, 404)
    assert client.post(closeout, {}, content_type="application/json").status_code in (403, 404)
    assert client.get(reverse("project_closeout", args=[active.pk])).status_code in (403, 404)
    names = Role.SECRETARIAT in persona.roles
    for url in (reverse("output_checkers"), reverse("api_output_checkers")):
        assert client.get(url).status_code == (200 if names else 403), url
    pipeline = (
        Role.SECRETARIAT in persona.roles
        or Role.CHAIR in persona.roles
        or Role.DPO in persona.roles
    )
    assert client.get(reverse("api_closeout_due")).status_code == (200 if pipeline else 403)


# --- Named output checkers --------------------------------------------------------------------


def test_the_data_office_names_output_checkers_who_never_check_their_own_projects(
    active, lead, analyst, secretariat, make_user, client
):
    outsider = make_user(
        Role.RESEARCHER, full_name="Olga Statisticienne", organisation="Insee", device=True
    )
    colleague = make_user(
        Role.RESEARCHER, full_name="Colin Collègue", organisation=analyst.organisation
    )
    login(client, secretariat)
    url = reverse("output_checkers")
    until = (timezone.localdate() + datetime.timedelta(days=365)).isoformat()
    naming = {"action": "name", "validated_by": "Marie Cheffe", "valid_until": until}
    unknown = client.post(url, {**naming, "email": "nobody@example.org"})
    assert unknown.status_code == 409
    bad = client.post(url, {**naming, "email": "not an address"})
    assert bad.status_code == 400
    # A staff role: without who validated it and until when, nothing is granted (SEC-04).
    for missing in ("validated_by", "valid_until"):
        partial = {k: v for k, v in naming.items() if k != missing}
        refused = client.post(url, {**partial, "email": outsider.email})
        assert refused.status_code == 400, missing
    past = client.post(url, {**naming, "valid_until": "2020-01-01", "email": outsider.email})
    assert past.status_code == 409
    assert not AuditEvent.objects.filter(action="role.granted", actor=secretariat).exists()
    for person in (outsider, colleague, analyst):
        assert client.post(url, {**naming, "email": person.email}).status_code == 302
    assert AuditEvent.objects.filter(action="role.granted", actor=secretariat).count() == 3
    page = client.get(url).content.decode()
    assert outsider.email in page
    assert "Marie Cheffe" in page

    item = released(active, lead, [make_user(Role.SECRETARIAT), make_user(Role.DATA_STEWARD)])
    request = actions.create_output_request(project=active, title="Second", by=lead)
    waiting = actions.add_output_item(
        request=request,
        upload=csv_file(TABLE),
        by=lead,
        kind="table",
        title="Other",
        description="Other.",
        cell_unit="persons",
    )
    actions.submit_output_request(request=request, by=lead)
    waiting.refresh_from_db()
    for person in (outsider, colleague, analyst):
        person.forget_roles()
    assert has_permission(outsider, Permission.CHECK_OUTPUTS, waiting)
    # A team member, or someone of a team member's organisation, never checks (as reviewers).
    assert not has_permission(analyst, Permission.CHECK_OUTPUTS, waiting)
    assert not has_permission(colleague, Permission.CHECK_OUTPUTS, waiting)
    with pytest.raises(actions.OutputRefused):
        actions.review_output(item=waiting, verdict="approve", comment="", by=colleague)
    login(client, outsider)
    assert client.get(reverse("output_queue")).status_code == 200
    assert client.get(reverse("output_check", args=[waiting.pk])).status_code == 200
    assert item.release_number

    # Ending the naming ends the right.
    login(client, secretariat)
    ended = client.post(url, {"action": "end", "user": outsider.pk})
    assert ended.status_code == 302
    outsider.refresh_from_db()
    outsider.forget_roles()
    assert not has_permission(outsider, Permission.CHECK_OUTPUTS, waiting)
    assert client.post(url, {"action": "end", "user": "x"}).status_code == 400


def test_the_checkers_api_names_lists_and_ends(secretariat, make_user, client):
    person = make_user(Role.RESEARCHER, full_name="Olga Statisticienne")
    login(client, secretariat)
    url = reverse("api_output_checkers")
    until = (timezone.localdate() + datetime.timedelta(days=365)).isoformat()
    naming = {"email": person.email, "validated_by": "Marie Cheffe", "valid_until": until}
    unvalidated = client.post(url, {"email": person.email}, content_type="application/json")
    assert unvalidated.status_code == 400
    assert set(unvalidated.json()) >= {"validated_by", "valid_until"}
    named = client.post(url, naming, content_type="application/json")
    assert named.status_code == 201
    again = client.post(url, naming, content_type="application/json")
    assert again.status_code == 409
    assert [c["email"] for c in client.get(url).json()] == [person.email]
    detail = reverse("api_output_checker", args=[person.pk])
    assert client.delete(detail).status_code == 204
    assert client.delete(detail).status_code == 404
    assert client.get(url).json() == []
