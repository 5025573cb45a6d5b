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
