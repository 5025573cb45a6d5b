"""Health of the portal's services: ``/healthz`` for the load balancer, details for staff."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from eds_portal import health
from eds_portal.authz import Permission
from eds_portal.models import MailStatus, OutgoingMail
from eds_portal.views.base import PermissionView, PublicView


@method_decorator(never_cache, name="dispatch")
class HealthView(PublicView):
    """200 when every service answers, 503 otherwise; each check's status, nothing more (no
    host, address, figure or error: anyone may ask)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        results = health.cached_checks()
        return JsonResponse(
            health.public_summary(results), status=200 if health.healthy(results) else 503
        )


@method_decorator(never_cache, name="dispatch")
class WebHealthView(PublicView):
    """``/healthz/web``: for a load balancer choosing web nodes. 200 when this node can serve
    (databases, Redis), even if a worker or beat is down: pulling every web node out because a
    worker died would close the public objection form for nothing. Same public answer shape."""

    def get(self, request: HttpRequest) -> HttpResponse:
        results = health.web_checks(health.cached_checks())
        return JsonResponse(
            health.public_summary(results), status=200 if health.healthy(results) else 503
        )


class HealthDetailView(PermissionView):
    """Every check with its timing and details, run afresh; the mails waiting or not sent."""

    permission = Permission.VIEW_SYSTEM_HEALTH
    template_name = "eds_portal/health.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        results = health.run_checks()
        failed_mails = OutgoingMail.objects.filter(status=MailStatus.FAILED).count()
        retrying_mails = OutgoingMail.objects.filter(
            status=MailStatus.PENDING, attempts__gt=0
        ).count()
        healthy = health.healthy(results)
        if request.GET.get("format") == "json":
            payload = {
                **health.public_summary(results),
                "details": {result.name: result.details for result in results},
                "mail": {"failed": failed_mails, "retrying": retrying_mails},
            }
            return JsonResponse(payload, status=200 if healthy else 503)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "results": results,
                "healthy": healthy,
                "failed_mails": failed_mails,
                "retrying_mails": retrying_mails,
            },
            status=200 if healthy else 503,
        )
