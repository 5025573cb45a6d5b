"""Sessions, quorum, votes, the written procedure and decisions (issue 5, items 6 and 7)."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, detail sections."""
