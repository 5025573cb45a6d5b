"""URLs of this package (mounted at the site root: paths here are complete)."""

from django.urls import path

from projects.sessions import api, views

S = "commission/sessions/<int:session_id>/"
ITEM = S + "items/<int:item_id>/"
DECISION = "projects/<int:pk>/decisions/<int:decision_id>/"

urlpatterns = [
    path("commission/sessions/", views.SessionListView.as_view(), name="session_list"),
    path("commission/sessions/new/", views.SessionCreateView.as_view(), name="session_new"),
    path(S, views.SessionDetailView.as_view(), name="session_detail"),
    path(S + "edit/", views.SessionEditView.as_view(), name="session_edit"),
    path(S + "agenda/", views.AgendaAddView.as_view(), name="session_agenda_add"),
    path(S + "convene/", views.ConveneView.as_view(), name="session_convene"),
    path(S + "attendance/", views.AttendanceView.as_view(), name="session_attendance"),
    path(S + "open/", views.OpenSessionView.as_view(), name="session_open"),
    path(S + "close/", views.CloseSessionView.as_view(), name="session_close"),
    path(ITEM, views.AgendaItemView.as_view(), name="agenda_item"),
    path(ITEM + "move/", views.AgendaMoveView.as_view(), name="agenda_item_move"),
    path(ITEM + "remove/", views.AgendaRemoveView.as_view(), name="agenda_item_remove"),
    path(ITEM + "vote/", views.VoteView.as_view(), name="agenda_item_vote"),
    path(ITEM + "close-vote/", views.CloseVoteView.as_view(), name="agenda_item_close_vote"),
    path(ITEM + "defer/", views.DeferView.as_view(), name="agenda_item_defer"),
    path(ITEM + "decide/", views.DecideItemView.as_view(), name="agenda_item_decide"),
    path(
        "projects/<int:pk>/written-procedure/",
        views.WrittenProcedureView.as_view(),
        name="written_procedure",
    ),
    path(
        "projects/<int:pk>/written-procedure/decide/",
        views.WrittenDecideView.as_view(),
        name="written_procedure_decide",
    ),
    path(DECISION, views.DecisionLetterView.as_view(), name="decision_letter"),
    path(
        DECISION + "letter.pdf", views.DecisionLetterPdfView.as_view(), name="decision_letter_pdf"
    ),
    path(DECISION + "correct/", views.DecisionCorrectView.as_view(), name="decision_correct"),
]

A = "api/v1/commission/sessions/"
A_S = A + "<int:session_id>/"
A_ITEM = A_S + "items/<int:item_id>/"

urlpatterns += [
    path(A, api.SessionListCreate.as_view(), name="api_sessions"),
    path(A_S, api.SessionDetail.as_view(), name="api_session"),
    path(A_S + "agenda/", api.AgendaAdd.as_view(), name="api_session_agenda"),
    path(A_S + "attendance/", api.AttendanceUpdate.as_view(), name="api_session_attendance"),
    path(A_S + "open/", api.SessionOpen.as_view(), name="api_session_open"),
    path(A_S + "close/", api.SessionClose.as_view(), name="api_session_close"),
    path(A_ITEM + "tally/", api.ItemTally.as_view(), name="api_item_tally"),
    path(A_ITEM + "vote/", api.ItemVote.as_view(), name="api_item_vote"),
    path(A_ITEM + "close-vote/", api.ItemCloseVote.as_view(), name="api_item_close_vote"),
    path(A_ITEM + "decide/", api.ItemDecide.as_view(), name="api_item_decide"),
    path("api/v1/projects/<int:pk>/decisions/", api.DecisionList.as_view(), name="api_decisions"),
    path(
        "api/v1/projects/<int:pk>/decisions/<int:decision_id>/",
        api.DecisionDetail.as_view(),
        name="api_decision",
    ),
]
