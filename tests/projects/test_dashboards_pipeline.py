"""The secretariat's pipeline: statuses, working days from the audit trail, CSV, home panel."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from eds_portal.audit import target_of
from eds_portal.models import AuditEvent
from projects.actions import check_admissibility, create_project, submit_project
from projects.dashboards.selectors import PROJECT_TARGET_TYPE, pipeline, pipeline_rows
from projects.models import Project, ProjectStatus
from tests.conftest import login
from tests.csv_exports import read_csv
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
S = ProjectStatus


def paris(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=PARIS)


# Friday 20 March 2026, noon.
NOW = paris(20, 12)


@contextmanager
def at(moment: dt.datetime):
    """Actions and audit events dated ``moment``."""
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def _new(researcher, title: str, created: dt.datetime) -> Project:
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    Project.objects.filter(pk=project.pk).update(created_at=created)
    project.refresh_from_db()
    return project


@pytest.fixture
def in_review(researcher, secretariat):
    """Created Monday 2 March, submitted Wednesday 4, accepted for review Monday 9."""
    project = _new(researcher, "Otites de l'enfant", paris(2, 9))
    with at(paris(4)):
        submit_project(project=project, by=researcher)
    with at(paris(9)):
        check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    return project


@pytest.fixture
def resubmitted(researcher, secretariat):
    """Submitted Tuesday 3 March, returned Thursday 5, submitted again Tuesday 10."""
    project = _new(researcher, "Bronchiolites", paris(2, 9))
    with at(paris(3)):
        submit_project(project=project, by=researcher)
    with at(paris(5)):
        check_admissibility(project=project, by=secretariat, accept=False, missing_items="CV")
    project.refresh_from_db()
    with at(paris(10)):
        submit_project(project=project, by=researcher)
    project.refresh_from_db()
    return project


def test_the_trail_names_projects_as_the_pipeline_reads_them(in_review):
    assert target_of(in_review) == (PROJECT_TARGET_TYPE, str(in_review.pk))


def test_working_days_in_the_current_and_past_statuses(in_review):
    [row] = pipeline_rows(now=NOW)
    assert row.reference == in_review.reference
    assert row.lead == "Rita Researcher"
    assert row.status == S.UNDER_REVIEW
    assert row.entered_at == paris(9)
    # 10 to 13 March, then 16 to 20 March.
    assert row.working_days == 9
    assert row.calendar_days == 11
    assert [(p.status, p.working_days) for p in row.past] == [
        (S.DRAFT, 2),  # Tuesday 3, Wednesday 4
        (S.SUBMITTED, 3),  # Thursday 5, Friday 6, Monday 9
    ]


def test_a_status_visited_twice_adds_up(resubmitted):
    [row] = pipeline_rows(now=NOW)
    assert row.status == S.SUBMITTED
    assert row.entered_at == paris(10)
    assert row.working_days == 8
    assert [(p.status, p.working_days) for p in row.past] == [
        (S.DRAFT, 1),
        (S.SUBMITTED, 2),
        (S.INCOMPLETE, 3),
    ]


def test_groups_follow_the_protocols_life_and_drafts_stay_out(researcher, in_review, resubmitted):
    create_project(by=researcher, title="Encore un brouillon")
    groups = pipeline(now=NOW)
    assert [group.status for group in groups][:4] == [
        S.SUBMITTED,
        S.INCOMPLETE,
        S.UNDER_REVIEW,
        S.CHANGES_REQUESTED,
    ]
    assert S.DRAFT not in [group.status for group in groups]
    by_status = {group.status: [row.reference for row in group.rows] for group in groups}
    assert by_status[S.SUBMITTED] == [resubmitted.reference]
    assert by_status[S.UNDER_REVIEW] == [in_review.reference]
    assert [group.status for group in pipeline(status=S.SUBMITTED, now=NOW)] == [S.SUBMITTED]


def test_a_status_the_trail_does_not_explain_is_unknown_not_guessed(researcher, in_review):
    orphan = create_project(by=researcher, title="Chargé à la main")
    Project.objects.filter(pk=orphan.pk).update(status=S.UNDER_REVIEW)
    rows = pipeline_rows(now=NOW)
    assert [row.reference for row in rows] == [in_review.reference, orphan.reference]
    assert rows[1].entered_at is None
    assert rows[1].working_days is None


# --- The page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretariat", "chair", "dpo"], indirect=True)
def test_the_pipeline_page(client, persona, in_review, resubmitted):
    login(client, persona)
    response = client.get("/commission/pipeline/")
    assert response.status_code == 200
    page = response.content.decode()
    assert in_review.reference in page
    assert resubmitted.reference in page
    assert "Rita Researcher" in page
    assert page.index(resubmitted.reference) < page.index(in_review.reference)
    assert '<time datetime="2026-03-09T10:00:00+01:00">' in page


def test_the_pipeline_page_filters_by_status(client, secretariat, in_review, resubmitted):
    login(client, secretariat)
    response = client.get("/commission/pipeline/", {"status": "under_review"})
    assert response.status_code == 200
    assert [group.status for group in response.context["groups"]] == [S.UNDER_REVIEW]
    rows = response.context["groups"][0].rows
    assert [row.reference for row in rows] == [in_review.reference]
    assert "export.csv?status=under_review" in response.content.decode()


@pytest.mark.parametrize("status", ["draft", "nonsense"])
def test_an_unknown_status_is_a_clear_error(client, secretariat, status):
    login(client, secretariat)
    response = client.get("/commission/pipeline/", {"status": status})
    assert response.status_code == 400
    assert "status" in response.context["form"].errors
    assert "field--error" in response.content.decode()


REFUSED = [
    "researcher",
    "commission_member",
    "patient_representative",
    "identity_officer",
    "data_steward",
    "auditor",
    "outsider",
]
PAGES = ["/commission/pipeline/", "/commission/pipeline/export.csv", "/commission/statistics/"]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("persona", REFUSED, indirect=True)
def test_other_roles_are_refused(client, persona, url, in_review):
    login(client, persona)
    response = client.get(url)
    assert response.status_code == 403
    assert in_review.reference not in response.content.decode()
    assert not AuditEvent.objects.filter(action="pipeline.exported").exists()


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_team_lead_of_a_file_is_refused_too(client, researcher, in_review):
    login(client, researcher)
    assert client.get("/commission/pipeline/").status_code == 403


def test_staff_without_the_second_factor_are_refused(client, secretariat):
    login(client, secretariat, verified=False)
    response = client.get("/commission/pipeline/")
    assert response.status_code in (302, 403)


def _add_submitted(researcher, count: int) -> None:
    for index in range(count):
        project = _new(researcher, f"Projet {index}", paris(2, 9))
        with at(paris(4)):
            submit_project(project=project, by=researcher)


def test_the_page_runs_the_same_queries_whatever_the_number_of_files(
    client, secretariat, researcher, django_assert_max_num_queries
):
    login(client, secretariat)
    _add_submitted(researcher, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/commission/pipeline/").status_code == 200
    _add_submitted(researcher, 6)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/commission/pipeline/").status_code == 200
    assert len(many) == len(few)
    # Session, user, device, roles; counts; projects; the trail; the session saved; the
    # projects that received data, for those due for closeout (issue 12).
    with django_assert_max_num_queries(11):
        client.get("/commission/pipeline/")


# --- CSV -------------------------------------------------------------------------------------


def test_the_csv_export_neutralises_formulas_and_is_audited(
    client, secretariat, researcher, in_review
):
    Project.objects.filter(pk=in_review.pk).update(title='=HYPERLINK("http://evil.example")')
    login(client, secretariat)
    response = client.get("/commission/pipeline/export.csv", {"status": "under_review"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = read_csv(response)
    header, [row] = rows[0], rows[1:]
    record = dict(zip(header, row, strict=True))
    assert record["reference"] == in_review.reference
    assert record["title"] == '\'=HYPERLINK("http://evil.example")'
    assert record["status"] == "under_review"
    assert record["entered_status_at"] == "2026-03-09T10:00:00+01:00"
    assert record["working_days_past_draft"] == "2"
    assert record["working_days_past_submitted"] == "3"
    assert record["working_days_past_incomplete"] == ""
    event = AuditEvent.objects.get(action="pipeline.exported")
    assert event.actor == secretariat
    assert event.after == {"status": "under_review", "rows": 1}


def test_a_bad_filter_on_the_export_is_a_400(client, secretariat):
    login(client, secretariat)
    response = client.get("/commission/pipeline/export.csv", {"status": "draft"})
    assert response.status_code == 400
    assert "status" in response.content.decode()
    assert not AuditEvent.objects.filter(action="pipeline.exported").exists()


# --- Home panel ------------------------------------------------------------------------------


def test_the_secretariat_home_shows_the_pipeline_and_the_longest_waits(
    client, secretariat, in_review, resubmitted
):
    login(client, secretariat)
    response = client.get("/")
    page = response.content.decode()
    assert "/commission/pipeline/?status=submitted" in page
    assert "/commission/pipeline/?status=under_review" in page
    assert "/commission/pipeline/?status=approved" not in page  # no file there
    assert "/commission/statistics/" in page
    [panel] = [
        panel
        for section in response.context["sections"]
        for panel in section["panels"]
        if panel["key"] == "pipeline_summary"
    ]
    # Accepted for review on 9 March, submitted again on 10 March: the former waits longer.
    assert [row.reference for row in panel["waiting"]] == [
        in_review.reference,
        resubmitted.reference,
    ]


@pytest.mark.parametrize("persona", ["researcher", "commission_member", "auditor"], indirect=True)
def test_other_homes_do_not_show_the_pipeline(client, persona, in_review):
    login(client, persona)
    page = client.get("/").content.decode()
    assert "/commission/pipeline/" not in page


@pytest.mark.parametrize("persona", ["secretariat", "chair", "dpo"], indirect=True)
def test_the_main_navigation_leads_to_the_pipeline(client, persona):
    login(client, persona)
    response = client.get("/commission/pipeline/")
    assert '<a href="/commission/pipeline/" aria-current="page">' in response.content.decode()
