"""The client's address behind a proxy: one function (eds_portal.client_address) for login
throttling (django-axes), the public pages' flood counters and the audit trail.

Several clients reach the portal through one reverse proxy (10.0.0.1): each is told apart by the
entry the proxy appends to X-Forwarded-For; what a client writes there itself is never believed.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory

from access.models import OppositionRequest, PublicAttempt
from eds_portal.addresses import address_hash
from eds_portal.client_address import client_ip
from eds_portal.models import AuditEvent
from tests.access.helpers import BIRTH, DBS, form_data
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db(databases=DBS)

PROXY = "10.0.0.1"
ALICE = "198.51.100.7"
BOB = "203.0.113.9"
LOGIN = "/accounts/login/"


@pytest.fixture
def behind_proxy(settings):
    """One reverse proxy in front of the portal, connecting from 10.0.0.1."""
    settings.EDS_PROXY_COUNT = 1
    settings.EDS_TRUSTED_PROXIES = ["10.0.0.0/24"]


def via_proxy(client_address: str, *, spoofed: str = "") -> dict:
    """What the proxy sends on: its own address, and the client's appended to the header."""
    forwarded = f"{spoofed}, {client_address}" if spoofed else client_address
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded}


def _ip(**meta) -> str | None:
    return client_ip(RequestFactory().get("/", **meta))


# --- The function ---------------------------------------------------------------------------


def test_without_a_configured_proxy_the_header_is_ignored(settings):
    settings.EDS_PROXY_COUNT = 0
    settings.EDS_TRUSTED_PROXIES = []
    assert _ip(REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR=ALICE) == BOB


def test_behind_one_proxy_the_client_is_the_entry_it_appended(behind_proxy):
    assert _ip(**via_proxy(ALICE)) == ALICE
    # A client that writes its own X-Forwarded-For only adds entries on the left.
    assert _ip(**via_proxy(ALICE, spoofed="192.0.2.66")) == ALICE
    assert _ip(**via_proxy(ALICE, spoofed="not-an-address")) == ALICE


def test_behind_two_proxies_the_client_is_second_from_the_right(settings):
    settings.EDS_PROXY_COUNT = 2
    settings.EDS_TRUSTED_PROXIES = []
    header = f"192.0.2.66, {ALICE}, 10.0.0.9"  # spoofed, client, the first proxy
    assert _ip(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header) == ALICE


def test_a_connection_that_is_not_from_a_trusted_proxy_is_its_own_client(behind_proxy):
    assert _ip(REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR=ALICE) == BOB


def test_a_request_that_did_not_pass_the_proxy_falls_back_to_the_connection(settings):
    settings.EDS_PROXY_COUNT = 2
    settings.EDS_TRUSTED_PROXIES = []
    # One entry where two proxies would have written two: not believed.
    assert _ip(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE) == PROXY
    assert _ip(REMOTE_ADDR=PROXY) == PROXY


def test_an_ipv4_client_seen_through_ipv6_is_the_ipv4_client(settings):
    settings.EDS_PROXY_COUNT = 0
    assert _ip(REMOTE_ADDR=f"::ffff:{BOB}") == BOB


def test_axes_asks_the_same_function():
    from axes.helpers import get_client_ip_address

    request = RequestFactory().get("/", REMOTE_ADDR=BOB)
    assert settings.AXES_CLIENT_IP_CALLABLE == "eds_portal.client_address.client_ip"
    assert get_client_ip_address(request) == client_ip(request) == BOB


# --- Through the pages ------------------------------------------------------------------------


def test_one_clients_objection_flood_does_not_block_another(client, settings, behind_proxy):
    settings.EDS_OPPOSITION_SUBMISSIONS_PER_HOUR = 2
    settings.EDS_OPPOSITION_SUBMISSIONS_CEILING = 3
    for _ in range(2):
        assert client.post("/opposition/", form_data(), **via_proxy(ALICE)).status_code == 302
    assert client.post("/opposition/", form_data(), **via_proxy(ALICE)).status_code == 429
    # Bob comes through the same proxy: he objects at once.
    bob = Client()
    assert bob.post("/opposition/", form_data(), **via_proxy(BOB)).status_code == 302
    # Alice changing her own header does not give her a new quota.
    again = client.post("/opposition/", form_data(), **via_proxy(ALICE, spoofed=BOB))
    assert again.status_code == 429
    assert OppositionRequest.objects.count() == 3
    hashes = set(PublicAttempt.objects.values_list("source_hash", flat=True))
    assert hashes == {address_hash(ALICE), address_hash(BOB)}
    assert address_hash(PROXY) not in hashes


def test_one_clients_wrong_status_look_ups_do_not_block_another(client, settings, behind_proxy):
    settings.EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR = 2
    assert client.post("/opposition/", form_data(), **via_proxy(BOB)).status_code == 302
    receipt = OppositionRequest.objects.get().receipt_number
    wrong = {"receipt_number": receipt, "birth_date": "1970-01-01"}
    for _ in range(2):
        assert client.post("/opposition/status/", wrong, **via_proxy(ALICE)).status_code == 400
    right = {"receipt_number": receipt, "birth_date": BIRTH.isoformat()}
    assert client.post("/opposition/status/", right, **via_proxy(ALICE)).status_code == 429
    # The person who objected follows the request from her own connection.
    assert Client().post("/opposition/status/", right, **via_proxy(BOB)).status_code == 200


def test_axes_locks_the_client_who_guessed_not_the_accounts_owner(behind_proxy, researcher):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(
            LOGIN, {"username": researcher.email, "password": "wrong-123456"}, **via_proxy(ALICE)
        )
    locked = attacker.post(
        LOGIN, {"username": researcher.email, "password": TEST_PASSWORD}, **via_proxy(ALICE)
    )
    assert locked.status_code == 429
    owner = Client()
    response = owner.post(
        LOGIN, {"username": researcher.email, "password": TEST_PASSWORD}, **via_proxy(BOB)
    )
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(researcher.pk)
    # The trail names the client of each attempt, not the proxy.
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert set(failed.values_list("ip", flat=True)) == {ALICE}
    assert AuditEvent.objects.get(action="auth.login").ip == BOB
    assert not AuditEvent.objects.filter(ip=PROXY).exists()


def test_the_audit_trail_records_the_clients_address_behind_the_proxy(
    client, behind_proxy, researcher
):
    client.post(LOGIN, {"username": researcher.email, "password": TEST_PASSWORD}, **via_proxy(BOB))
    client.post("/projects/new/", {}, **via_proxy(BOB))
    events = AuditEvent.objects.exclude(ip=None)
    assert events.exists()
    assert set(events.values_list("ip", flat=True)) == {BOB}
    # A patient's request records the hash of her address (LOG-04), not the proxy's.
    Client().post("/opposition/", form_data(), **via_proxy(ALICE))
    received = AuditEvent.objects.get(action="opposition.objection_received")
    assert received.client_hash == address_hash(ALICE)


def test_a_spoofed_header_without_a_configured_proxy_is_ignored(client, settings):
    settings.EDS_PROXY_COUNT = 0
    settings.EDS_TRUSTED_PROXIES = []
    settings.EDS_OPPOSITION_SUBMISSIONS_PER_HOUR = 1
    settings.EDS_OPPOSITION_SUBMISSIONS_CEILING = 1
    first = client.post(
        "/opposition/", form_data(), REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR="192.0.2.1"
    )
    assert first.status_code == 302
    # A new made-up address in the header each time gives no new quota.
    second = client.post(
        "/opposition/", form_data(), REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR="192.0.2.2"
    )
    assert second.status_code == 429
    assert set(PublicAttempt.objects.values_list("source_hash", flat=True)) == {address_hash(BOB)}
    received = AuditEvent.objects.get(action="opposition.objection_received")
    assert received.client_hash == address_hash(BOB)


def test_a_spoofed_header_from_outside_the_trusted_proxies_is_ignored(
    client, behind_proxy, researcher
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": researcher.email, "password": "wrong-123456"},
            REMOTE_ADDR=BOB,
            HTTP_X_FORWARDED_FOR=ALICE,
        )
    assert set(
        AuditEvent.objects.filter(action="auth.login_failed").values_list("ip", flat=True)
    ) == {BOB}
    # Bob, reaching the web process directly, locked himself out, not Alice.
    alice = Client().post(
        LOGIN, {"username": researcher.email, "password": TEST_PASSWORD}, **via_proxy(ALICE)
    )
    assert alice.status_code == 302
