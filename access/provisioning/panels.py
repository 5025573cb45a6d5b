"""The data steward's home panel: projects ready or blocked (with reasons), runs in progress."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from access.provisioning.selectors import steward_overview
from eds_portal.home import HomePanel, register_panel
from eds_portal.roles import Role


def _steward(request: HttpRequest) -> dict:
    return steward_overview(limit=10)


def register() -> None:
    register_panel(
        HomePanel(
            key="provisioning_steward",
            roles=frozenset({Role.DATA_STEWARD}),
            title=_("Provisioning"),
            template_name="access/provisioning/panel_steward.html",
            context=_steward,
            primary_for=frozenset({Role.DATA_STEWARD}),
        )
    )
