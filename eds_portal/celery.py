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
    # Keys of the client-address hashes past their retention go, so that the hashes of
    # patients' public requests can no longer be traced back (LOG-04).
    "purge-address-keys": {
        "task": "eds_portal.tasks.purge_address_keys_task",
        "schedule": crontab(hour=0, minute=15),
    },
    "clear-expired-sessions": {
        "task": "eds_portal.tasks.clear_expired_sessions_task",
        "schedule": crontab(hour=3, minute=0),
    },
    # Rapporteurs: one reminder before the due date, one once overdue (each sent once).
    "send-review-reminders": {
        "task": "projects.review.tasks.send_review_reminders_task",
        "schedule": crontab(hour=8, minute=0),
    },
    # Opposition register: objections not matched yet meet the night's new data (OPP-09), and
    # the DPO hears of the requests due soon or overdue (OPP-04).
    "rematch-oppositions": {
        "task": "access.tasks.rematch_oppositions_task",
        "schedule": crontab(hour=4, minute=30),
    },
    "send-opposition-reminders": {
        "task": "access.tasks.send_opposition_reminders_task",
        "schedule": crontab(hour=8, minute=15),
    },
    # Feasibility counts: the warehouse's flags of warehouse-wide objectors are made equal to
    # the register (each objection and withdrawal already flags after its commit).
    "sync-objection-flags": {
        "task": "access.tasks.sync_objection_flags_task",
        "schedule": crontab(hour=4, minute=45),
    },
    # Provisioning: runs whose worker went silent are handed to another one (every minute);
    # the exit path's sweep destroys datasets past their access period, replaced or of a closed
    # project, and catches objections whose propagation message was lost (MIN-13, OPP-11).
    "reap-provisioning-runs": {
        "task": "access.provisioning.tasks.reap_provisioning_runs_task",
        "schedule": 60.0,
    },
    "sweep-datasets": {
        "task": "access.provisioning.tasks.sweep_datasets_task",
        "schedule": 600.0,
    },
}
