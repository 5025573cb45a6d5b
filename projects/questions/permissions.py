"""Who may ask, answer and read the commission's questions on a project: the object rules.

- Ask: the secretariat, and commission members who may read the file (declared no interest,
  not conflicted); never a member of the project's team.
- Answer: the project's lead and co-investigators. Analysts receive data only: they read the
  thread but do not answer.
- Read: whoever may see the project (its team, the secretariat, the DPO, the commission members
  who may read the file).

When: questions and answers are possible while the file is in the commission's hands and
undecided (under review, or changes requested); the actions say so when it is too late.
"""

from __future__ import annotations

from typing import Any

from eds_portal.authz import Permission, has_role, register_object_rule
from eds_portal.roles import Role
from projects.models import Project, ProjectStatus
from projects.permissions import EDITORS, _role_in_project, is_member

ASKING_STATUSES = frozenset({ProjectStatus.UNDER_REVIEW, ProjectStatus.CHANGES_REQUESTED})


def may_ask(user: Any, project: Project) -> bool:
    from projects.conflicts import may_read_file

    if not getattr(user, "is_authenticated", False) or is_member(user, project):
        return False
    return has_role(user, Role.SECRETARIAT) or may_read_file(user, project)


def may_answer(user: Any, project: Project) -> bool:
    return _role_in_project(user, project) in EDITORS


def sees_authors(user: Any, project: Project) -> bool:
    """The commission and the data office always see who asked; the team only a signed name."""
    return not is_member(user, project)


def register() -> None:
    register_object_rule(Permission.ASK_QUESTION, Project, predicate=may_ask)
    register_object_rule(Permission.ANSWER_QUESTION, Project, predicate=may_answer)
