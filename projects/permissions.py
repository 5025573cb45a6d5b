"""Who may do what on a project, registered with the authorization facade.

Team members see their project; the lead and co-investigators edit the draft while it is
editable; only the lead submits, withdraws and manages the team. Once the project is closed,
its team holds no right on it (``team_access_ended``). The secretariat and the DPO
see every project; commission members see a file in review once they declared no interest
and are not conflicted automatically (projects/conflicts.py).
"""

from __future__ import annotations

from typing import Any

from eds_portal.authz import Permission, register_object_rule
from eds_portal.roles import Role
from projects.models import Project, ProjectStatus, TeamRole

EDITORS = (TeamRole.LEAD, TeamRole.CO_INVESTIGATOR)


def team_access_ended(project: Project) -> bool:
    """A closed project's team keeps no right on it (RET-03): its data is destroyed, its
    results are on the public page; membership stays as history, and for conflicts."""
    return project.status == ProjectStatus.CLOSED


def team_role(user: Any, project: Project) -> str | None:
    """The user's role on the team, whatever the project's status (history, conflicts)."""
    if not getattr(user, "is_authenticated", False):
        return None
    cache = getattr(project, "_member_roles", None)
    if cache is None:
        cache = dict(project.memberships.values_list("user_id", "role"))
        project._member_roles = cache
    return cache.get(user.pk)


def _role_in_project(user: Any, project: Project) -> str | None:
    """The role that grants rights: none once the project is closed."""
    if team_access_ended(project):
        return None
    return team_role(user, project)


def is_member(user: Any, project: Project) -> bool:
    return _role_in_project(user, project) is not None


def can_edit(user: Any, project: Project) -> bool:
    return project.is_editable and _role_in_project(user, project) in EDITORS


def is_lead(user: Any, project: Project) -> bool:
    return _role_in_project(user, project) == TeamRole.LEAD


def member_or_unconflicted_reader(user: Any, project: Project) -> bool:
    from projects.conflicts import may_read_file

    return is_member(user, project) or may_read_file(user, project)


def register() -> None:
    register_object_rule(
        Permission.VIEW_PROJECT,
        Project,
        roles_on_all=frozenset({Role.SECRETARIAT, Role.DPO}),
        predicate=member_or_unconflicted_reader,
    )
    register_object_rule(Permission.EDIT_PROJECT, Project, predicate=can_edit)
    register_object_rule(Permission.MANAGE_TEAM, Project, predicate=is_lead)
    register_object_rule(Permission.SUBMIT_PROJECT, Project, predicate=is_lead)
