"""The DPO's retention and log review page: next purges, signed checkpoints, alerts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from eds_portal.authz import Permission
from eds_portal.log_review import mark_reviewed
from eds_portal.models import AuditCheckpoint, LogAlert
from eds_portal.retention import schedule
from eds_portal.views.base import PermissionView

ALERTS_SHOWN = 100
CHECKPOINTS_SHOWN = 24


class RetentionView(PermissionView):
    permission = Permission.VIEW_PROCESSING_RECORD
    template_name = "eds_portal/retention.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        alerts = LogAlert.objects.select_related("subject", "reviewed_by").order_by(
            "reviewed_at", "-raised_at"
        )[:ALERTS_SHOWN]
        response = TemplateResponse(
            request,
            self.template_name,
            {
                "rules": schedule(),
                "checkpoints": AuditCheckpoint.objects.order_by("-epoch")[:CHECKPOINTS_SHOWN],
                "alerts": alerts,
                "signing_configured": bool(settings.EDS_AUDIT_SIGNING_KEY_FILE),
                "audit_justification": settings.EDS_RETENTION_AUDIT_JUSTIFICATION,
            },
        )
        # Audit data: never kept by a browser or a proxy.
        patch_cache_control(response, no_store=True, private=True)
        return response


class AlertReviewedView(PermissionView):
    permission = Permission.VIEW_PROCESSING_RECORD
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        alert = LogAlert.objects.filter(pk=pk).first()
        if alert is None:
            raise Http404
        mark_reviewed(alert=alert, by=request.user)
        messages.success(request, _("The alert is marked as reviewed."))
        return redirect("retention")
