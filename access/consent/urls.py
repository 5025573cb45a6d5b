from django.urls import path

from access.consent import views

urlpatterns = [
    path("consent/", views.ConsentProjectsView.as_view(), name="consent_projects"),
    path(
        "consent/projects/<int:pk>/", views.ConsentRegisterView.as_view(), name="consent_register"
    ),
    path(
        "consent/projects/<int:pk>/export.csv",
        views.ConsentExportView.as_view(),
        name="consent_export",
    ),
    path(
        "consent/projects/<int:pk>/new/", views.ConsentRecordView.as_view(), name="consent_record"
    ),
    path(
        "consent/projects/<int:pk>/withdraw/",
        views.ConsentWithdrawView.as_view(),
        name="consent_withdraw",
    ),
]
