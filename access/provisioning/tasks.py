"""Celery tasks of provisioning: they receive ids, claim their row, and call the actions.

Every task is ``acks_late`` with ``reject_on_worker_lost``: a message is acknowledged only once
its work is over, so a worker that dies hands it back to the broker, and the claim on the row
makes the second delivery harmless. Time limits come from the settings, which keep them below
the broker's visibility timeout (or the broker would hand a live task to a second worker).

This module is the top of provisioning's import graph: it imports the actions, never the
reverse. The actions queue work through ``queue``, whose jobs the tasks below are bound to
(``@queue.<JOB>.bind``) when this module is imported; ``access.provisioning.register()`` imports
it in every process, and Celery finds the tasks through ``access.tasks``.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from access.provisioning import delivery, propagation, publication, queue, runs

# The tasks, re-exported by name by ``access.tasks`` (never the actions).
__all__ = [
    "destroy_superseded_dataset_task",
    "prepare_run_task",
    "propagate_objection_task",
    "publish_run_task",
    "reap_provisioning_runs_task",
    "sweep_datasets_task",
    "write_part_task",
]

RUN_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
}


@queue.PREPARE_RUN.bind
@shared_task(**RUN_TASK_OPTIONS)
def prepare_run_task(run_id: int) -> bool:
    """Gates, register snapshot, project key, plan and parts of a queued run."""
    return runs.prepare_run(run_id=run_id)


@queue.WRITE_PART.bind
@shared_task(**RUN_TASK_OPTIONS)
def write_part_task(part_id: int) -> bool:
    """One part of a run, by whichever worker takes it first."""
    return runs.write_part(part_id=part_id)


@queue.PUBLISH_RUN.bind
@shared_task(**RUN_TASK_OPTIONS)
def publish_run_task(run_id: int) -> bool:
    """The register checked again, then the dataset assembled and published atomically."""
    return publication.publish_run(run_id=run_id)


@shared_task(ignore_result=True, acks_late=True)
def reap_provisioning_runs_task() -> dict:
    """Parts and runs whose worker went silent go to another worker (or the run fails)."""
    return runs.reap_runs()


@queue.PROPAGATE_OBJECTION.bind
@shared_task(ignore_result=True, acks_late=True)
def propagate_objection_task(entry_id: int) -> int:
    """OPP-11: an objection that took effect reaches the datasets already delivered."""
    return len(propagation.propagate_objection(entry_id=entry_id))


@queue.DESTROY_SUPERSEDED_DATASET.bind
@shared_task(ignore_result=True, acks_late=True)
def destroy_superseded_dataset_task(run_id: int) -> bool:
    """A dataset replaced by a newer version: its files go, with a certificate (MIN-14)."""
    return delivery.destroy_superseded_dataset(run_id=run_id)


@queue.SWEEP_DATASETS.bind
@shared_task(ignore_result=True, acks_late=True)
def sweep_datasets_task() -> dict:
    """The exit path's safety net: expired, replaced and stopped datasets, lost propagations."""
    return delivery.sweep_datasets()
