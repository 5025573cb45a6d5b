"""Who may see a run and who may download its dataset, registered with the facade."""

from __future__ import annotations

from typing import Any

from access.models_provisioning import Propagation, ProvisioningRun
from access.provisioning.selectors import is_named_recipient, is_team_member
from eds_portal.authz import Permission, register_object_rule
from eds_portal.roles import Role
from projects.models import Project

STAFF_READERS = frozenset({Role.DATA_STEWARD, Role.DPO})


def _team_of_run(user: Any, run: ProvisioningRun) -> bool:
    return is_team_member(user, run.project)


def _team_of_propagation(user: Any, propagation: Propagation) -> bool:
    return is_team_member(user, propagation.run.project)


def register() -> None:
    register_object_rule(
        Permission.VIEW_RUNS, ProvisioningRun, roles_on_all=STAFF_READERS, predicate=_team_of_run
    )
    register_object_rule(
        Permission.VIEW_RUNS, Project, roles_on_all=STAFF_READERS, predicate=is_team_member
    )
    # OPP-11: the team is told which pseudonyms to delete; the DPO and the data steward follow.
    register_object_rule(
        Permission.VIEW_RUNS,
        Propagation,
        roles_on_all=STAFF_READERS,
        predicate=_team_of_propagation,
    )
    # Only the recipients named in the approved specification, still active and on the team.
    register_object_rule(Permission.DOWNLOAD_DATASET, ProvisioningRun, predicate=is_named_recipient)
