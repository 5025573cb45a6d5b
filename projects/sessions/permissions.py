"""Object rules of the sessions and decisions, registered with the authorization facade.

The team reads its decisions; the secretariat and the DPO every decision; a commission member
those of the files they may read (not conflicted, interests declared).

An agenda item (its page, its tally, its vote, closing its vote, its decision, its deferral) is
for the secretariat and for the commission members who are not conflicted on its project: a
conflicted member gets the same 404 as on the file itself. A member who has not declared yet
reaches the item, to be sent to the declaration; the votes stay hidden from them.
"""

from __future__ import annotations

from typing import Any

from eds_portal.authz import Permission, is_commission, register_object_rule
from eds_portal.roles import Role
from projects.conflicts import is_conflicted, may_read_file
from projects.models import AgendaItem, Decision, Project
from projects.permissions import is_member


def reads_decisions(user: Any, project: Project) -> bool:
    return is_member(user, project) or may_read_file(user, project)


def unconflicted_on_item(user: Any, item: AgendaItem) -> bool:
    return is_commission(user) and not is_conflicted(user, item.project)


def register() -> None:
    # The roles come first (ROLE_GRANTS): these rules only narrow them to the items' projects.
    for permission in (Permission.VIEW_SESSIONS, Permission.VOTE, Permission.DECIDE):
        register_object_rule(
            permission,
            AgendaItem,
            roles_on_all=frozenset({Role.SECRETARIAT}),
            predicate=unconflicted_on_item,
        )
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
