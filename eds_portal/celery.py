"""The Celery application; its settings are the CELERY_* entries of eds_portal.settings."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eds_portal.settings")

app = Celery("eds_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Log lines and audit events of a task carry the id of the request that started it.
from eds_portal.logs import connect_celery_signals  # noqa: E402

connect_celery_signals()

app.conf.beat_schedule = {
    # Beat shows it is alive (/healthz calls it stale after EDS_HEALTH_BEAT_STALE_SECONDS).
    "beat-heartbeat": {
        "task": "eds_portal.tasks.beat_heartbeat_task",
        "schedule": 60.0,
    },
    # Mails whose retry is due, or whose message or worker was lost, are queued again.
    "retry-outgoing-mail": {
        "task": "eds_portal.tasks.retry_outgoing_mail_task",
        "schedule": 60.0,
    },
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
    # Each closed month of the trail is sealed by a signed checkpoint, then the checkpoints are
    # verified (LOG-04); what is past retention is purged (counts to the trail, RET-01..07;
    # the hour is eds_portal.retention.PURGE_HOUR, shown on the DPO's page).
    "close-audit-periods": {
        "task": "eds_portal.tasks.close_audit_periods_task",
        "schedule": crontab(hour=0, minute=5),
    },
    "verify-audit-checkpoints": {
        "task": "eds_portal.tasks.verify_audit_checkpoints_task",
        "schedule": crontab(hour=2, minute=45),
    },
    "purge-retention": {
        "task": "eds_portal.tasks.purge_retention_task",
        "schedule": crontab(hour=1, minute=15),
    },
    # The log review's rules over the last hour (LOG-03).
    "review-logs": {
        "task": "eds_portal.tasks.review_logs_task",
        "schedule": crontab(minute=5),
    },
    # Accounts unused for EDS_ACCOUNT_INACTIVE_DAYS are disabled, after a warning e-mail.
    "disable-inactive-accounts": {
        "task": "eds_portal.tasks.disable_inactive_accounts_task",
        "schedule": crontab(hour=3, minute=20),
    },
    # Roles past the end date of their grant are revoked (they already give nothing).
    "expire-role-grants": {
        "task": "eds_portal.tasks.expire_role_grants_task",
        "schedule": crontab(hour=0, minute=30),
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
    # Closeout (RET-03): the lead hears of the results due date before it and once after it.
    "send-results-reminders": {
        "task": "access.tasks.send_results_reminders_task",
        "schedule": crontab(hour=8, minute=30),
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
