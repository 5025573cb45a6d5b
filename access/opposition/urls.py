"""URLs of the opposition register: public under opposition/, staff under registers/."""

from django.urls import path

from access.opposition import views

urlpatterns = [
    # Public, no account (OPP-01, OPP-02).
    path("opposition/", views.OppositionFormView.as_view(), name="opposition_form"),
    path("opposition/sent/", views.OppositionSentView.as_view(), name="opposition_sent"),
    path("opposition/status/", views.OppositionStatusView.as_view(), name="opposition_status"),
    path("opposition/paper-form/", views.PaperFormView.as_view(), name="opposition_paper_form"),
    # Staff.
    path("registers/oppositions/", views.OppositionListView.as_view(), name="opposition_list"),
    path("registers/oppositions/new/", views.StaffEntryView.as_view(), name="opposition_new"),
    path(
        "registers/oppositions/deadlines/",
        views.DeadlinesView.as_view(),
        name="opposition_deadlines",
    ),
    path(
        "registers/oppositions/statistics/",
        views.OppositionStatisticsView.as_view(),
        name="opposition_statistics",
    ),
    path(
        "registers/oppositions/register/",
        views.RegisterView.as_view(),
        name="opposition_register",
    ),
    path(
        "registers/oppositions/register.csv",
        views.RegisterCsvView.as_view(),
        name="opposition_register_csv",
    ),
    path(
        "registers/oppositions/consents.fhir.json",
        views.FhirExportView.as_view(),
        name="opposition_fhir",
    ),
    path(
        "registers/oppositions/<str:receipt>/",
        views.OppositionDetailView.as_view(),
        name="opposition_detail",
    ),
    path(
        "registers/oppositions/<str:receipt>/withdraw/",
        views.WithdrawalView.as_view(),
        name="opposition_withdraw",
    ),
    path(
        "registers/oppositions/<str:receipt>/match/",
        views.MatchView.as_view(),
        name="opposition_match",
    ),
    path(
        "registers/oppositions/<str:receipt>/id-copy/",
        views.IdCopyView.as_view(),
        name="opposition_id_copy",
    ),
    path(
        "registers/oppositions/<str:receipt>/extend/",
        views.ExtensionView.as_view(),
        name="opposition_extend",
    ),
    path(
        "registers/oppositions/<str:receipt>/answer/",
        views.AnswerView.as_view(),
        name="opposition_answer",
    ),
    path(
        "registers/oppositions/<str:receipt>/override/",
        views.ObjectionOverrideView.as_view(),
        name="opposition_override",
    ),
    path(
        "registers/oppositions/<str:receipt>/letters/<int:pk>/",
        views.LetterView.as_view(),
        name="opposition_letter",
    ),
    path(
        "registers/oppositions/<str:receipt>/letters/<int:pk>.pdf",
        views.LetterPdfView.as_view(),
        name="opposition_letter_pdf",
    ),
]
