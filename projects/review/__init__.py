"""Rapporteurs and structured reviews (issue 5, items 3 and 4)."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from projects.review import panels, permissions

    permissions.register()
    panels.register()
