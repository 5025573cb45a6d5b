"""Withdrawing a declared interest over the API: the same rules as the pages.

The member asks (``MyInterestWithdrawal``); the secretariat lists and answers the requests.
Declaring "no interest" over a declared interest (``PUT .../interests/``) is refused with 409:
the withdrawal is this request, and the conflict stands until the secretariat accepts it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission, get_object_for_user
from eds_portal.errors import refusal_detail
from projects.api import PK, DetailSerializer
from projects.conflicts import REVIEW_STATUSES
from projects.interest_actions import (
    MAX_TEXT_LENGTH,
    answer_interest_withdrawal,
    request_interest_withdrawal,
)
from projects.models import InterestWithdrawal, Project, WithdrawalStatus

WITHDRAWAL_ID = OpenApiParameter(
    "withdrawal_id", int, OpenApiParameter.PATH, description="The request's id."
)


class WithdrawalRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class WithdrawalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project_id = serializers.IntegerField()
    project_reference = serializers.CharField()
    status = serializers.ChoiceField(choices=WithdrawalStatus.choices)
    reason = serializers.CharField(help_text="Why the member says the interest no longer stands.")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    answer = serializers.CharField(allow_blank=True, help_text="The secretariat's answer.")


class StaffWithdrawalSerializer(WithdrawalSerializer):
    member_id = serializers.IntegerField()
    member_name = serializers.CharField()
    interest = serializers.CharField(help_text="The interest as declared when asked.")


class WithdrawalRequestSerializer(StrictInput):
    reason = serializers.CharField(max_length=MAX_TEXT_LENGTH)


class WithdrawalAnswerSerializer(StrictInput):
    accept = serializers.BooleanField()
    answer = serializers.CharField(
        max_length=MAX_TEXT_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when refusing: the member reads it.",
    )


def _data(withdrawal: InterestWithdrawal, *, staff: bool = False) -> dict[str, Any]:
    data = {
        "id": withdrawal.pk,
        "project_id": withdrawal.project_id,
        "project_reference": withdrawal.project.reference,
        "status": withdrawal.status,
        "reason": withdrawal.reason,
        "requested_at": withdrawal.requested_at,
        "decided_at": withdrawal.decided_at,
        "answer": withdrawal.answer,
    }
    if staff:
        data.update(
            {
                "member_id": withdrawal.member_id,
                "member_name": withdrawal.member.full_name,
                "interest": withdrawal.interest,
            }
        )
    return data


class MyInterestWithdrawal(APIView):
    """A commission member's request to withdraw the interest they declared in a file."""

    required_permission = Permission.DECLARE_INTEREST

    def _project(self, pk: int) -> Project:
        project = Project.objects.filter(pk=pk, status__in=REVIEW_STATUSES).first()
        if project is None:
            raise NotFound
        return project

    @extend_schema(
        summary="My latest request to withdraw a declared interest in this file",
        parameters=[PK],
        responses={200: WithdrawalSerializer, 404: DetailSerializer},
    )
    def get(self, request, pk: int):
        project = self._project(pk)
        latest = (
            InterestWithdrawal.objects.select_related("project")
            .filter(project=project, member=request.user)
            .order_by("-requested_at", "-pk")
            .first()
        )
        if latest is None:
            raise NotFound(_("You have not asked to withdraw an interest in this project."))
        return Response(WithdrawalSerializer(_data(latest)).data)

    @extend_schema(
        summary="Ask the secretariat to withdraw my declared interest; it stands until accepted",
        parameters=[PK],
        request=WithdrawalRequestSerializer,
        responses={
            201: WithdrawalSerializer,
            404: DetailSerializer,
            409: WithdrawalRefusedSerializer,
        },
    )
    def post(self, request, pk: int):
        project = self._project(pk)
        body = WithdrawalRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusal_detail(_("The request was not recorded.")):
            withdrawal = request_interest_withdrawal(
                project=project, by=request.user, reason=body.validated_data["reason"]
            )
        return Response(
            WithdrawalSerializer(_data(withdrawal)).data, status=status.HTTP_201_CREATED
        )


class InterestWithdrawalList(APIView):
    required_permission = Permission.DECIDE_INTEREST_WITHDRAWAL

    @extend_schema(
        summary="Requests to withdraw a declared interest awaiting the secretariat, oldest first",
        responses={200: StaffWithdrawalSerializer(many=True)},
    )
    def get(self, request):
        pending = (
            InterestWithdrawal.objects.select_related("project", "member")
            .filter(status=WithdrawalStatus.PENDING)
            .order_by("requested_at", "pk")
        )
        return Response(
            StaffWithdrawalSerializer([_data(w, staff=True) for w in pending], many=True).data
        )


class InterestWithdrawalAnswer(APIView):
    required_permission = Permission.DECIDE_INTEREST_WITHDRAWAL

    @extend_schema(
        summary="Accept (the member is no longer conflicted) or refuse (saying why) a request",
        parameters=[WITHDRAWAL_ID],
        request=WithdrawalAnswerSerializer,
        responses={
            200: StaffWithdrawalSerializer,
            404: DetailSerializer,
            409: WithdrawalRefusedSerializer,
        },
    )
    def post(self, request, withdrawal_id: int):
        withdrawal = get_object_for_user(
            request.user,
            InterestWithdrawal.objects.select_related("project", "member"),
            withdrawal_id,
            self.required_permission,
        )
        body = WithdrawalAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusal_detail(_("The answer was not recorded.")):
            withdrawal = answer_interest_withdrawal(
                withdrawal=withdrawal,
                by=request.user,
                accept=body.validated_data["accept"],
                answer=body.validated_data["answer"],
            )
        return Response(StaffWithdrawalSerializer(_data(withdrawal, staff=True)).data)
