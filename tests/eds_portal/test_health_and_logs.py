"""/healthz for the load balancer, the staff's detailed view, JSON logs with a request id."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from eds_portal import health
from eds_portal.celery import app
from eds_portal.logs import (
    TASK_HEADER,
    JsonFormatter,
    RequestIdFilter,
    _before_publish,
    bind_request_id,
    unbind_request_id,
)
from eds_portal.models import AuditEvent, Heartbeat
from eds_portal.tasks import beat_heartbeat_task
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

PONG = [{"celery@worker-1": {"ok": "pong"}}]


@pytest.fixture(autouse=True)
def _fresh_checks(settings):
    settings.EDS_HEALTH_CACHE_SECONDS = 0


@pytest.fixture
def with_worker(settings, monkeypatch):
    """A deployment that checks its worker and beat; the worker answers the ping."""
    settings.EDS_HEALTH_CHECK_WORKER = True
    monkeypatch.setattr(app.control, "ping", lambda timeout=None: PONG)
    beat_heartbeat_task.delay()


def _health(client):
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_healthz_checks_every_service_and_says_nothing_else(client, with_worker, settings):
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "ok"
    expected = {"database.default", "database.warehouse", "database.vault", "redis", "worker"}
    assert expected | {"beat", "disk"} == set(body["checks"])
    assert set(body["checks"].values()) <= {"ok", "skipped"}
    assert body["checks"]["worker"] == body["checks"]["beat"] == "ok"
    text = json.dumps(body)
    db = settings.DATABASES["default"]
    for secret in (db["NAME"], str(settings.CELERY_BROKER_URL), "celery@worker-1", "ms"):
        assert secret not in text


def test_a_database_that_does_not_answer_makes_it_unhealthy(client, monkeypatch):
    def down():
        raise OSError("connection refused to db.internal:5432")

    monkeypatch.setattr(
        health, "_database", lambda alias: down if alias == "vault" else (lambda: {})
    )
    status, body = _health(client)
    assert (status, body["status"], body["checks"]["database.vault"]) == (
        503,
        "unavailable",
        "failing",
    )
    assert "db.internal" not in json.dumps(body)


def test_redis_that_does_not_answer_makes_it_unhealthy(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    status, body = _health(client)
    assert (status, body["checks"]["redis"]) == (503, "failing")


def test_no_worker_answering_the_ping_makes_it_unhealthy(client, with_worker, monkeypatch):
    monkeypatch.setattr(app.control, "ping", lambda timeout=None: [])
    status, body = _health(client)
    assert (status, body["checks"]["worker"]) == (503, "failing")


def test_the_web_check_ignores_a_dead_worker_but_not_a_dead_database(
    client, with_worker, monkeypatch
):
    """A load balancer choosing web nodes asks /healthz/web: a dead worker must not pull every
    web node (and the public objection form) out; a database that does not answer must."""
    monkeypatch.setattr(app.control, "ping", lambda timeout=None: [])
    assert client.get("/healthz").status_code == 503
    response = client.get("/healthz/web")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {
        "database.default",
        "database.warehouse",
        "database.vault",
        "redis",
    }

    def down():
        raise OSError("connection refused")

    monkeypatch.setattr(
        health, "_database", lambda alias: down if alias == "default" else (lambda: {})
    )
    response = client.get("/healthz/web")
    assert (response.status_code, response.json()["checks"]["database.default"]) == (
        503,
        "failing",
    )


def test_a_stale_beat_makes_it_unhealthy(client, with_worker, settings):
    Heartbeat.objects.filter(name="beat").update(
        beat_at=timezone.now() - timedelta(seconds=settings.EDS_HEALTH_BEAT_STALE_SECONDS + 5)
    )
    status, body = _health(client)
    assert (status, body["checks"]["beat"]) == (503, "failing")
    Heartbeat.objects.all().delete()
    assert _health(client)[1]["checks"]["beat"] == "failing"  # never beaten
    beat_heartbeat_task.delay()
    assert _health(client) == (200, _health(client)[1])


def test_beat_schedules_its_heartbeat_and_the_mail_sweep():
    scheduled = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert scheduled["eds_portal.tasks.beat_heartbeat_task"] == 60.0
    assert "eds_portal.tasks.retry_outgoing_mail_task" in scheduled


def test_a_full_disk_makes_it_unhealthy(client, settings, tmp_path):
    settings.EDS_DATASETS_DIR = tmp_path / "not" / "yet" / "made"
    assert _health(client)[1]["checks"]["disk"] == "ok"
    settings.EDS_HEALTH_MIN_FREE_MB = 10**12
    status, body = _health(client)
    assert (status, body["checks"]["disk"]) == (503, "failing")


def test_where_tasks_run_eagerly_the_worker_is_not_asked(client, settings):
    settings.EDS_HEALTH_CHECK_WORKER = False
    status, body = _health(client)
    assert status == 200
    assert body["checks"]["worker"] == body["checks"]["beat"] == "skipped"


def test_the_answer_is_kept_a_few_seconds(client, settings, monkeypatch):
    settings.EDS_HEALTH_CACHE_SECONDS = 30
    calls = []
    real = health.run_checks
    monkeypatch.setattr(health, "run_checks", lambda: calls.append(1) or real())
    health._cache["at"] = None
    for _ in range(5):
        assert client.get("/healthz").status_code == 200
    assert len(calls) == 1


# --- The detailed view ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["secretariat", "data_steward", "dpo"], indirect=True)
def test_staff_read_the_details(client, persona, with_worker):
    login(client, persona)
    page = client.get("/healthz/details/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "database.vault" in html
    assert "free_mb=" in html
    data = client.get("/healthz/details/", {"format": "json"}).json()
    assert data["details"]["worker"]["workers"] == 1
    assert data["details"]["beat"]["age_seconds"] < 60
    assert data["mail"] == {"failed": 0, "retrying": 0}


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "patient_representative",
        "chair",
        "identity_officer",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_other_roles_may_not_read_the_details(client, persona):
    login(client, persona)
    assert client.get("/healthz/details/").status_code == 403
    assert client.get("/healthz/details/", {"format": "json"}).status_code == 403


def test_anonymous_is_sent_to_login_for_the_details(client):
    assert client.get("/healthz/details/").url.startswith("/accounts/login/")


# --- Request ids and JSON logs ----------------------------------------------------------------


def test_every_response_carries_a_request_id_found_in_the_audit_trail(client, researcher):
    response = client.post(
        "/accounts/login/", {"username": researcher.email, "password": "wrong-123456"}
    )
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.request_id == request_id
    assert client.get("/healthz")["X-Request-ID"] != request_id


def test_the_load_balancers_request_id_is_kept_if_well_formed(client):
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c2e-0001")
    assert kept["X-Request-ID"] == "lb-7f3a9c2e-0001"
    forged = client.get("/healthz", HTTP_X_REQUEST_ID='x" level=ERROR\nfake line')
    assert forged["X-Request-ID"] != 'x" level=ERROR\nfake line'
    assert len(forged["X-Request-ID"]) == 32


def test_the_request_id_is_part_of_the_sealed_event(client, researcher):
    from eds_portal.audit import verify_chain

    client.post("/accounts/login/", {"username": researcher.email, "password": "wrong-123456"})
    assert verify_chain().ok
    event = AuditEvent.objects.get(action="auth.login_failed")
    from tests.eds_portal.helpers import tamper

    tamper(
        "UPDATE eds_portal_auditevent SET request_id = 'other-id-0000' WHERE seq = %s", [event.seq]
    )
    assert verify_chain().broken_seq == event.seq


def test_log_lines_are_json_with_the_request_id():
    record = logging.LogRecord(
        "eds_portal.test", logging.WARNING, __file__, 1, "hello %s", ("you",), None
    )
    record.route = "projects/<int:pk>/"
    token = bind_request_id("req-12345678")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        unbind_request_id(token)
    assert line["message"] == "hello you"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "req-12345678"
    assert line["route"] == "projects/<int:pk>/"
    assert line["time"].endswith("+00:00")


def test_a_request_logs_its_route_never_its_path(client, caplog, settings):
    caplog.set_level(logging.INFO, logger="eds_portal.request")
    logging.getLogger("eds_portal.request").setLevel(logging.INFO)
    try:
        client.get("/projects/invitations/SECRET-TOKEN-123/")
    finally:
        logging.getLogger("eds_portal.request").setLevel(logging.WARNING)
    [record] = [r for r in caplog.records if r.name == "eds_portal.request"]
    assert "SECRET-TOKEN-123" not in json.dumps(vars(record), default=str)
    assert record.route == "projects/invitations/<str:token>/"
    assert record.status in (200, 302)


def test_tasks_started_by_a_request_carry_its_id():
    headers: dict = {}
    token = bind_request_id("req-abcdef12")
    try:
        _before_publish(headers=headers)
    finally:
        unbind_request_id(token)
    assert headers == {TASK_HEADER: "req-abcdef12"}
