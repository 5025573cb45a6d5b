"""Rapporteurs and structured reviews."""


def register() -> None:
    """Called by ProjectsConfig.ready: object rules, home panels, page sections."""
    from projects import interest_views
    from projects.review import experts, panels, permissions

    permissions.register()
    # External experts: a per-object grant on one file (django-guardian).
    experts.register()
    panels.register()
    # Withdrawals of declared interests: the secretariat's answers to the members' requests.
    interest_views.register()
