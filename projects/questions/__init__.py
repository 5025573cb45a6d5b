"""Questions between the commission and the team, and notifications (issue 5, items 5 and 8)."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, detail sections."""
