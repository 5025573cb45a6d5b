"""Patients' addresses are not kept raw (LOG-04).

Public pages and anonymous requests record a hash of the client's address under a key that
rotates every EDS_ADDRESS_KEY_DAYS days and is deleted after EDS_ADDRESS_KEY_RETENTION_DAYS;
signed-in staff (and failed logins) keep the address.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.crypto import salted_hmac

from access.models import OppositionRequest, PublicAttempt
from eds_portal import addresses
from eds_portal.addresses import (
    address_hash,
    address_hash_at,
    address_hashes,
    period_start,
    purge_address_keys,
)
from eds_portal.audit import GENESIS_HASH, _timestamp, compute_hash, record_event, verify_chain
from eds_portal.models import AddressKey, AuditEvent
from tests.access.helpers import BIRTH, DBS, form_data
from tests.conftest import login
from tests.csv_exports import read_csv_dicts
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(databases=DBS)

PATIENT = "203.0.113.7"
STAFF = "192.0.2.44"
MONDAY = date(2026, 11, 30)


@pytest.fixture
def on_day(monkeypatch):
    """Moves the address keys' calendar (the events keep their real time)."""

    def move(day: date) -> None:
        monkeypatch.setattr(addresses, "_today", lambda: day)

    move(MONDAY)
    return move


def _no_raw_address_anywhere(address: str) -> None:
    assert not AuditEvent.objects.filter(ip=address).exists()
    for event in AuditEvent.objects.all():
        assert address not in json.dumps([event.before, event.after, event.ip])


def test_an_online_objection_records_the_hash_never_the_address(client, settings, on_day):
    response = client.post("/opposition/", form_data(), REMOTE_ADDR=PATIENT)
    assert response.status_code == 302
    expected = address_hash(PATIENT)
    received = AuditEvent.objects.get(action="opposition.objection_received")
    assert received.ip is None
    assert received.client_hash == expected
    assert len(expected) == 64
    # The flood counting uses the same rotating hash: no permanent hash of the address.
    assert OppositionRequest.objects.get().source_hash == expected
    assert PublicAttempt.objects.get().source_hash == expected
    _no_raw_address_anywhere(PATIENT)
    assert verify_chain().ok


def test_a_status_look_up_records_the_hash_never_the_address(client, on_day):
    client.post("/opposition/", form_data(), REMOTE_ADDR=PATIENT)
    receipt = OppositionRequest.objects.get().receipt_number
    wrong = client.post(
        "/opposition/status/",
        {"receipt_number": receipt, "birth_date": "1970-01-01"},
        REMOTE_ADDR=PATIENT,
    )
    assert wrong.status_code == 400
    right = client.post(
        "/opposition/status/", {"receipt_number": receipt, "birth_date": BIRTH}, REMOTE_ADDR=PATIENT
    )
    assert right.status_code == 200
    viewed = AuditEvent.objects.get(action="opposition.status_viewed")
    assert viewed.ip is None
    assert viewed.client_hash == address_hash(PATIENT)
    failure = PublicAttempt.objects.get(purpose=PublicAttempt.Purpose.STATUS_FAILURE)
    assert failure.source_hash == viewed.client_hash
    _no_raw_address_anywhere(PATIENT)


def test_a_signed_in_staff_member_on_a_public_page_is_hashed_too(client, secretariat, on_day):
    login(client, secretariat)
    client.post("/opposition/", form_data(), REMOTE_ADDR=STAFF)
    received = AuditEvent.objects.get(action="opposition.objection_received")
    assert received.ip is None
    assert received.client_hash == address_hash(STAFF)


def test_staff_events_keep_their_address(client, secretariat, dpo, on_day):
    login(client, secretariat)
    data = form_data(channel="post", received_on=timezone.localdate().isoformat())
    response = client.post("/registers/oppositions/new/", data, REMOTE_ADDR=STAFF)
    assert response.status_code == 302, response.context["form"].errors
    received = AuditEvent.objects.get(action="opposition.objection_received")
    assert received.ip == STAFF
    assert received.client_hash == ""
    login(client, dpo)
    client.get("/audit/", REMOTE_ADDR=STAFF)
    viewed = AuditEvent.objects.get(action="audit.viewed")
    assert (viewed.ip, viewed.client_hash) == (STAFF, "")
    assert not AddressKey.objects.exists()  # no staff request needed a key


def test_failed_logins_keep_the_address_and_successful_ones_too(client, researcher, on_day):
    client.post(
        "/accounts/login/",
        {"username": researcher.email, "password": "wrong-password-123"},
        REMOTE_ADDR=STAFF,
    )
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert (failed.ip, failed.client_hash) == (STAFF, "")
    client.post(
        "/accounts/login/",
        {"username": researcher.email, "password": TEST_PASSWORD},
        REMOTE_ADDR=STAFF,
    )
    success = AuditEvent.objects.get(action="auth.login")
    assert (success.ip, success.client_hash) == (STAFF, "")


def test_same_hash_within_a_period_another_in_the_next(on_day, settings):
    settings.EDS_ADDRESS_KEY_DAYS = 7
    first = address_hash(PATIENT)
    assert address_hash(PATIENT) == first
    assert address_hash("203.0.113.8") != first
    # Spellings of one address are one address.
    assert address_hash("::ffff:203.0.113.7") == first
    on_day(MONDAY + timedelta(days=6))  # same period
    assert address_hash(PATIENT) == first
    on_day(MONDAY + timedelta(days=7))  # the next one
    second = address_hash(PATIENT)
    assert second != first
    # While the previous key is kept, flood windows count both periods' hashes.
    assert address_hashes(PATIENT) == [second, first]
    assert AddressKey.objects.count() == 2


def test_period_boundaries_follow_the_setting(settings):
    settings.EDS_ADDRESS_KEY_DAYS = 7
    assert period_start(date(2026, 12, 6)) == MONDAY  # a Sunday
    assert period_start(MONDAY) == MONDAY
    settings.EDS_ADDRESS_KEY_DAYS = 1
    assert period_start(date(2026, 12, 6)) == date(2026, 12, 6)


def test_once_the_key_is_deleted_the_old_hash_cannot_be_recomputed(on_day, settings):
    settings.EDS_ADDRESS_KEY_DAYS = 7
    settings.EDS_ADDRESS_KEY_RETENTION_DAYS = 14
    old = address_hash(PATIENT)
    then = timezone.make_aware(datetime.combine(MONDAY, time(12)))
    on_day(MONDAY + timedelta(days=10))
    assert purge_address_keys() == []  # kept for 14 days after its period starts
    assert address_hash_at(PATIENT, then) == old  # a flood can still be traced
    on_day(MONDAY + timedelta(days=15))
    assert purge_address_keys() == [MONDAY]
    assert not AddressKey.objects.filter(starts_on=MONDAY).exists()
    assert address_hash_at(PATIENT, then) is None
    assert not AddressKey.objects.filter(starts_on=MONDAY).exists()  # never drawn again
    assert address_hash(PATIENT) != old
    # The SECRET_KEY alone does not give the old hash back: trying addresses is useless.
    assert salted_hmac("eds_portal.address|", PATIENT, algorithm="sha256").hexdigest() != old
    deleted = AuditEvent.objects.get(action="audit.address_keys_deleted")
    assert deleted.after == {"periods": [MONDAY.isoformat()]}


def test_the_nightly_task_deletes_expired_keys_and_draws_the_current_one(on_day, settings):
    from eds_portal.celery import app
    from eds_portal.tasks import purge_address_keys_task

    settings.EDS_ADDRESS_KEY_DAYS = 7
    settings.EDS_ADDRESS_KEY_RETENTION_DAYS = 14
    for weeks in (0, 1, 2, 3):
        on_day(MONDAY + timedelta(weeks=weeks))
        address_hash(PATIENT)
    on_day(MONDAY + timedelta(weeks=3, days=2))
    assert purge_address_keys_task.delay().get() == [
        MONDAY.isoformat(),
        (MONDAY + timedelta(weeks=1)).isoformat(),
    ]
    kept = sorted(AddressKey.objects.values_list("starts_on", flat=True))
    assert kept == [MONDAY + timedelta(weeks=2), MONDAY + timedelta(weeks=3)]
    assert purge_address_keys_task.delay().get() == []
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "eds_portal.tasks.purge_address_keys_task" in scheduled


def test_flood_counting_spans_the_change_of_key(client, settings, on_day):
    settings.EDS_OPPOSITION_SUBMISSIONS_PER_HOUR = 2
    settings.EDS_OPPOSITION_SUBMISSIONS_CEILING = 5
    for _ in range(2):
        assert client.post("/opposition/", form_data(), REMOTE_ADDR=PATIENT).status_code == 302
    on_day(MONDAY + timedelta(days=7))  # a new key, the same hour
    response = client.post("/opposition/", form_data(), REMOTE_ADDR=PATIENT)
    assert response.status_code == 429
    assert response.context["flood"] == "confirm"
    # Another connection is not held back.
    assert client.post("/opposition/", form_data(), REMOTE_ADDR="198.51.100.1").status_code == 302


def _event_as_written_before_the_field(seq: int, prev_hash: str) -> AuditEvent:
    """An event hashed by the code that predates ``client_hash`` (its payload, verbatim)."""
    occurred_at = timezone.now()
    payload = {
        "seq": seq,
        "occurred_at": _timestamp(occurred_at),
        "actor_id": None,
        "action": "test.legacy",
        "target_type": "test.thing",
        "target_id": str(seq),
        "before": None,
        "after": {"n": seq},
        "ip": "192.0.2.1",
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return AuditEvent.objects.create(
        seq=seq,
        occurred_at=occurred_at,
        action="test.legacy",
        target_type="test.thing",
        target_id=str(seq),
        after={"n": seq},
        ip="192.0.2.1",
        prev_hash=prev_hash,
        hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def _raw(sql: str, params=()):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_the_chain_verifies_with_old_and_new_events_and_seals_the_hash(on_day):
    from eds_portal.audit import reset_request_ip, set_request_address

    first = _event_as_written_before_the_field(1, GENESIS_HASH)
    second = _event_as_written_before_the_field(2, first.hash)
    token = set_request_address(PATIENT, public_page=lambda: True)
    try:
        hashed = record_event(action="test.public", target_type="test.thing", target_id="3")
    finally:
        reset_request_ip(token)
    fourth = record_event(action="test.system")
    assert hashed.client_hash == address_hash(PATIENT)
    assert hashed.ip is None
    assert (fourth.ip, fourth.client_hash) == (None, "")
    assert [second.seq, hashed.seq, fourth.seq] == [2, 3, 4]
    assert verify_chain().ok
    assert verify_chain().checked == 4
    # The hash is part of the sealed content: rewriting it breaks the chain there.
    _raw("UPDATE eds_portal_auditevent SET client_hash = %s WHERE seq = 3", ["f" * 64])
    report = verify_chain()
    assert report.broken_seq == 3
    assert "altered" in report.reason


def test_compute_hash_is_unchanged_without_a_client_hash():
    fields = {
        "seq": 1,
        "occurred_at": timezone.now(),
        "actor_id": None,
        "action": "x",
        "target_type": "",
        "target_id": "",
        "before": None,
        "after": None,
        "ip": None,
        "prev_hash": GENESIS_HASH,
    }
    assert compute_hash(**fields) == compute_hash(**fields, client_hash="")
    assert compute_hash(**fields) != compute_hash(**fields, client_hash="a" * 64)


def test_the_trail_page_csv_and_api_show_the_hash(client, auditor, on_day):
    client.post("/opposition/", form_data(), REMOTE_ADDR=PATIENT)
    expected = address_hash(PATIENT)
    login(client, auditor)
    page = client.get("/audit/", {"action": "opposition"}).content.decode()
    assert expected[:16] in page
    assert PATIENT not in page
    export = client.get("/audit/export.csv", {"action": "opposition.objection_received"})
    rows = read_csv_dicts(export)
    assert [(row["ip"], row["client_hash"]) for row in rows] == [("", expected)]
    api = client.get("/api/v1/audit-events/", {"action": "opposition.objection_received"})
    results = api.json()["results"]
    assert [(item["ip"], item["client_hash"]) for item in results] == [(None, expected)]
