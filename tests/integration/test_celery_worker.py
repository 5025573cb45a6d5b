"""A real Celery worker on Redis runs a task whose effect lands in PostgreSQL."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from eds_portal.celery import app
from eds_portal.models import AuditEvent
from eds_portal.tasks import verify_audit_chain_task

# serialized_rollback: transactional tests flush the tables, role groups included; this puts
# the migrations' data back for the tests that follow.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def real_worker():
    if settings.QUEUE_BACKEND_LABEL != "Redis" or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (run under .ci/run, or start both locally)")
    app.conf.task_always_eager = False
    try:
        # perform_ping_check needs the celery.ping task, which is not registered here.
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
        ):
            yield
    finally:
        app.conf.task_always_eager = True


def test_worker_verifies_the_chain_and_writes_the_event_in_postgresql(real_worker, dpo):
    assert AuditEvent.objects.filter(action="role.granted").exists()
    verify_audit_chain_task.delay()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        event = AuditEvent.objects.filter(action="audit.chain_verified").first()
        if event is not None:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the worker did not record the verification within 30 s")
    assert event.after["ok"] is True
    assert event.after["checked"] >= 1
