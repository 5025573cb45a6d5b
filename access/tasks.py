"""Periodic tasks of the opposition register and of closeout (Celery autodiscovers
``access.tasks``)."""

from __future__ import annotations

from celery import shared_task

from access.opposition import actions, objection_flags


@shared_task(ignore_result=True)
def rematch_oppositions_task() -> dict:
    """OPP-09: objections without a warehouse person are matched again with the new data."""
    summary = actions.rematch_oppositions(by=None)
    return {
        "checked": summary.checked,
        "matched": summary.matched,
        "flagged": summary.with_candidates,
    }


@shared_task(ignore_result=True)
def send_opposition_reminders_task() -> int:
    """OPP-04: the DPO is told which requests are due soon or overdue."""
    return actions.send_deadline_reminders()


@shared_task(ignore_result=True)
def sync_objection_flags_task() -> dict:
    """The warehouse's flags of warehouse-wide objectors become the register's (nightly)."""
    summary = objection_flags.sync_all(by=None)
    return {"flagged": summary.flagged, "unflagged": summary.unflagged, "total": summary.total}


# Provisioning runs, delivery and destruction: autodiscovery reads this module only.
from access.provisioning.tasks import (  # noqa: E402, F401  named access.provisioning.tasks.*
    destroy_superseded_dataset_task,
    prepare_run_task,
    propagate_objection_task,
    publish_run_task,
    reap_provisioning_runs_task,
    sweep_datasets_task,
    write_part_task,
)


@shared_task(ignore_result=True)
def send_results_reminders_task() -> dict:
    """Results due soon or overdue: one reminder to the lead before, one after (RET-03)."""
    from access.outputs.closeout import send_results_reminders

    return send_results_reminders()
