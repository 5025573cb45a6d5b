"""Rapporteurs and structured reviews."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from projects.review import panels, permissions

    permissions.register()
    panels.register()
