"""Formalities and gates (GOV-02, GOV-12, TRA-08, TRA-09).

The secretariat records the CNIL formality and the directory registration of an approved
project and publishes its page; ``provisioning_blockers`` says whether a project may be
provisioned and, if not, every reason why.
"""


def register() -> None:
    """Called by AccessConfig.ready: the workflow's extra guards and the project page section."""
    from access.formalities import gates, sections

    gates.register()
    sections.register()
    # GOV-13: the commission's decision on an amendment updates the page online.
    from projects import workflow

    for name in ("approve_amendment", "refuse_amendment"):
        workflow.register_after_commit(name, _publish_amendment_outcome)


def _publish_amendment_outcome(project_id: int) -> None:
    from access.formalities.actions import publish_amendment_outcome

    publish_amendment_outcome(project_id=project_id)
