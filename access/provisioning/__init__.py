"""Provisioning runs, delivery and destruction (issue 7; DESIGN.md "Provisioning").

``register()`` (called by ``AccessConfig.ready``) adds the object rules of the runs, the
project page's section and the data steward's home panel.
"""


def register() -> None:
    from access.provisioning import panels, sections
    from access.provisioning.rules import register as register_rules

    register_rules()
    sections.register()
    panels.register()
    # A closed or withdrawn project keeps no dataset: the sweep destroys them at once (a
    # suspended one keeps its files, unserved, until it is resumed or closed).
    from projects import workflow

    for name in ("close", "withdraw"):
        workflow.register_after_commit(name, _sweep_after_stop)


def _sweep_after_stop(project_id: int) -> None:
    from access.provisioning.tasks import sweep_datasets_task

    sweep_datasets_task.delay()
