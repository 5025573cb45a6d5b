"""Object rules of the decisions, registered with the authorization facade.

The team reads its decisions; the secretariat and the DPO every decision; a commission member
those of the files they may read (not conflicted, interests declared).
"""

from __future__ import annotations

from typing import Any

from eds_portal.authz import Permission, register_object_rule
from eds_portal.roles import Role
from projects.conflicts import may_read_file
from projects.models import Decision, Project
from projects.permissions import is_member


def reads_decisions(user: Any, project: Project) -> bool:
    return is_member(user, project) or may_read_file(user, project)


def register() -> None:
    staff = frozenset({Role.SECRETARIAT, Role.DPO})
    register_object_rule(
        Permission.VIEW_DECISION,
        Decision,
        roles_on_all=staff,
        predicate=lambda user, decision: reads_decisions(user, decision.project),
    )
    register_object_rule(
        Permission.VIEW_DECISION, Project, roles_on_all=staff, predicate=reads_decisions
    )
