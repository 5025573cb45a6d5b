"""Output checking (issue 12): requests, automatic checks, two independent checkers, release."""

from __future__ import annotations

from typing import Any


def may_check(user: Any, item: Any) -> bool:
    """A checker (data office staff or an output checker it named) is never a member of the
    project's team, even after its closing, nor conflicted on it (the same rule as for the
    commission's reviewers: team, same organisation as a team member, declared interest)."""
    from projects.conflicts import is_conflicted
    from projects.permissions import team_role

    project = item.request.project
    return team_role(user, project) is None and not is_conflicted(user, project)


def may_download_released(user: Any, item: Any) -> bool:
    from access.models_outputs import OutputItemStatus
    from projects.permissions import is_member

    return item.status == OutputItemStatus.RELEASED and is_member(user, item.request.project)


def register() -> None:
    from access.models_outputs import OutputItem
    from eds_portal.authz import Permission, register_object_rule
    from projects.models import Project
    from projects.permissions import is_member

    register_object_rule(Permission.REQUEST_OUTPUTS, Project, predicate=is_member)
    register_object_rule(Permission.CHECK_OUTPUTS, OutputItem, predicate=may_check)
    register_object_rule(
        Permission.DOWNLOAD_RELEASED_OUTPUT, OutputItem, predicate=may_download_released
    )
    from access.outputs import closeout, sections

    sections.register()
    closeout.register()
