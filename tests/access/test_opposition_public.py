"""The public side of the opposition register: form, receipt, status page, paper form.

OPP-01 (free, no account, no reason), OPP-02 (several channels), OPP-03 (scope), OPP-06/07
(requester roles), Fields B; abuse cases: oversized fields, scripts, floods.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from access.models import Channel, OppositionRequest, PublicAttempt, RequestStatus, Scope
from eds_portal.models import AuditEvent
from eds_portal.routers import vault_access
from projects.models import ProjectStatus
from tests.access.helpers import BIRTH, DBS, form_data, project, public_page
from warehouse.models import OppositionIdentity

pytestmark = pytest.mark.django_db(databases=DBS)

RECEIPT = re.compile(r"OPP-\d{4}-[A-Z2-9]{6}")


def test_opp01_anyone_objects_online_without_an_account_and_gets_a_receipt(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/opposition/", form_data())
    assert response.status_code == 302
    assert response.url == "/opposition/sent/"
    request = OppositionRequest.objects.get()
    assert RECEIPT.fullmatch(request.receipt_number)
    assert request.channel == Channel.ONLINE
    assert request.received_by is None
    assert request.status == RequestStatus.RECEIVED
    page = client.get("/opposition/sent/")
    assert request.receipt_number in page.content.decode()
    # The receipt is e-mailed (after commit) with the number and the due date.
    assert len(mail.outbox) == 1
    assert request.receipt_number in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="opposition.objection_received").exists()


def test_fields_b_identity_lives_in_the_vault_only(client):
    client.post("/opposition/", form_data(comment="Je refuse."))
    request = OppositionRequest.objects.get()
    with vault_access("test"):
        stored = OppositionIdentity.objects.get(receipt_number=request.receipt_number)
    assert stored.birth_name == "Lefèvre"
    assert stored.contact_email == "anne@example.org"
    assert stored.comment == "Je refuse."
    # Nothing of the identity in the portal's row or in the audit trail.
    row = OppositionRequest.objects.filter(pk=request.pk).values().get()
    flat = " ".join(str(v) for v in row.values())
    assert "Lef" not in flat
    assert "anne@" not in flat
    assert BIRTH.isoformat() not in flat
    trail = " ".join(str(e.after) for e in AuditEvent.objects.all())
    assert "Lef" not in trail
    assert "anne@" not in trail


def test_invalid_input_gets_clear_messages_and_keeps_what_was_typed(client):
    response = client.post(
        "/opposition/",
        form_data(birth_date="2999-01-01", contact_email="", scope="projects", postal_code="75"),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "birth_date" in form.errors
    assert "contact_email" in form.errors
    assert "projects" in form.errors
    assert "postal_code" in form.errors
    assert 'value="Lefèvre"' in response.content.decode()
    assert OppositionRequest.objects.count() == 0


def test_opp06_representative_must_give_their_name(client):
    response = client.post("/opposition/", form_data(requester_role="guardian"))
    assert response.status_code == 400
    assert "requester_name" in response.context["form"].errors
    client.post("/opposition/", form_data(requester_role="guardian", requester_name="Tuteur"))
    assert OppositionRequest.objects.get().requester_role == "guardian"


def test_opp07_relative_of_a_deceased_person_can_report_the_refusal(client):
    client.post(
        "/opposition/", form_data(requester_role="relative_deceased", requester_name="Fils")
    )
    assert OppositionRequest.objects.get().requester_role == "relative_deceased"


def test_opp03_project_scope_and_preselection(client, researcher):
    published = project(researcher, status=ProjectStatus.PUBLISHED)
    public_page(published, researcher)
    draft = project(researcher, reference="EDS-2026-0902", status=ProjectStatus.DRAFT)
    page = client.get(f"/opposition/?project={published.reference}")
    assert page.context["form"].initial["projects"] == [published.pk]
    assert published.reference in page.content.decode()
    assert draft.reference not in page.content.decode()  # drafts are not public
    client.post("/opposition/", form_data(scope="projects", projects=[published.pk]))
    request = OppositionRequest.objects.get()
    assert request.scope == Scope.PROJECTS
    assert list(request.projects.all()) == [published]


def test_abuse_oversized_fields_are_errors_not_crashes(client):
    response = client.post("/opposition/", form_data(birth_name="A" * 5000, comment="x" * 100_000))
    assert response.status_code == 400
    assert {"birth_name", "comment"} <= set(response.context["form"].errors)


def test_abuse_scripts_are_escaped(client, identity_officer):
    from tests.conftest import login

    script = "<script>alert(1)</script>"
    response = client.post("/opposition/", form_data(birth_name=script, birth_date="bad"))
    assert script not in response.content.decode()
    assert "&lt;script&gt;" in response.content.decode()
    client.post("/opposition/", form_data(birth_name=script, comment=script))
    request = OppositionRequest.objects.get()
    login(client, identity_officer)
    page = client.get(f"/registers/oppositions/{request.receipt_number}/match/")
    assert page.status_code == 200
    assert script not in page.content.decode()


def test_abuse_flood_asks_to_confirm_and_never_drops_a_request(client, settings):
    settings.EDS_OPPOSITION_SUBMISSIONS_PER_HOUR = 2
    settings.EDS_OPPOSITION_SUBMISSIONS_CEILING = 3
    for _ in range(2):
        assert client.post("/opposition/", form_data()).status_code == 302
    response = client.post("/opposition/", form_data(first_names="Louise"))
    assert response.status_code == 429
    assert response.context["flood"] == "confirm"
    assert 'value="Louise"' in response.content.decode()  # kept
    assert OppositionRequest.objects.count() == 2
    assert client.post("/opposition/", form_data(confirm_another="on")).status_code == 302
    assert OppositionRequest.objects.count() == 3
    response = client.post("/opposition/", form_data(confirm_another="on"))
    assert response.status_code == 429
    assert response.context["flood"] == "ceiling"
    assert OppositionRequest.objects.count() == 3
    assert PublicAttempt.objects.count() == 3


def test_status_page_needs_receipt_and_birth_date(client):
    client.post("/opposition/", form_data())
    receipt = OppositionRequest.objects.get().receipt_number
    wrong = client.post(
        "/opposition/status/", {"receipt_number": receipt, "birth_date": "1970-01-01"}
    )
    unknown = client.post(
        "/opposition/status/", {"receipt_number": "OPP-2026-AAAAAA", "birth_date": BIRTH}
    )
    # The same generic message: it says nothing of which part was wrong.
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    right = client.post(
        "/opposition/status/", {"receipt_number": receipt.lower(), "birth_date": BIRTH}
    )
    assert right.status_code == 200
    body = right.content.decode()
    assert receipt in body
    assert "Lef" not in body
    assert AuditEvent.objects.filter(action="opposition.status_viewed").count() == 1


def test_status_page_is_throttled(client, settings):
    settings.EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR = 3
    client.post("/opposition/", form_data())
    receipt = OppositionRequest.objects.get().receipt_number
    for _ in range(3):
        client.post("/opposition/status/", {"receipt_number": receipt, "birth_date": "1970-01-01"})
    blocked = client.post("/opposition/status/", {"receipt_number": receipt, "birth_date": BIRTH})
    assert blocked.status_code == 429


def test_opp02_printable_paper_form(client):
    response = client.get("/opposition/paper-form/")
    assert response.status_code == 200
    assert "<h1>" in response.content.decode()


def test_sent_page_without_a_submission_goes_back_to_the_form(client):
    assert client.get("/opposition/sent/").url == "/opposition/"
