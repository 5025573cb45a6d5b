"""One refusal (issue 18): every refusal type derives from ``Refused``; the API answers an
uncaught one with 409 ``{"detail", "reasons"}``."""

from __future__ import annotations

import pytest
from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView

from access.consent.actions import ConsentRefused
from access.opposition.actions import RefusedAction
from access.provisioning.propagation import PropagationRefused
from access.provisioning.runs import RunRefused
from eds_portal.errors import Refused, refusal_detail
from projects.actions import NotEditable
from projects.questions.actions import QuestionRefused
from projects.review.actions import ReviewRefused
from projects.sessions import actions as session_actions
from projects.sessions.decisions import DecisionRefused
from projects.team_actions import TeamError
from projects.uploads import UploadRefused
from projects.workflow import TransitionRefused

REFUSALS = [
    ConsentRefused,
    RefusedAction,
    PropagationRefused,
    RunRefused,
    NotEditable,
    QuestionRefused,
    ReviewRefused,
    session_actions.Refused,
    DecisionRefused,
    TeamError,
    UploadRefused,
    TransitionRefused,
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda c: c.__name__)
def test_every_refusal_type_is_a_refused(refusal):
    assert issubclass(refusal, Refused)


def test_reasons_are_kept_and_joined():
    refused = Refused(["One.", gettext_lazy("Two.")])
    assert [str(r) for r in refused.reasons] == ["One.", "Two."]
    assert str(refused) == "One.; Two."
    assert refused.detail is None


def test_a_single_message_is_one_reason():
    assert Refused("Not now.").reasons == ["Not now."]
    assert [str(r) for r in Refused(gettext_lazy("Not now.")).reasons] == ["Not now."]
    assert str(RefusedAction("Not now.")) == "Not now."
    assert UploadRefused("Too big.").message == "Too big."
    assert TeamError("Gone.").reasons == ["Gone."]


def test_refusal_detail_attaches_the_sentence_and_lets_it_go_on():
    with pytest.raises(RunRefused) as raised, refusal_detail("The run cannot be started."):
        raise RunRefused(["No decision."])
    assert raised.value.detail == "The run cannot be started."
    assert raised.value.reasons == ["No decision."]


class _Refusing(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def post(self, request):
        if request.data.get("detail"):
            with refusal_detail("The step cannot be taken."):
                raise TransitionRefused(["First.", gettext_lazy("Second.")])
        if request.data.get("fields"):
            raise DecisionRefused(["General."], {"opinion": ["Required."]})
        raise RunRefused(["Only."])


urlpatterns = [path("refusing/", _Refusing.as_view())]


@pytest.fixture
def refusing(settings):
    settings.ROOT_URLCONF = __name__
    return APIClient()


def test_the_handler_answers_409_with_detail_and_reasons(refusing):
    response = refusing.post("/refusing/", {"detail": True}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The step cannot be taken.",
        "reasons": ["First.", "Second."],
    }


def test_without_a_detail_the_reasons_are_the_detail(refusing):
    response = refusing.post("/refusing/", {}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only.", "reasons": ["Only."]}


def test_field_errors_are_given_when_the_refusal_has_some(refusing):
    response = refusing.post("/refusing/", {"fields": True}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "General.; Required.",
        "reasons": ["General.", "Required."],
        "field_errors": {"opinion": ["Required."]},
    }
