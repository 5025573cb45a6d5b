"""Output requests (issue 12): upload and checks, two independent checkers, release, download,
public listing; every page refused to the roles that have no business there."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from access.models_outputs import (
    OutputItem,
    OutputItemStatus,
    OutputKind,
    OutputRequestStatus,
    ReviewVerdict,
)
from access.outputs import actions
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import Draft, TeamMembership, TeamRole
from tests.access.helpers import project as make_project
from tests.access.helpers import public_page
from tests.conftest import PERSONAS, login

pytestmark = pytest.mark.django_db

WITH_FOUR = b"age band;boys;girls\n0-4;4;120\n5-9;98;101\n"
FIXED = b"age band;boys;girls\n0-9;102;221\n"


def content_of(response) -> bytes:
    body = b"".join(response.streaming_content)
    for closer in response._resource_closers:
        closer()
    return body


def csv_file(data: bytes, name: str = "table.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def lead(make_user):
    return make_user(Role.RESEARCHER, device=True, full_name="Rita Lead", organisation="Inserm")


@pytest.fixture
def project(lead):
    created = make_project(lead, status="active", reference="EDS-2026-0042")
    TeamMembership.objects.create(project=created, user=lead, role=TeamRole.LEAD)
    Draft.objects.create(project=created, updated_by=lead, content={})
    return created


@pytest.fixture
def checker_a(make_user):
    return make_user(Role.SECRETARIAT, full_name="Alice Checker", organisation="SOS Médecins")


@pytest.fixture
def checker_b(make_user):
    return make_user(Role.DATA_STEWARD, full_name="Bruno Checker", organisation="SOS Médecins")


def new_item(project, lead, data=FIXED, **extra):
    request = actions.create_output_request(project=project, title="Article 1", by=lead)
    fields = {
        "kind": OutputKind.TABLE,
        "title": "Visits by age",
        "description": "Home visits by age band and sex, 2025.",
        "cell_unit": "persons",
        "variables_crossed": "age band, sex",
    }
    fields.update(extra)
    item = actions.add_output_item(request=request, upload=csv_file(data), by=lead, **fields)
    return item


@pytest.fixture
def submitted(project, lead):
    item = new_item(project, lead)
    actions.submit_output_request(request=item.request, by=lead)
    item.refresh_from_db()
    return item


def released_item(item, checker_a, checker_b):
    actions.review_output(item=item, verdict=ReviewVerdict.APPROVE, comment="", by=checker_a)
    actions.review_output(item=item, verdict=ReviewVerdict.APPROVE, comment="", by=checker_b)
    item.refresh_from_db()
    return item


# Upload, checks, justification, versions


def test_upload_stores_privately_with_checksum_and_flags_the_small_cell(project, lead, client):
    login(client, lead)
    request = actions.create_output_request(project=project, title="Article 1", by=lead)
    response = client.post(
        reverse("output_request", args=[request.pk]),
        {
            "action": "add",
            "kind": "table",
            "title": "Visits by age",
            "description": "Home visits by age band and sex.",
            "cell_unit": "persons",
            "variables_crossed": "age band, sex",
            "file": csv_file(WITH_FOUR, "../../etc/visites 2025.csv"),
        },
    )
    assert response.status_code == 302
    item = OutputItem.objects.get(request=request)
    version = item.versions.get()
    assert version.sha256 == hashlib.sha256(WITH_FOUR).hexdigest()
    assert version.original_name == "visites_2025.csv"
    assert version.file.name.startswith(f"outputs/{project.pk}/{item.pk}/v1-")
    assert [(f["rule"], f["row"], f["column"]) for f in version.findings] == [
        ("small_cell", "0-4", "boys")
    ]
    page = client.get(reverse("output_request", args=[request.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "below the threshold of 11" in page.content.decode()
    assert AuditEvent.objects.filter(action="outputs.version_uploaded").exists()


def test_a_flagged_output_is_not_submitted_without_a_fix_or_a_justification(project, lead):
    item = new_item(project, lead, data=WITH_FOUR)
    with pytest.raises(actions.OutputRefused):
        actions.submit_output_request(request=item.request, by=lead)
    actions.add_output_version(item=item, upload=csv_file(FIXED), by=lead)
    assert item.versions.count() == 2
    assert item.versions.get(number=2).findings == []
    actions.submit_output_request(request=item.request, by=lead)
    item.refresh_from_db()
    assert item.status == OutputItemStatus.SUBMITTED


def test_a_justified_exception_goes_to_the_checkers(project, lead):
    data = b"sex;pregnant;not pregnant\nmale;0;120\nfemale;30;95\n"
    item = new_item(project, lead, data=data)
    assert item.versions.get().findings[0]["rule"] == "zero"
    actions.justify_output(item=item, justification="Structural zero.", by=lead)
    actions.submit_output_request(request=item.request, by=lead)
    item.refresh_from_db()
    assert item.status == OutputItemStatus.SUBMITTED


def test_a_file_of_the_wrong_kind_is_refused(project, lead):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    request = actions.create_output_request(project=project, title="Figures", by=lead)
    with pytest.raises(actions.UploadRefused):
        actions.add_output_item(
            request=request,
            kind=OutputKind.FIGURE,
            title="Curve",
            description="Weekly visits",
            declared_counts="week 1; 40",
            upload=SimpleUploadedFile("curve.svg", svg),
            by=lead,
        )
    with pytest.raises(actions.UploadRefused):
        actions.add_output_item(
            request=request,
            kind=OutputKind.TABLE,
            title="Not a table",
            description="A PNG",
            cell_unit="persons",
            upload=SimpleUploadedFile("t.csv", b"\x89PNG\r\n\x1a\n0000"),
            by=lead,
        )


def test_a_figure_is_checked_on_its_declared_counts(project, lead):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    request = actions.create_output_request(project=project, title="Figures", by=lead)
    item = actions.add_output_item(
        request=request,
        kind=OutputKind.FIGURE,
        title="Curve",
        description="Weekly visits",
        declared_counts="week 1; 40\nweek 2; 3",
        upload=SimpleUploadedFile("curve.png", png),
        by=lead,
    )
    assert [f["rule"] for f in item.versions.get().findings] == ["small_cell"]


def test_only_a_project_receiving_data_asks_for_outputs(lead):
    draft = make_project(lead, status="draft", reference="EDS-2026-0043")
    TeamMembership.objects.create(project=draft, user=lead, role=TeamRole.LEAD)
    with pytest.raises(actions.OutputRefused):
        actions.create_output_request(project=draft, title="Too early", by=lead)


# The two checkers


def test_one_approval_is_not_enough_two_release(submitted, checker_a, checker_b):
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_a)
    submitted.refresh_from_db()
    assert submitted.status == OutputItemStatus.SUBMITTED
    assert submitted.release_number is None
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_b)
    submitted.refresh_from_db()
    assert submitted.status == OutputItemStatus.RELEASED
    assert submitted.release_number == "EDS-2026-0042-R01"
    assert submitted.released_by == checker_b
    assert submitted.released_version.sha256 == hashlib.sha256(FIXED).hexdigest()
    assert submitted.request.status == OutputRequestStatus.DECIDED
    event = AuditEvent.objects.filter(action="outputs.released").get()
    assert event.after["checkers"] == sorted([checker_a.pk, checker_b.pk])


def test_the_same_checker_cannot_approve_twice(submitted, checker_a):
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_a)
    with pytest.raises(actions.OutputRefused):
        actions.review_output(item=submitted, verdict="approve", comment="", by=checker_a)


def test_a_team_member_cannot_check_even_with_a_checker_role(submitted, make_user, client):
    member = make_user(Role.SECRETARIAT, Role.RESEARCHER)
    TeamMembership.objects.create(
        project=submitted.request.project, user=member, role=TeamRole.ANALYST
    )
    with pytest.raises(actions.OutputRefused):
        actions.review_output(item=submitted, verdict="approve", comment="", by=member)
    login(client, member)
    assert client.get(reverse("output_check", args=[submitted.pk])).status_code == 404
    assert submitted.pk not in [
        row["item"].pk for row in client.get(reverse("output_queue")).context["rows"]
    ]


def test_a_checker_of_the_team_s_organisation_is_conflicted(submitted, make_user):
    colleague = make_user(Role.DATA_STEWARD, organisation="INSERM")
    with pytest.raises(actions.OutputRefused):
        actions.review_output(item=submitted, verdict="approve", comment="", by=colleague)


def test_the_second_checker_does_not_see_the_first_verdict(submitted, checker_a, checker_b, client):
    actions.review_output(
        item=submitted, verdict="changes", comment="Merge the 0-4 band", by=checker_a
    )
    login(client, checker_b)
    before = client.get(reverse("output_check", args=[submitted.pk]))
    assert before.status_code == 200
    assert "Merge the 0-4 band" not in before.content.decode()
    assert before.context["others"] == []
    response = client.post(
        reverse("output_check", args=[submitted.pk]), {"verdict": "approve", "comment": ""}
    )
    assert response.status_code == 302
    after = client.get(reverse("output_check", args=[submitted.pk]))
    assert "Merge the 0-4 band" in after.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == OutputItemStatus.CHANGES_REQUESTED


def test_changes_then_a_new_version_is_reviewed_afresh(submitted, lead, checker_a, checker_b):
    actions.review_output(item=submitted, verdict="changes", comment="Merge", by=checker_a)
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_b)
    actions.add_output_version(item=submitted, upload=csv_file(FIXED), by=lead)
    actions.submit_output_request(request=submitted.request, by=lead)
    submitted.refresh_from_db()
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_a)
    submitted.refresh_from_db()
    assert submitted.status == OutputItemStatus.SUBMITTED
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_b)
    submitted.refresh_from_db()
    assert submitted.status == OutputItemStatus.RELEASED
    assert submitted.released_version.number == 2


def test_a_rejection_means_it_never_leaves(submitted, checker_a, checker_b, lead):
    actions.review_output(item=submitted, verdict="reject", comment="Identifying", by=checker_a)
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_b)
    submitted.refresh_from_db()
    assert submitted.status == OutputItemStatus.REJECTED
    with pytest.raises(actions.OutputRefused):
        actions.add_output_version(item=submitted, upload=csv_file(FIXED), by=lead)


def test_a_comment_is_required_to_reject_or_ask_for_changes(submitted, checker_a):
    with pytest.raises(actions.OutputRefused):
        actions.review_output(item=submitted, verdict="reject", comment=" ", by=checker_a)


def test_differencing_against_a_released_table_is_flagged(
    submitted, checker_a, checker_b, project, lead
):
    released_item(submitted, checker_a, checker_b)
    other = new_item(project, lead, data=b"age band;boys;girls\n0-9;106;221\n")
    findings = other.versions.get().findings
    assert [(f["rule"], f["params"]["release"]) for f in findings] == [
        ("differencing", "EDS-2026-0042-R01")
    ]


# Release and download


def test_the_team_downloads_a_released_output_with_the_second_factor(
    submitted, checker_a, checker_b, lead, client
):
    item = released_item(submitted, checker_a, checker_b)
    login(client, lead)
    response = client.get(reverse("output_download", args=[item.pk]))
    assert response.status_code == 200
    assert content_of(response) == FIXED
    assert "EDS-2026-0042-R01" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="outputs.downloaded", actor=lead).exists()


def test_without_the_second_factor_the_download_asks_for_it(
    submitted, checker_a, checker_b, lead, client
):
    item = released_item(submitted, checker_a, checker_b)
    login(client, lead, verified=False)
    response = client.get(reverse("output_download", args=[item.pk]))
    assert response.status_code == 302
    assert reverse("two_factor_verify") in response.url
    assert not AuditEvent.objects.filter(action="outputs.downloaded").exists()


def test_nothing_leaves_unapproved(submitted, checker_a, lead, client):
    actions.review_output(item=submitted, verdict="approve", comment="", by=checker_a)
    login(client, lead)
    assert client.get(reverse("output_download", args=[submitted.pk])).status_code == 404
    assert (
        client.get(reverse("output_checker_file", args=[submitted.versions.get().pk])).status_code
        == 403
    )


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_released_output_download_is_refused_to_everyone_off_the_team(
    persona, submitted, checker_a, checker_b, client
):
    item = released_item(submitted, checker_a, checker_b)
    login(client, persona)
    assert client.get(reverse("output_download", args=[item.pk])).status_code in (403, 404)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_team_pages_are_refused_to_everyone_off_the_team(persona, submitted, client):
    login(client, persona)
    project = submitted.request.project
    for url in (
        reverse("project_outputs", args=[project.pk]),
        reverse("output_request", args=[submitted.request.pk]),
    ):
        assert client.get(url).status_code in (403, 404), url
        assert client.post(url, {"action": "submit"}).status_code in (403, 404), url


@pytest.mark.parametrize(
    "persona",
    [p for p in PERSONAS if p not in ("secretariat", "data_steward")],
    indirect=True,
)
def test_checker_pages_are_refused_to_other_roles(persona, submitted, client):
    login(client, persona)
    version = submitted.versions.get()
    for url in (
        reverse("output_queue"),
        reverse("output_check", args=[submitted.pk]),
        reverse("output_checker_file", args=[version.pk]),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("output_check", args=[submitted.pk]), {"verdict": "approve"})
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(submitted, client):
    for url in (
        reverse("output_queue"),
        reverse("output_check", args=[submitted.pk]),
        reverse("output_download", args=[submitted.pk]),
        reverse("output_request", args=[submitted.request.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response.url


def test_checkers_read_the_file_under_review_and_it_is_audited(submitted, checker_a, client):
    login(client, checker_a)
    queue = client.get(reverse("output_queue"))
    assert [row["item"].pk for row in queue.context["rows"]] == [submitted.pk]
    response = client.get(reverse("output_checker_file", args=[submitted.versions.get().pk]))
    assert response.status_code == 200
    assert content_of(response) == FIXED
    assert AuditEvent.objects.filter(action="outputs.checker_read", actor=checker_a).exists()


# Public listing (TRA-11)


def test_the_lead_lists_a_released_result_only(submitted, checker_a, checker_b, lead, client):
    with pytest.raises(actions.OutputRefused):
        actions.list_output_publicly(item=submitted, publication_reference="", by=lead)
    item = released_item(submitted, checker_a, checker_b)
    login(client, lead)
    response = client.post(
        reverse("output_request", args=[item.request.pk]),
        {"action": "list", "item": item.pk, "publication_reference": "doi:10.1000/xyz"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.publicly_listed_at is not None
    assert item.publication_reference == "doi:10.1000/xyz"


def test_the_request_page_shows_the_flow_to_the_team(
    submitted, checker_a, checker_b, lead, client, django_assert_max_num_queries
):
    released_item(submitted, checker_a, checker_b)
    login(client, lead)
    with django_assert_max_num_queries(40):
        response = client.get(reverse("output_request", args=[submitted.request.pk]))
    assert response.status_code == 200
    assert "EDS-2026-0042-R01" in response.content.decode()


def test_the_public_page_lists_released_results_never_the_file(
    submitted, checker_a, checker_b, lead, secretariat, client
):
    project = submitted.request.project
    public_page(project, secretariat)
    url = reverse("transparency_project", args=[project.reference])
    item = released_item(submitted, checker_a, checker_b)
    assert "Visits by age" not in client.get(url).content.decode()
    item = actions.list_output_publicly(item=item, publication_reference="doi:10.1000/xyz", by=lead)
    page = client.get(url).content.decode()
    assert "Visits by age" in page
    assert "doi:10.1000/xyz" in page
    assert reverse("output_download", args=[item.pk]) not in page
    with pytest.raises(actions.OutputRefused):
        actions.list_output_publicly(item=item, publication_reference="changed", by=lead)
    day_before = item.publicly_listed_at.date() - timedelta(days=1)
    dated = client.get(url, {"on": day_before.isoformat()})
    assert "Visits by age" not in dated.content.decode()


def test_the_project_page_links_the_team_to_its_outputs(submitted, lead, checker_a, client):
    login(client, lead)
    page = client.get(reverse("project_detail", args=[submitted.request.project.pk]))
    assert reverse("project_outputs", args=[submitted.request.project.pk]) in page.content.decode()
    login(client, checker_a)
    home = client.get(reverse("output_queue"))
    assert reverse("output_queue") in home.content.decode()


# Closeout


def closing_post(**changes):
    data = {
        "results_summary": "Bronchiolitis visits peaked two weeks earlier in 2025.",
        "publications": "doi:10.1000/xyz",
        "no_results_reason": "",
        "copies_destroyed": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_lead_gives_the_final_report_and_closing_requires_it(
    project, lead, secretariat, client, settings
):
    from projects import workflow

    settings.EDS_CLOSEOUT_REPORT_REQUIRED = True
    with pytest.raises(workflow.TransitionRefused):
        workflow.fire(project, "close", by=secretariat)
    login(client, lead)
    url = reverse("project_closeout", args=[project.pk])
    refused = client.post(url, closing_post(copies_destroyed=None))
    assert refused.status_code == 409
    refused = client.post(url, closing_post(publications=""))
    assert refused.status_code == 409
    assert client.post(url, closing_post()).status_code == 302
    assert AuditEvent.objects.filter(action="project.closing_report", actor=lead).exists()
    workflow.fire(project, "close", by=secretariat)
    project.refresh_from_db()
    assert project.status == "closed"


def test_only_the_lead_gives_the_final_report(project, make_user):
    from access.outputs.closeout import submit_closing_report

    analyst = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    with pytest.raises(actions.OutputRefused):
        submit_closing_report(
            project=project,
            results_summary="x",
            publications="y",
            no_results_reason="",
            copies_destroyed=True,
            by=analyst,
        )


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_the_closeout_page_is_refused_off_the_team(persona, project, client):
    login(client, persona)
    url = reverse("project_closeout", args=[project.pk])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, closing_post()).status_code in (403, 404)


def test_the_closed_project_s_public_page_shows_its_results(project, lead, secretariat, client):
    from access.outputs.closeout import submit_closing_report
    from projects import workflow

    public_page(project, secretariat)
    submit_closing_report(
        project=project,
        results_summary="Visits peaked two weeks earlier.",
        publications="",
        no_results_reason="Negative results, report sent to the PDS.",
        copies_destroyed=True,
        by=lead,
    )
    url = reverse("transparency_project", args=[project.reference])
    assert "Visits peaked two weeks earlier." not in client.get(url).content.decode()
    workflow.fire(project, "close", by=secretariat)
    page = client.get(url).content.decode()
    assert "Visits peaked two weeks earlier." in page
    assert "Negative results" in page


# API


def test_the_api_runs_the_whole_flow(project, lead, checker_a, checker_b, client):
    login(client, lead)
    created = client.post(
        reverse("api_project_output_requests", args=[project.pk]),
        {"title": "Article 2"},
        content_type="application/json",
    )
    assert created.status_code == 201
    request_id = created.json()["id"]
    added = client.post(
        reverse("api_output_request", args=[request_id]),
        {
            "kind": "table",
            "title": "Visits by age",
            "description": "By age band",
            "cell_unit": "persons",
            "file": csv_file(WITH_FOUR),
        },
    )
    assert added.status_code == 201
    item = added.json()["items"][0]
    assert [(f["rule"], f["row"]) for f in item["findings"]] == [("small_cell", "0-4")]
    assert item["findings"][0]["message"]
    refused = client.post(reverse("api_output_request_submit", args=[request_id]))
    assert refused.status_code == 409
    actions.justify_output(item=OutputItem.objects.get(pk=item["id"]), justification="x", by=lead)
    assert client.post(reverse("api_output_request_submit", args=[request_id])).status_code == 200

    login(client, checker_a)
    url = reverse("api_output_check", args=[item["id"]])
    given = client.post(
        url, {"verdict": "changes", "comment": "Merge"}, content_type="application/json"
    )
    assert given.status_code == 200
    login(client, checker_b)
    assert client.get(url).json()["reviews"] == []
    given = client.post(url, {"verdict": "approve"}, content_type="application/json")
    assert [r["verdict"] for r in given.json()["reviews"]] == ["changes", "approve"]
    assert given.json()["status"] == "changes_requested"


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_the_api_is_refused_off_the_team_and_to_non_checkers(persona, submitted, client):
    login(client, persona)
    project = submitted.request.project
    for url in (
        reverse("api_project_output_requests", args=[project.pk]),
        reverse("api_output_request", args=[submitted.request.pk]),
    ):
        assert client.get(url).status_code in (403, 404), url
    response = client.get(reverse("api_output_check", args=[submitted.pk]))
    allowed = persona.roles & {Role.SECRETARIAT, Role.DATA_STEWARD}
    assert response.status_code == (200 if allowed else 403)
