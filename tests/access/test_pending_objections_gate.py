"""Objections not matched yet hold up provisioning (OPP-09, OPP-10).

An objection waiting for identity matching or an ID copy that may cover a project refuses its
runs, naming the receipt numbers; it stops doing so once matched, found to concern nobody,
refused, withdrawn, or overridden by the DPO for that project.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from access.formalities.gates import pending_objection_reasons, provisioning_blockers
from access.models import Channel, ObjectionOverride, RequestStatus, Scope
from access.models_provisioning import RunStatus
from access.opposition import actions
from access.provisioning import runs
from eds_portal.models import AuditEvent
from tests.access.helpers import online_request, staff_request, warehouse_person
from tests.access.helpers import project as make_project
from tests.access.provisioning_helpers import DBS, published
from tests.conftest import login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("provisioning_settings", "english_client"),
]

OTHER_ROLES = [
    "researcher",
    "secretariat",
    "commission_member",
    "patient_representative",
    "chair",
    "identity_officer",
    "data_steward",
    "auditor",
    "outsider",
]


@pytest.fixture
def chosen(researcher):
    return make_project(researcher, reference="EDS-2026-0901")


@pytest.fixture
def other(researcher):
    return make_project(researcher, reference="EDS-2026-0902", title="Asthme")


def _blocked_by(project) -> str:
    reasons = pending_objection_reasons(project)
    assert reasons == [r for r in provisioning_blockers(project) if "identity matching" in r]
    return " ".join(reasons)


def test_a_warehouse_wide_objection_waiting_for_matching_holds_up_every_project(chosen, other):
    request = online_request()
    for project in (chosen, other):
        reason = _blocked_by(project)
        assert request.receipt_number in reason
        assert "Lef" not in reason  # receipt numbers, never identities
        assert "OPP-09" in reason


def test_projects_not_on_their_way_to_data_get_no_such_reason(researcher):
    online_request()
    draft = make_project(researcher, reference="EDS-2026-0903", status="draft")
    assert pending_objection_reasons(draft) == []


def test_waiting_for_an_id_copy_holds_up_too(chosen, identity_officer):
    request = online_request()
    actions.request_id_copy(by=identity_officer, request=request, reason="doubt")
    request.refresh_from_db()
    assert request.status == RequestStatus.ID_REQUESTED
    assert request.receipt_number in _blocked_by(chosen)


def test_a_project_scoped_objection_holds_up_only_the_projects_it_names(chosen, other):
    request = online_request(scope=Scope.PROJECTS, projects=[chosen])
    assert request.receipt_number in _blocked_by(chosen)
    assert pending_objection_reasons(other) == []


def test_the_gate_is_one_query(chosen, other, django_assert_num_queries):
    everything = online_request()
    named = online_request(scope=Scope.PROJECTS, projects=[chosen], birth_name="Martin")
    elsewhere = online_request(scope=Scope.PROJECTS, projects=[other], birth_name="Durand")
    with django_assert_num_queries(1):
        reasons = pending_objection_reasons(chosen)
    assert len(reasons) == 1
    assert everything.receipt_number in reasons[0]
    assert named.receipt_number in reasons[0]
    assert elsewhere.receipt_number not in reasons[0]


def test_settled_objections_no_longer_hold_up(chosen, identity_officer, dpo):
    matched = online_request()
    person = warehouse_person()
    not_found = online_request(birth_name="Inconnue")
    withdrawn = online_request(birth_name="Petit")
    refused = online_request(birth_name="Roux")
    receipts = {r.receipt_number for r in (matched, not_found, withdrawn, refused)}
    assert all(receipt in _blocked_by(chosen) for receipt in receipts)

    actions.confirm_match(
        by=identity_officer, request=matched, person_key=person.person_key, method="x"
    )
    actions.mark_not_matched(by=identity_officer, request=not_found, method="nobody")
    actions.record_withdrawal(
        by=dpo, objection=withdrawn, channel=Channel.POST, received_at=timezone.now()
    )
    actions.send_answer(
        by=dpo, request=refused, outcome="refused", reasons="Not the person", channel="post"
    )
    assert pending_objection_reasons(chosen) == []


def test_the_dpo_overrides_for_one_project_through_the_page(client, dpo, chosen, other):
    request = online_request()
    login(client, dpo)
    page = client.get(f"/registers/oppositions/{request.receipt_number}/override/")
    assert page.status_code == 200
    assert [p.pk for p in page.context["held_up"]] == [chosen.pk, other.pk]
    refused = client.post(
        f"/registers/oppositions/{request.receipt_number}/override/",
        {"project": chosen.pk, "reason": "  "},
    )
    assert refused.status_code == 400
    assert not ObjectionOverride.objects.exists()
    response = client.post(
        f"/registers/oppositions/{request.receipt_number}/override/",
        {"project": chosen.pk, "reason": "Urgent public-health analysis; matching is late."},
    )
    assert response.status_code == 302
    override = ObjectionOverride.objects.get()
    assert (override.request, override.project, override.by) == (request, chosen, dpo)
    assert pending_objection_reasons(chosen) == []
    assert request.receipt_number in _blocked_by(other)  # only the named project
    event = AuditEvent.objects.get(action="opposition.override_recorded")
    assert event.actor == dpo
    assert event.after == {"receipt": request.receipt_number, "project": chosen.reference}
    assert "Lef" not in str(event.after)
    page = client.get(f"/registers/oppositions/{request.receipt_number}/override/")
    body = page.content.decode()
    assert "Urgent public-health analysis" in body
    assert [p.pk for p in page.context["held_up"]] == [other.pk]


def test_overrides_are_checked(dpo, chosen, other, identity_officer):
    scoped = online_request(scope=Scope.PROJECTS, projects=[chosen])
    with pytest.raises(actions.RefusedAction, match="does not name"):
        actions.record_objection_override(by=dpo, request=scoped, project=other, reason="x")
    with pytest.raises(actions.RefusedAction, match="reason"):
        actions.record_objection_override(by=dpo, request=scoped, project=chosen, reason=" ")
    actions.record_objection_override(by=dpo, request=scoped, project=chosen, reason="x")
    with pytest.raises(actions.RefusedAction, match="already"):
        actions.record_objection_override(by=dpo, request=scoped, project=chosen, reason="y")
    settled = online_request(birth_name="Inconnue")
    actions.mark_not_matched(by=identity_officer, request=settled, method="nobody")
    with pytest.raises(actions.RefusedAction, match="waiting for identity matching"):
        actions.record_objection_override(by=dpo, request=settled, project=chosen, reason="x")
    assert AuditEvent.objects.filter(action="opposition.override_recorded").count() == 1


@pytest.mark.parametrize("persona", OTHER_ROLES, indirect=True)
def test_only_the_dpo_may_override(client, persona, chosen):
    request = online_request()
    with pytest.raises(PermissionDenied):
        actions.record_objection_override(by=persona, request=request, project=chosen, reason="x")
    login(client, persona)
    url = f"/registers/oppositions/{request.receipt_number}/override/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"project": chosen.pk, "reason": "x"}).status_code == 403
    assert not ObjectionOverride.objects.exists()
    assert request.receipt_number in _blocked_by(chosen)


def test_anonymous_visitors_are_sent_to_the_login_page(client, chosen):
    request = online_request()
    response = client.get(f"/registers/oppositions/{request.receipt_number}/override/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_overrides_are_append_only(dpo, chosen):
    request = online_request()
    override = actions.record_objection_override(
        by=dpo, request=request, project=chosen, reason="x"
    )
    override.reason = "rewritten"
    with pytest.raises(PermissionError):
        override.save()
    with pytest.raises(PermissionError):
        override.delete()
    with pytest.raises(PermissionError):
        ObjectionOverride.objects.filter(pk=override.pk).update(reason="y")
    with pytest.raises(PermissionError):
        ObjectionOverride.objects.all().delete()
    if connection.vendor == "postgresql":
        from django.db import DatabaseError

        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE access_objectionoverride SET reason = 'rewritten'")
    assert ObjectionOverride.objects.get().reason == "x"


def test_the_dpo_finds_them_on_the_deadlines_and_request_pages(client, dpo, chosen):
    request = online_request()
    staff = staff_request(dpo, birth_name="Martin")
    actions.record_objection_override(by=dpo, request=staff, project=chosen, reason="x")
    login(client, dpo)
    page = client.get("/registers/oppositions/deadlines/")
    rows = page.context["holding_up"]
    assert [(row["request"], row["projects"]) for row in rows] == [(request, [chosen])]
    body = page.content.decode()
    assert "Objections holding up provisioning" in body
    assert f"/registers/oppositions/{request.receipt_number}/override/" in body
    detail = client.get(f"/registers/oppositions/{request.receipt_number}/").content.decode()
    assert f"/registers/oppositions/{request.receipt_number}/override/" in detail


# --- Through the real task path ------------------------------------------------------------


@pytest.mark.usefixtures("warehouse_rows")
def test_the_run_is_refused_with_the_receipt_number_until_the_dpo_overrides(
    researcher, secretariat, chair, data_steward, dpo, django_capture_on_commit_callbacks
):
    project = published(researcher, secretariat, chair)
    request = online_request(scope=Scope.PROJECTS, projects=[project])
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert any(request.receipt_number in reason for reason in run.reasons)
    assert "Lef" not in " ".join(run.reasons)
    refused = AuditEvent.objects.get(action="provisioning.run_refused", target_id=str(run.pk))
    assert refused.after["reasons"] == run.reasons

    actions.record_objection_override(
        by=dpo, request=request, project=project, reason="Matching delayed; urgent analysis."
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = runs.start_run(project=project, by=data_steward)
    second.refresh_from_db()
    assert second.status == RunStatus.PUBLISHED, second.reasons


@pytest.mark.usefixtures("warehouse_rows")
def test_the_demo_leaves_its_published_project_provisionable():
    """``make run``: two sample objections wait for the identity officer, overridden by the DPO
    for the published project; the one about nobody in the warehouse is not matched."""
    from django.core.management import call_command

    from access.models import OppositionRequest
    from projects.models import Project, ProjectStatus

    call_command("load_demo")
    call_command("load_demo_projects")
    call_command("load_demo_oppositions")
    statuses = sorted(OppositionRequest.objects.values_list("status", flat=True))
    assert statuses == ["not_matched", "received", "received"]
    project = Project.objects.get(status=ProjectStatus.PUBLISHED)
    assert pending_objection_reasons(project) == []
    assert provisioning_blockers(project) == []
    assert ObjectionOverride.objects.filter(project=project).count() == 2
    # A visitor's own objection then holds the project up again, as it should.
    waiting = online_request()
    assert waiting.receipt_number in " ".join(pending_objection_reasons(project))
