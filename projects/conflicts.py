"""Conflicts of interest (GOV-10): who on the commission may see a file.

A member is conflicted automatically when they belong to the project's team or to the same
organisation as a team member; otherwise they must declare, per project, "no interest" before
seeing the file, or describe their interest (and then they are conflicted). A conflicted member
neither sees the file nor, later, is assigned or votes: those steps ask ``is_conflicted``.

To declare, a member is shown every party of the protocol that may create a conflict
(``parties``): the controller and joint controllers, the processors, the funders, the analysis
platform and the organisations of the team. Only the team makes an automatic conflict: the
other parties are free text (a processor "with its role"), and the controller is often the
warehouse's own organisation, to which members may belong; the member judges and declares.

A declared interest is withdrawn only through a request that the secretariat accepts
(``projects/interest_actions.py``): until then the declaration, hence the conflict, stands.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
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


# What applicants write in a list of funders (or processors) that has none.
_NONE_WORDS = frozenset({"", "none", "aucun", "aucune", "neant", "na", "sans", "nil"})


@dataclass(frozen=True)
class Party:
    """A party of the protocol that may create a conflict of interest."""

    kind: str
    label: Any
    names: tuple[str, ...]


def _lines(value: Any) -> tuple[str, ...]:
    names = []
    for line in str(value or "").splitlines():
        name = line.strip().lstrip("-•*").strip()
        if name and _organisation_key(name) not in _NONE_WORDS and name not in names:
            names.append(name)
    return tuple(names)


def parties(project: Project) -> list[Party]:
    """Every party of the protocol a member judges a conflict against, kind by kind.

    Read from the version under review (the one the member would read and vote on), or the
    draft before any submission; the team's organisations from the current team.
    """
    version = project.versions.order_by("-number").only("content").first()
    if version is not None:
        content = version.content
    else:
        draft = getattr(project, "draft", None)
        content = draft.content if draft is not None else {}
    actors = content.get("actors") or {}
    team = sorted(
        {
            membership.user.organisation.strip()
            for membership in project.memberships.select_related("user")
            if (membership.user.organisation or "").strip()
        }
    )
    found = [
        Party("controller", _("Data controller"), _lines(actors.get("controller_name"))),
        Party("joint_controllers", _("Joint controllers"), _lines(actors.get("joint_controllers"))),
        Party("processors", _("Processors and laboratories"), _lines(actors.get("processors"))),
        Party("funders", _("Funders"), _lines(actors.get("funders"))),
        Party("platform", _("Analysis platform"), _lines(actors.get("analysis_platform"))),
        Party("team", _("Organisations of the project's team"), tuple(team)),
    ]
    return [party for party in found if party.names]


def declaration_of(member: Any, project: Project) -> ConflictDeclaration | None:
    return ConflictDeclaration.objects.filter(project=project, member=member).first()


def is_conflicted(member: Any, project: Project) -> bool:
    if automatic_conflict(member, project):
        return True
    declaration = declaration_of(member, project)
    return declaration is not None and declaration.has_interest


def declarations_of(member: Any, projects: list[Project]) -> dict[int, bool]:
    """The member's declarations on those projects, in one query: project id -> has_interest."""
    return dict(
        ConflictDeclaration.objects.filter(member=member, project__in=projects).values_list(
            "project_id", "has_interest"
        )
    )


def conflicted_projects(
    member: Any, projects: list[Project], declared: dict[int, bool] | None = None
) -> set[int]:
    """The ids of those projects the member is conflicted on, ``is_conflicted`` for a list:
    the declarations in one query (or ``declared``, from ``declarations_of``); the teams from
    a prefetch of "memberships__user" when the caller made one."""
    if declared is None:
        declared = declarations_of(member, projects)
    return {p.pk for p in projects if declared.get(p.pk) or automatic_conflict(member, p)}


def may_read_file(member: Any, project: Project) -> bool:
    """A commission member reads a file in review once they declared no interest."""
    if not is_commission(member) or project.status not in REVIEW_STATUSES:
        return False
    if automatic_conflict(member, project):
        return False
    declaration = declaration_of(member, project)
    return declaration is not None and not declaration.has_interest
