"""The secretariat's pipeline and processing-time statistics (issue 5, item 9)."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from projects.dashboards import panels

    panels.register()
