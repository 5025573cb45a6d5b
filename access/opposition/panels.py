"""Home panels of the opposition register: the identity officer, the DPO, the secretariat."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from access.opposition.selectors import due_and_overdue, filtered_requests, to_match
from eds_portal.home import HomePanel, register_panel
from eds_portal.roles import Role


def _to_match(request: HttpRequest) -> dict:
    rows = list(to_match()[:10])
    return {"rows": rows, "count": to_match().count()}


def _deadlines(request: HttpRequest) -> dict:
    return due_and_overdue()


def _secretariat(request: HttpRequest) -> dict:
    return {"open_count": filtered_requests("open").count()}


def register() -> None:
    register_panel(
        HomePanel(
            key="opposition_to_match",
            roles=frozenset({Role.IDENTITY_OFFICER}),
            title=_("Opposition requests to match"),
            template_name="access/panels/to_match.html",
            context=_to_match,
            primary_for=frozenset({Role.IDENTITY_OFFICER}),
        )
    )
    register_panel(
        HomePanel(
            key="opposition_deadlines",
            roles=frozenset({Role.DPO}),
            title=_("Opposition requests: deadlines"),
            template_name="access/panels/deadlines.html",
            context=_deadlines,
        )
    )
    register_panel(
        HomePanel(
            key="opposition_intake",
            roles=frozenset({Role.SECRETARIAT}),
            title=_("Opposition requests"),
            template_name="access/panels/intake.html",
            context=_secretariat,
        )
    )
