from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from eds_portal.api.views import AuditEventList, MeView
from eds_portal.authz import Permission


class SchemaView(SpectacularAPIView):
    required_permission = Permission.USE_API


urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api_schema"),
    path("me/", MeView.as_view(), name="api_me"),
    path("audit-events/", AuditEventList.as_view(), name="api_audit_events"),
]
