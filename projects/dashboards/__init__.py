"""The secretariat's pipeline and processing-time statistics."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from projects.dashboards import panels

    panels.register()
