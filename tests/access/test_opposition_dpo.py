"""The DPO's side and permissions: OPP-04 deadlines, OPP-12 answers and letters, OPP-14 exports,
OPP-08 (nobody but the identity officer reads an identity), home panels, query counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from access.models import RequestStatus
from access.opposition import actions
from eds_portal.models import AuditEvent
from eds_portal.routers import VaultAccessDenied
from tests.access.helpers import DBS, online_request, staff_request, warehouse_person
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=DBS)


def _applied(officer, **changes):
    person = warehouse_person(**changes)
    request = online_request(**changes)
    actions.confirm_match(by=officer, request=request, person_key=person.person_key, method="x")
    request.refresh_from_db()
    return request, person


def test_opp04_due_date_is_one_month_after_receipt(secretariat):
    received = timezone.make_aware(timezone.datetime(2026, 1, 31, 10))
    request = staff_request(secretariat, received_at=received)
    assert str(request.due_on) == "2026-02-28"


def test_opp04_extension_within_the_first_month_with_a_reason(dpo, secretariat, english):
    request = staff_request(secretariat)
    with pytest.raises(actions.RefusedAction):
        actions.extend_deadline(by=dpo, request=request, months=2, reason=" ", channel="post")
    answer = actions.extend_deadline(
        by=dpo, request=request, months=2, reason="Many requests", channel="post"
    )
    request.refresh_from_db()
    assert request.extension_months == 2
    assert request.due_on.month - request.base_due_on.month in (2, -10)
    assert answer.outcome == "extension"
    with pytest.raises(actions.RefusedAction):  # once only
        actions.extend_deadline(by=dpo, request=request, months=1, reason="x", channel="post")
    late = staff_request(secretariat, received_at=timezone.now() - timedelta(days=40))
    with pytest.raises(actions.RefusedAction, match="first month"):
        actions.extend_deadline(by=dpo, request=late, months=1, reason="x", channel="post")


def test_opp04_dpo_page_and_reminders(client, dpo, secretariat, django_capture_on_commit_callbacks):
    overdue = staff_request(secretariat, received_at=timezone.now() - timedelta(days=40))
    soon = staff_request(secretariat, received_at=timezone.now() - timedelta(days=27))
    staff_request(secretariat)  # due in a month: not listed
    login(client, dpo)
    page = client.get("/registers/oppositions/deadlines/")
    assert [r.pk for r in page.context["overdue"]] == [overdue.pk]
    assert [r.pk for r in page.context["due"]] == [soon.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.send_deadline_reminders() == 2
    assert [m.to for m in mail.outbox] == [[dpo.email]]
    assert actions.send_deadline_reminders() == 0  # once a day


def test_opp12_answer_letter_html_pdf_and_email(
    client, dpo, identity_officer, django_capture_on_commit_callbacks
):
    request, _person = _applied(identity_officer)
    login(client, dpo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/registers/oppositions/{request.receipt_number}/answer/",
            {"outcome": "applied", "reasons": "", "channel": "email"},
        )
    assert response.status_code == 302
    answer = request.answers.get()
    assert answer.sent_by == dpo
    assert mail.outbox[-1].to == ["anne@example.org"]
    assert request.receipt_number in mail.outbox[-1].subject
    page = client.get(f"/registers/oppositions/{request.receipt_number}/letters/{answer.pk}/")
    assert page.status_code == 200
    assert "Lef" not in page.content.decode()  # the DPO's copy has no addressee
    pdf = client.get(f"/registers/oppositions/{request.receipt_number}/letters/{answer.pk}.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_opp12_refusal_states_reasons_and_the_cnil(client, dpo, secretariat, english):
    request = staff_request(secretariat)
    with pytest.raises(actions.RefusedAction):
        actions.send_answer(by=dpo, request=request, outcome="refused", reasons="", channel="post")
    answer = actions.send_answer(
        by=dpo, request=request, outcome="refused", reasons="Not the person", channel="post"
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    login(client, dpo)
    body = client.get(
        f"/registers/oppositions/{request.receipt_number}/letters/{answer.pk}/"
    ).content.decode()
    assert "Not the person" in body
    assert "CNIL" in body


def test_identity_officer_letter_carries_the_postal_address(client, identity_officer, secretariat):
    request = staff_request(secretariat)
    answer = actions.request_id_copy(by=identity_officer, request=request, reason="doubt")
    login(client, identity_officer)
    body = client.get(
        f"/registers/oppositions/{request.receipt_number}/letters/{answer.pk}/"
    ).content.decode()
    assert "1 rue X" in body


def test_opp14_csv_and_fhir_exports_without_identity(client, dpo, identity_officer):
    request, person = _applied(identity_officer)
    login(client, dpo)
    csv_response = client.get("/registers/oppositions/register.csv")
    text = b"".join(csv_response.streaming_content).decode()
    assert request.receipt_number in text
    assert person.person_key not in text
    assert "Lef" not in text
    bundle = json.loads(client.get("/registers/oppositions/consents.fhir.json").content)
    assert bundle["resourceType"] == "Bundle"
    consent = bundle["entry"][0]["resource"]
    assert consent["resourceType"] == "Consent"
    assert consent["status"] == "active"
    assert consent["provision"]["type"] == "deny"
    assert consent["scope"]["coding"][0]["code"] == "research"
    assert person.person_key not in json.dumps(bundle)
    assert AuditEvent.objects.filter(action="opposition.register_read").count() >= 2


def test_csv_export_neutralises_formulas():
    from eds_portal.exports import neutralise  # the one writer of every export

    assert neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert neutralise("EDS-1") == "EDS-1"


PAGES = [
    "/registers/oppositions/",
    "/registers/oppositions/{r}/",
    "/registers/oppositions/{r}/match/",
    "/registers/oppositions/deadlines/",
    "/registers/oppositions/register/",
    "/registers/oppositions/register.csv",
    "/registers/oppositions/consents.fhir.json",
    "/registers/oppositions/new/",
]
ALLOWED = {
    "secretariat": {0, 1, 7},
    "dpo": {0, 1, 3, 4, 5, 6, 7},
    "identity_officer": {0, 1, 2, 7},
}


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "patient_representative",
        "chair",
        "data_steward",
        "auditor",
        "outsider",
        "secretariat",
        "dpo",
        "identity_officer",
    ],
    indirect=True,
)
def test_opp08_permissions_of_every_role_on_every_page(client, persona, secretariat):
    request = staff_request(secretariat)
    login(client, persona)
    held = {role.value for role in persona.roles}
    name = next((role for role in ALLOWED if role in held), None)
    for index, page in enumerate(PAGES):
        response = client.get(page.format(r=request.receipt_number))
        allowed = name is not None and index in ALLOWED[name]
        assert (response.status_code == 200) == allowed, (persona, page, response.status_code)
        if response.status_code == 200 and index != 2:
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            assert "Lef" not in content.decode()  # only the matching page shows identities


def test_anonymous_is_sent_to_login(client, secretariat):
    request = staff_request(secretariat)
    response = client.get(f"/registers/oppositions/{request.receipt_number}/")
    assert response.status_code == 302


def test_unknown_receipt_is_404_for_staff(client, dpo):
    login(client, dpo)
    assert client.get("/registers/oppositions/OPP-2026-ZZZZZZ/").status_code == 404


def test_opp08_researcher_pages_never_open_the_vault(client, researcher, monkeypatch):
    import eds_portal.routers as routers

    def closed(purpose):
        raise VaultAccessDenied(f"vault opened for {purpose}")

    online_request()
    login(client, researcher)
    monkeypatch.setattr(routers, "vault_access", closed)
    import warehouse.vault as vault_module

    monkeypatch.setattr(vault_module, "vault_access", closed)
    for url in ("/", "/projects/", "/opposition/", "/opposition/status/"):
        assert client.get(url).status_code == 200


def test_home_panels(client, identity_officer, dpo, secretariat, settings):
    settings.LANGUAGE_CODE = "en"  # the assertions read the English msgids
    staff_request(secretariat)
    for user, text in (
        (identity_officer, "identity matching"),
        (dpo, "overdue"),
        (secretariat, "open opposition request"),
    ):
        login(client, user)
        assert text in client.get("/").content.decode()


def test_list_query_count_is_pinned(client, dpo, secretariat, django_assert_max_num_queries):
    for _ in range(5):
        staff_request(secretariat)
    login(client, dpo)
    with django_assert_max_num_queries(12):
        response = client.get("/registers/oppositions/?show=all")
    assert len(response.context["rows"]) == 5


def test_demo_adds_three_requests_and_claims_no_identity_without_a_published_cohort(
    secretariat,
):
    from datetime import date

    from django.core.management import call_command

    from access.opposition import demo

    for index, name in enumerate(["Durand", "Petit", "Roux", "Moreau"]):
        warehouse_person(birth_name=name, first_names="Julie", birth_date=date(1980, 1, index + 1))
    created, visitor = demo.load(secretariat)
    assert len(created) == 3
    # No published project: no identity is offered as being in its dataset.
    assert visitor is None
    assert demo.load(secretariat)[0] == []  # idempotent
    call_command("rematch_oppositions")


def test_fhir_consent_becomes_inactive_after_withdrawal(client, dpo, identity_officer):
    request, _person = _applied(identity_officer)
    actions.record_withdrawal(
        by=dpo, objection=request, channel="email", received_at=timezone.now()
    )
    login(client, dpo)
    bundle = json.loads(client.get("/registers/oppositions/consents.fhir.json").content)
    assert [e["resource"]["status"] for e in bundle["entry"]] == ["inactive"]
