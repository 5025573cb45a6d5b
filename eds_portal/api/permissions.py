from __future__ import annotations

from rest_framework.permissions import BasePermission

from eds_portal.authz import has_permission


def _not_verified() -> bool:
    return False


def is_verified(user) -> bool:
    """Whether the request's user passed the second factor.

    django-otp's middleware gives session users ``is_verified``; a user authenticated by an API
    token never went through it, and a token carries no second factor: not verified. The user
    gets the same answer as an attribute, so that views reading ``user.is_verified()`` work.
    """
    check = getattr(user, "is_verified", None)
    if check is None:
        user.is_verified = _not_verified
        return False
    return bool(check())


class DenyUnlessDeclared(BasePermission):
    """API views name their ``required_permission``; a view that names none is refused."""

    def has_permission(self, request, view) -> bool:
        permission = getattr(view, "required_permission", None)
        if permission is None:
            return False
        user = request.user
        verified = getattr(user, "is_authenticated", False) and is_verified(user)
        if getattr(user, "requires_two_factor", False) and not verified:
            return False
        return has_permission(user, permission)

    def has_object_permission(self, request, view, obj) -> bool:
        return has_permission(request.user, view.required_permission, obj)
