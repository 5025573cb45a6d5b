"""The Celery application; its settings are the CELERY_* entries of eds_portal.settings."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eds_portal.settings")

app = Celery("eds_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Proves every night that nobody rewrote history (LOG-04); the result is itself audited.
    "verify-audit-chain": {
        "task": "eds_portal.tasks.verify_audit_chain_task",
        "schedule": crontab(hour=2, minute=30),
    },
    "clear-expired-sessions": {
        "task": "eds_portal.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=0),
    },
}
