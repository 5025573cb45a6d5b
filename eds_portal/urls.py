from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from django_otp.admin import OTPAdminSite

from eds_portal.views.audit import AuditExportView, AuditTrailView
from eds_portal.views.auth import LoginView, LogoutView, TwoFactorSetupView, TwoFactorVerifyView
from eds_portal.views.home import HealthView, HomeView

# The administration site asks for the second factor too.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "EDS CONTACT"

urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/setup/", TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("accounts/two-factor/verify/", TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("audit/", AuditTrailView.as_view(), name="audit_trail"),
    path("audit/export.csv", AuditExportView.as_view(), name="audit_export"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("warehouse/", include("warehouse.urls")),
    path("api/v1/", include("eds_portal.api.urls")),
    path("api/v1/warehouse/", include("warehouse.api_urls")),
    path("admin/", admin.site.urls),
]
