"""Base views: every view says who may reach it, and the authorization meta-test checks it.

- ``PublicView``: anyone, no login (login page, transparency portal, health check).
- ``AuthenticatedView``: any signed-in account (its own security settings).
- ``PermissionView``: a ``Permission`` of the facade, checked before the handler runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.views import View

from eds_portal.authz import Permission, has_permission
from eds_portal.middleware import PUBLIC_PAGE_ATTRIBUTE

if TYPE_CHECKING:
    from eds_portal.models import User

PUBLIC = "public"
AUTHENTICATED = "authenticated"


class PublicView(View):
    access: ClassVar[str | Permission] = PUBLIC

    def setup(self, request: HttpRequest, *args, **kwargs) -> None:
        # The public's pages: the audit trail keeps only a hash of the address (LOG-04).
        setattr(request, PUBLIC_PAGE_ATTRIBUTE, True)
        super().setup(request, *args, **kwargs)


class AuthenticatedHttpRequest(HttpRequest):
    """For the type checker: the request of an ``AuthenticatedView``'s handlers has an account."""

    user: User


class AuthenticatedView(View):
    access: ClassVar[str | Permission] = AUTHENTICATED

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)


class PermissionView(AuthenticatedView):
    permission: ClassVar[Permission]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "permission" in cls.__dict__:
            cls.access = cls.permission

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_permission(request.user, self.permission):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
