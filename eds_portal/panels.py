"""Home panels owned by this app."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from eds_portal.home import HomePanel, register_panel
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from eds_portal.selectors import last_chain_verification


def _recent_audit(request: HttpRequest) -> dict:
    return {
        "events": list(AuditEvent.objects.select_related("actor").order_by("-seq")[:10]),
        "last_check": last_chain_verification(),
    }


def register() -> None:
    register_panel(
        HomePanel(
            key="recent_audit",
            roles=frozenset({Role.DPO, Role.AUDITOR}),
            title=_("Audit trail"),
            template_name="eds_portal/panels/recent_audit.html",
            context=_recent_audit,
            primary_for=frozenset({Role.AUDITOR}),
        )
    )
