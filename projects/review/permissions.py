"""Object rules of the review, registered with the authorization facade.

- Reviewing: an active rapporteur of the project who may read the file (declared no interest,
  not conflicted automatically).
- Reading reviews: the secretariat, and commission members who may read the file. Never the
  team: a member of the project's team is refused whatever their other roles.
"""

from __future__ import annotations

from typing import Any

from eds_portal.authz import Permission, has_role, register_object_rule
from eds_portal.roles import Role
from projects.conflicts import may_read_file
from projects.models import Project, RapporteurAssignment
from projects.permissions import is_member


def is_active_rapporteur(user: Any, project: Project) -> bool:
    return RapporteurAssignment.objects.filter(
        project=project, member=user, removed_at__isnull=True
    ).exists()


def may_review(user: Any, project: Project) -> bool:
    return is_active_rapporteur(user, project) and may_read_file(user, project)


def may_read_reviews(user: Any, project: Project) -> bool:
    if is_member(user, project):
        return False
    return has_role(user, Role.SECRETARIAT) or may_read_file(user, project)


def register() -> None:
    register_object_rule(Permission.REVIEW_PROJECT, Project, predicate=may_review)
    register_object_rule(Permission.READ_REVIEWS, Project, predicate=may_read_reviews)
