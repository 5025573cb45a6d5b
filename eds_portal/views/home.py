"""Each role's home page: that role's real work, or an empty state that says what will come."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.template.response import TemplateResponse

from eds_portal.authz import roles_of
from eds_portal.home import empty_state_for, grant_panels_for, panels_for
from eds_portal.roles import ROLE_DESCRIPTIONS, Role
from eds_portal.views.base import AuthenticatedHttpRequest, AuthenticatedView


class HomeView(AuthenticatedView):
    template_name = "eds_portal/home.html"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        user = request.user
        roles = sorted(roles_of(user), key=lambda role: list(Role).index(role))
        sections = []
        shown: set[str] = set()
        for role in roles:
            # A panel shared by several of the user's roles (chair and member) appears once.
            panels = [panel for panel in panels_for(role) if panel.key not in shown]
            shown.update(panel.key for panel in panels)
            sections.append(
                {
                    "role": role,
                    "description": ROLE_DESCRIPTIONS[role],
                    "panels": [panel.render(request) for panel in panels],
                    "empty_state": empty_state_for(role),
                }
            )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "sections": sections,
                # Per-object grants (an external expert's file), whatever the roles.
                "grant_panels": [panel.render(request) for panel in grant_panels_for(user)],
                "has_confirmed_device": user.totpdevice_set.filter(confirmed=True).exists(),
                "session_idle_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
            },
        )
