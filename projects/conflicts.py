"""Conflicts of interest (GOV-10): who on the commission may see a file.

A member is conflicted automatically when they belong to the project's team or to the same
organisation as a team member; otherwise they must declare, per project, "no interest" before
seeing the file, or describe their interest (and then they are conflicted). A conflicted member
neither sees the file nor, later, is assigned or votes: those steps ask ``is_conflicted``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.utils.translation import gettext_lazy as _

from eds_portal.authz import is_commission
from projects.models import ConflictDeclaration, Project, ProjectStatus

# The statuses in which a file is in the commission's hands.
REVIEW_STATUSES = frozenset(
    {
        ProjectStatus.UNDER_REVIEW,
        ProjectStatus.CHANGES_REQUESTED,
        ProjectStatus.APPROVED,
        ProjectStatus.REJECTED,
        ProjectStatus.FORMALITIES,
        ProjectStatus.PUBLISHED,
        ProjectStatus.ACTIVE,
        ProjectStatus.SUSPENDED,
        ProjectStatus.CLOSED,
    }
)


def _organisation_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))
    return letters.lower()


def automatic_conflict(member: Any, project: Project) -> str | None:
    """Why the member is conflicted whatever they declare, or None."""
    # .all(): served from a prefetch of "memberships__user" when the caller made one.
    team = list(project.memberships.all())
    if any(membership.user_id == member.pk for membership in team):
        return str(_("You are a member of the project's team."))
    own = _organisation_key(member.organisation or "")
    if own and any(_organisation_key(m.user.organisation or "") == own for m in team):
        return str(_("You belong to the same organisation as a member of the team."))
    return None


def declaration_of(member: Any, project: Project) -> ConflictDeclaration | None:
    return ConflictDeclaration.objects.filter(project=project, member=member).first()


def is_conflicted(member: Any, project: Project) -> bool:
    if automatic_conflict(member, project):
        return True
    declaration = declaration_of(member, project)
    return declaration is not None and declaration.has_interest


def may_read_file(member: Any, project: Project) -> bool:
    """A commission member reads a file in review once they declared no interest."""
    if not is_commission(member) or project.status not in REVIEW_STATUSES:
        return False
    if automatic_conflict(member, project):
        return False
    declaration = declaration_of(member, project)
    return declaration is not None and not declaration.has_interest
