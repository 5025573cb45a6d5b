"""The researcher's API token: for scripts that call the API without a browser session.

A token is shown once, when it is created; afterwards the page only says that one exists.
Staff roles cannot use tokens (they carry no second factor: eds_portal.api.permissions), so the
page is for researchers only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from eds_portal.audit import record_event
from eds_portal.authz import Permission
from eds_portal.views.base import AuthenticatedHttpRequest, PermissionView


@transaction.atomic
def create_api_token(*, by: Any) -> Token:
    """A new token for ``by``, replacing any previous one. The trail never holds its value."""
    replaced = Token.objects.filter(user=by).delete()[0] > 0
    token = Token.objects.create(user=by)
    record_event(action="api.token_created", actor=by, target=by, after={"replaced": replaced})
    return token


@transaction.atomic
def revoke_api_token(*, by: Any) -> bool:
    revoked = Token.objects.filter(user=by).delete()[0] > 0
    if revoked:
        record_event(action="api.token_revoked", actor=by, target=by)
    return revoked


class ApiTokenView(PermissionView):
    permission = Permission.CREATE_PROJECT
    template_name = "eds_portal/api_token.html"

    def _render(
        self, request: AuthenticatedHttpRequest, *, new_token: str | None = None, status=200
    ):
        existing = Token.objects.filter(user=request.user).values_list("created", flat=True)
        response = TemplateResponse(
            request,
            self.template_name,
            {"token_created": existing.first(), "new_token": new_token},
            status=status,
        )
        # The page may hold the token itself: no cache keeps it.
        add_never_cache_headers(response)
        return response

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        return self._render(request)

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action == "create":
            token = create_api_token(by=request.user)
            return self._render(request, new_token=token.key)
        if action == "revoke":
            if revoke_api_token(by=request.user):
                messages.success(request, _("The token is revoked: scripts using it are refused."))
            return redirect("api_token")
        return self._render(request, status=400)
