"""Provisioning runs, delivery and destruction (docs/architecture.md "Provisioning").

``register()`` (called by ``AccessConfig.ready``) adds the object rules of the runs, the
project page's section and the data steward's home panel, and binds the jobs of ``queue`` to
their Celery tasks (by importing ``tasks``).

The modules of the actions, each importing (of these) only those listed after it
(``tests/test_import_graph.py`` checks that the package's import graph has no cycle):

- ``tasks``: the Celery tasks; they receive ids and call the actions below.
- ``publication``: the last step of a run (``publish_run``): gates and register checked again,
  rebuild or publish.
- ``delivery``: downloads recorded, supersession, destruction, the exit path's sweep.
- ``propagation``: what a run delivered; an objection that reaches delivered datasets.
- ``runs``: start, cancel, key rotation, planning, parts, failure, heartbeat, reaper.
- ``queue``: the jobs the actions send after commit, bound to their tasks by ``tasks``.

Beside them: ``keys``, ``selectors``, ``serving`` (the exit path's one decision), ``links``,
and the pages (``views``, ``propagation_views``, ``api``, ``urls``, ``sections``, ``panels``,
``permissions``).
"""


def register() -> None:
    # The tasks bind every job of ``queue`` as they are imported: before any action sends one.
    from access.provisioning import panels, permissions, sections, tasks  # noqa: F401

    permissions.register()
    sections.register()
    panels.register()
    # A closed or withdrawn project keeps no dataset: the sweep destroys them at once (a
    # suspended one keeps its files, unserved, until it is resumed or closed).
    from projects import workflow

    for name in ("close", "withdraw"):
        workflow.register_after_commit(name, _sweep_after_stop)
    # An approved amendment (GOV-13) is the specification in force: a run delivers it and
    # replaces the dataset; a project resumed after a suspension catches up the same way.
    for name in ("approve_amendment", "resume"):
        workflow.register_after_commit(name, _provision_specification_in_force)


def _sweep_after_stop(project_id: int) -> None:
    from access.provisioning import queue

    queue.SWEEP_DATASETS.send()  # the workflow calls this hook after the commit already


def _provision_specification_in_force(project_id: int) -> None:
    from access.provisioning.runs import start_run_for_specification_in_force

    start_run_for_specification_in_force(project_id=project_id)
