"""Panels of the home page, registered per role by the app that owns the work they list.

An app adds a panel from its ``AppConfig.ready`` with ``register_panel``; a role with no panel
yet shows its empty state, which says what will appear there and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from eds_portal.roles import Role


@dataclass(frozen=True)
class HomePanel:
    key: str
    roles: frozenset[Role]
    title: str | Promise
    template_name: str
    context: Callable[[HttpRequest], dict[str, Any]]
    # Roles for which this panel is their main work: their empty state is then not shown.
    primary_for: frozenset[Role] = frozenset()
    # A panel of per-object grants (an external expert's file): shown to whoever this says,
    # whatever their roles (``roles`` is then empty).
    shown_to: Callable[[Any], bool] | None = None

    def render(self, request: HttpRequest) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "template_name": self.template_name,
            **self.context(request),
        }


_panels: list[HomePanel] = []


def register_panel(panel: HomePanel) -> None:
    if any(existing.key == panel.key for existing in _panels):
        raise ValueError(f"home panel {panel.key!r} is registered twice")
    _panels.append(panel)


def panels_for(role: Role) -> list[HomePanel]:
    return [panel for panel in _panels if role in panel.roles]


def grant_panels_for(user: Any) -> list[HomePanel]:
    return [panel for panel in _panels if panel.shown_to is not None and panel.shown_to(user)]


def empty_state_for(role: Role) -> str | Promise | None:
    if any(role in panel.primary_for for panel in panels_for(role)):
        return None
    return EMPTY_STATES[role]


EMPTY_STATES: dict[Role, str | Promise] = {
    Role.RESEARCHER: _(
        "No research project yet. The projects you lead or belong to will be listed here with "
        "their status, the commission's questions awaiting your answer and the datasets "
        "delivered to you."
    ),
    Role.SECRETARIAT: _(
        "Nothing is waiting for the secretariat: submitted files to check, files without "
        "rapporteurs and overdue reviews will be listed here."
    ),
    Role.COMMISSION_MEMBER: _(
        "No file is assigned to you. Projects awaiting your declaration of interests, the "
        "reviews you are rapporteur for, with their due dates, and the sessions you are "
        "convened to will be listed here."
    ),
    Role.PATIENT_REPRESENTATIVE: _(
        "No file is assigned to you. As a patient representative you review and vote like "
        "every member; your files and sessions will be listed here."
    ),
    Role.CHAIR: _(
        "No session to open and no decision to sign. Sessions, their quorum and the decisions "
        "awaiting your signature will be listed here."
    ),
    Role.IDENTITY_OFFICER: _(
        "No opposition request is waiting for identity matching. Requests received online, by "
        "post or at an association will be listed here, oldest due date first."
    ),
    Role.DATA_STEWARD: _(
        "No provisioning run. Approved projects ready for provisioning, running extractions "
        "and deliveries due for destruction will be listed here."
    ),
    Role.DPO: _(
        "Opposition and consent requests with their legal deadlines will be listed here as "
        "they arrive."
    ),
    Role.AUDITOR: _(
        "Nothing else to do here: the audit trail and its export are your work, in the panel above."
    ),
    Role.OUTPUT_CHECKER: _(
        "No output is waiting for checkers. The tables and figures that projects ask to take out "
        "will be listed here."
    ),
}
