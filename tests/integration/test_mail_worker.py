"""A real Celery worker on Redis sends the mail queued by a committed action, and retries it with
its backoff when the mail server fails the first attempt."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.db import connection, transaction

from eds_portal.celery import app
from eds_portal.mail import queue_mail
from eds_portal.models import MailStatus, OutgoingMail
from tests.eds_portal.mail_backends import FlakyBackend

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
        with start_worker(
            app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
        ):
            yield
    finally:
        app.conf.task_always_eager = True


def _wait_for(predicate, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_retries_a_failed_attempt_and_sends(settings, real_worker):
    settings.EMAIL_BACKEND = "tests.eds_portal.mail_backends.FlakyBackend"
    settings.EDS_MAIL_RETRY_SECONDS = 1
    FlakyBackend.attempts = 0
    FlakyBackend.failures = 1
    mail.outbox = []
    with transaction.atomic():
        row = queue_mail(
            kind="notification", to=["rita@inserm.example"], subject="Sujet", body="Corps"
        )
    sent = _wait_for(
        lambda: OutgoingMail.objects.filter(pk=row.pk, status=MailStatus.SENT).exists()
    )
    row.refresh_from_db()
    assert sent, f"not sent within 30 s: {row.status}, {row.attempts} attempt(s), {row.last_error}"
    assert row.attempts == 2
    assert FlakyBackend.attempts == 2
    assert [m.to for m in mail.outbox] == [["rita@inserm.example"]]
