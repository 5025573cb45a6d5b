from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from eds_portal.authz import PermissionsForTemplates, roles_of


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {
        "portal_name": settings.EDS_PORTAL_NAME,
        "perms_eds": PermissionsForTemplates(user),
        "user_roles": sorted(roles_of(user), key=lambda role: role.label) if user else [],
    }
