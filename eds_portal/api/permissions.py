from __future__ import annotations

from rest_framework.permissions import BasePermission

from eds_portal.authz import has_permission


class DenyUnlessDeclared(BasePermission):
    """API views name their ``required_permission``; a view that names none is refused."""

    def has_permission(self, request, view) -> bool:
        permission = getattr(view, "required_permission", None)
        if permission is None:
            return False
        user = request.user
        if getattr(user, "requires_two_factor", False) and not user.is_verified():
            return False
        return has_permission(user, permission)

    def has_object_permission(self, request, view, obj) -> bool:
        return has_permission(request.user, view.required_permission, obj)
