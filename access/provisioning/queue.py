"""The work that provisioning hands to a worker, as the actions see it: jobs sent after commit.

The actions (``runs``, ``publication``, ``delivery``, ``propagation``) queue work by sending one
of the jobs below, never by importing ``tasks`` nor by naming a task:

    queue.PREPARE_RUN.on_commit(run.pk)     # one message, once the transaction commits

``tasks`` imports the actions and binds each job to its Celery task when it is imported
(``@queue.PREPARE_RUN.bind`` above the task); ``access.provisioning.register()`` (called by
``AccessConfig.ready``) imports ``tasks``, so every process (web, worker, command, test) has
its jobs bound before any action runs. The import graph is thus one-way:
``tasks -> runs, publication, delivery, propagation -> queue``, and this module imports
nothing of provisioning.

A job is sent by reference to its task (``task.delay(...)``), through ``send``: the one place a
provisioning message leaves, which a test may replace to stand for the broker.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction


class Job:
    """One kind of work for a worker; bound to its Celery task by ``tasks``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.task: Any = None

    def __repr__(self) -> str:
        return f"<Job {self.name}{'' if self.task is not None else ' (not bound)'}>"

    def bind(self, task: Any) -> Any:
        """Decorator of the task that does this job; returns the task unchanged."""
        if self.task is not None and self.task is not task:
            raise RuntimeError(f"job {self.name} is already bound to another task")
        self.task = task
        return task

    def _bound(self) -> Any:
        if self.task is None:
            raise RuntimeError(
                f"job {self.name} has no task: access.provisioning.tasks was not imported "
                "(access.provisioning.register(), called by AccessConfig.ready, imports it)"
            )
        return self.task

    def send(self, *args: Any) -> None:
        """One message now: for a caller already past its commit (an after-commit hook)."""
        send(self._bound(), args)

    def on_commit(self, *args: Any) -> None:
        """One message once the current transaction commits; none if it rolls back.

        The task is looked up now, so that a job without its task fails inside the
        transaction (which then rolls back) rather than after the commit.
        """
        task = self._bound()
        transaction.on_commit(lambda: send(task, args))


def send(task: Any, args: tuple) -> None:
    """Hands a message to the broker (with ``CELERY_TASK_ALWAYS_EAGER``, runs it here)."""
    task.delay(*args)


# Runs (``runs``, ``publication``): the steps of a run, each claimed by whichever worker takes it.
PREPARE_RUN = Job("prepare_run")
WRITE_PART = Job("write_part")
PUBLISH_RUN = Job("publish_run")
# The exit path (``delivery``, ``propagation``).
PROPAGATE_OBJECTION = Job("propagate_objection")
DESTROY_SUPERSEDED_DATASET = Job("destroy_superseded_dataset")
SWEEP_DATASETS = Job("sweep_datasets")
