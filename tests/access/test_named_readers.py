"""Accountability of reads (issue 17, item 6): every read of an identity names its reader (a
user, or the process that read it), and answers carrying personal or project data are never
stored by a browser or a proxy (``Cache-Control: no-store, private``)."""

from __future__ import annotations

import pytest
from django.db.models import Q

from access.opposition import actions
from eds_portal.models import AuditEvent
from tests.access.helpers import DBS, online_request, staff_request, warehouse_person
from tests.conftest import login
from warehouse import vault

pytestmark = pytest.mark.django_db(databases=DBS)

# Events that say someone read an identity from the vault.
IDENTITY_READS = (
    "vault.opposition_contact_read",
    "vault.opposition_identity_read",
    "vault.searched",
)


def _unnamed_identity_reads():
    return AuditEvent.objects.filter(action__in=IDENTITY_READS, actor__isnull=True).filter(
        Q(after__reader__isnull=True) | Q(after__reader="")
    )


def test_the_identity_officers_letter_names_her_as_the_reader(
    client, identity_officer, secretariat
):
    request = staff_request(secretariat)
    answer = actions.request_id_copy(by=identity_officer, request=request, reason="doubt")
    login(client, identity_officer)
    url = f"/registers/oppositions/{request.receipt_number}/letters/{answer.pk}"
    assert client.get(f"{url}/").status_code == 200
    assert client.get(f"{url}.pdf").status_code == 200
    reads = AuditEvent.objects.filter(
        action="vault.opposition_contact_read", target_id=request.receipt_number
    )
    assert reads.count() == 2
    assert {event.actor_id for event in reads} == {identity_officer.pk}
    assert not _unnamed_identity_reads().exists()


def test_the_mail_queue_names_itself_when_it_reads_the_address(
    identity_officer, django_capture_on_commit_callbacks
):
    person = warehouse_person()
    with django_capture_on_commit_callbacks(execute=True):
        request = online_request()
        actions.confirm_match(
            by=identity_officer, request=request, person_key=person.person_key, method="x"
        )
    read = AuditEvent.objects.filter(
        action="vault.opposition_contact_read", target_id=request.receipt_number
    ).first()
    assert read is not None, "the receipt mail read the address"
    assert read.actor_id is None
    assert read.after["reader"] == "mail queue"
    assert not _unnamed_identity_reads().exists()


@pytest.mark.parametrize("by", [None, "", "someone's script"])
def test_an_identity_is_never_read_without_a_named_reader(secretariat, by):
    request = staff_request(secretariat)
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="reader"):
        vault.opposition_contact(request.receipt_number, purpose="test", by=by)
    assert AuditEvent.objects.count() == before


# --- Cache-Control -----------------------------------------------------------------------------


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_pages_for_a_signed_in_person_are_never_stored(client, researcher):
    login(client, researcher)
    for url in ("/", "/projects/", "/notifications/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url


def test_the_dpos_registers_and_the_audit_trail_are_never_stored(client, dpo):
    login(client, dpo)
    for url in ("/registers/oppositions/", "/audit/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url


def test_api_answers_are_never_stored(client, researcher):
    login(client, researcher)
    response = client.get("/api/v1/projects/")
    assert response.status_code == 200
    assert _no_store(response)
    assert _no_store(client.get("/api/v1/projects/999999/"))  # errors too


def test_the_public_objection_pages_are_never_stored(client):
    for url in ("/opposition/", "/opposition/status/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), url


def test_the_public_transparency_portal_may_be_cached(client):
    response = client.get("/transparency/")
    assert response.status_code == 200
    assert not _no_store(response)
