from csp.constants import NONCE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.utils.decorators import method_decorator
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from eds_portal.accounts.views import (
    CharterView,
    EmailChangeConfirmView,
    EmailChangeView,
    OidcCallbackView,
    OidcLoginView,
    PasswordChangeView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from eds_portal.api.notifications import NotificationList, NotificationsMarkRead
from eds_portal.api.permissions import DenyUnlessDeclared
from eds_portal.authz import Permission
from eds_portal.views.api_token import ApiTokenView
from eds_portal.views.audit import AuditExportView, AuditTrailView
from eds_portal.views.auth import LoginView, LogoutView, TwoFactorSetupView, TwoFactorVerifyView
from eds_portal.views.breaches import BreachEditView, BreachListView
from eds_portal.views.health import HealthDetailView, HealthView, WebHealthView
from eds_portal.views.home import HomeView
from eds_portal.views.language import set_language
from eds_portal.views.mail import FailedMailListView, MailRetryView
from eds_portal.views.notifications import (
    NotificationBadgeView,
    NotificationListView,
    NotificationOpenView,
)
from eds_portal.views.retention import AlertReviewedView, RetentionView

# The administration site asks for the second factor too.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "EDS CONTACT"


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from static/vendor/; its init script is a second request, not inline (CSP)."""

    required_permission = Permission.USE_API
    permission_classes = [DenyUnlessDeclared]
    url_name = "api_schema"
    template_name = "api/swagger_ui.html"


# Redoc writes its styles into <style> elements: this page alone accepts styles with its nonce.
@method_decorator(csp_update({"style-src": [NONCE]}), name="dispatch")
class ApiRedocView(SpectacularRedocView):
    required_permission = Permission.USE_API
    permission_classes = [DenyUnlessDeclared]
    url_name = "api_schema"
    template_name = "api/redoc.html"


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/setup/", TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("accounts/two-factor/verify/", TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    # Accounts (eds_portal/accounts/): charter, passwords, e-mail change.
    path("accounts/charter/", CharterView.as_view(), name="charter"),
    path("accounts/password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/password/change/", PasswordChangeView.as_view(), name="password_change"),
    path("accounts/email/", EmailChangeView.as_view(), name="email_change"),
    # Single sign-on (eds_portal/accounts/oidc.py), one pair per configured provider.
    path("accounts/oidc/<slug:provider>/login/", OidcLoginView.as_view(), name="oidc_login"),
    path(
        "accounts/oidc/<slug:provider>/callback/",
        OidcCallbackView.as_view(),
        name="oidc_callback",
    ),
    path(
        "accounts/email/confirm/<str:token>/",
        EmailChangeConfirmView.as_view(),
        name="email_change_confirm",
    ),
    path("audit/", AuditTrailView.as_view(), name="audit_trail"),
    path("audit/export.csv", AuditExportView.as_view(), name="audit_export"),
    # The notifications of the signed-in user (eds_portal/views/notifications.py).
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("notifications/badge/", NotificationBadgeView.as_view(), name="notifications_badge"),
    path("notifications/<int:pk>/", NotificationOpenView.as_view(), name="notification_open"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("healthz/web", WebHealthView.as_view(), name="healthz_web"),
    path("healthz/details/", HealthDetailView.as_view(), name="health_details"),
    # E-mails that could not be sent, for the data office and the DPO (eds_portal/mail.py).
    path("mail/failed/", FailedMailListView.as_view(), name="failed_mails"),
    path("mail/<int:pk>/retry/", MailRetryView.as_view(), name="mail_retry"),
    # The DPO's retention and log review page (RET-07, LOG-03).
    path("retention/", RetentionView.as_view(), name="retention"),
    path(
        "retention/alerts/<int:pk>/reviewed/",
        AlertReviewedView.as_view(),
        name="retention_alert_reviewed",
    ),
    # The breach register (SEC-08), for the DPO.
    path("breaches/", BreachListView.as_view(), name="breaches"),
    path("breaches/<int:pk>/", BreachEditView.as_view(), name="breach_edit"),
    path("warehouse/", include("warehouse.urls")),
    path("projects/", include("projects.urls")),
    # The commission's review: each module's URLs carry their full path.
    path("", include("projects.review.urls")),
    path("", include("projects.questions.urls")),
    path("", include("projects.sessions.urls")),
    path("", include("projects.dashboards.urls")),
    # Registers, transparency portal, formalities and provisioning.
    path("", include("access.urls")),
    path("account/api-token/", ApiTokenView.as_view(), name="api_token"),
    path("api/v1/", include("eds_portal.api.urls")),
    path("api/v1/notifications/", NotificationList.as_view(), name="api_notifications"),
    path(
        "api/v1/notifications/read/",
        NotificationsMarkRead.as_view(),
        name="api_notifications_read",
    ),
    path("api/v1/docs/", ApiDocsView.as_view(), name="api_docs"),
    path("api/v1/redoc/", ApiRedocView.as_view(), name="api_redoc"),
    path("api/v1/projects/", include("projects.api_urls")),
    path("api/v1/warehouse/", include("warehouse.api_urls")),
    path("admin/", admin.site.urls),
]

# The 404 page is Django's view with templates/404.html (JSON on /api/); the 500 page needs no
# request context.
handler404 = "eds_portal.views.errors.page_not_found"
handler500 = "eds_portal.views.errors.server_error"
