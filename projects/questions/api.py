"""The questions thread over the API, with the same rules as the page.

A project the caller may not know exists answers 404; a role that may not ask or answer, 403;
a question asked or answered outside the review, 409 with the reasons. The team reads
"The commission" as the author of unsigned questions, as on the page.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission
from eds_portal.errors import refusal_detail
from projects.api import PK, DetailSerializer, RefusedSerializer, _project_or_404
from projects.models import Question
from projects.questions.actions import (
    MAX_MESSAGE_LENGTH,
    answer_question,
    ask_question,
)
from projects.questions.selectors import Message, thread


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(
        help_text="The author's name; for the team, “The commission” unless the author signed."
    )
    hidden_from_team = serializers.BooleanField(
        help_text="Whether the team reads “The commission” instead of the author's name."
    )
    from_commission = serializers.BooleanField()
    body = serializers.CharField(help_text="Plain text, as typed.")
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField(
        allow_null=True, help_text="The version under review when it was written."
    )


class QuestionSerializer(MessageSerializer):
    open = serializers.BooleanField(help_text="True while the team has not answered it.")
    answers = MessageSerializer(many=True)


class AskSerializer(StrictInput):
    body = serializers.CharField(max_length=MAX_MESSAGE_LENGTH)
    show_author = serializers.BooleanField(
        default=False, help_text="Sign with my name; otherwise the team reads “The commission”."
    )


class AnswerSerializer(StrictInput):
    body = serializers.CharField(max_length=MAX_MESSAGE_LENGTH)


def _message(message: Message) -> dict:
    return {
        "id": message.pk,
        "author": str(message.author),
        "hidden_from_team": message.hidden_from_team,
        "from_commission": message.from_commission,
        "body": message.body,
        "created_at": message.created_at,
        "version": message.version_number,
    }


def _question(message: Message) -> dict:
    return {
        **_message(message),
        "open": message.is_open,
        "answers": [_message(reply) for reply in message.replies],
    }


def _one(project, user, pk: int) -> dict:
    return next(_question(m) for m in thread(project, user) if m.pk == pk)


QUESTION_ID = OpenApiParameter(
    "question_id", int, OpenApiParameter.PATH, description="The question's id."
)


class QuestionListCreate(APIView):
    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="The commission's questions on a project, oldest first, with their answers",
        parameters=[PK],
        responses={200: QuestionSerializer(many=True), 404: DetailSerializer},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        return Response(
            QuestionSerializer(
                [_question(m) for m in thread(project, request.user)], many=True
            ).data
        )

    @extend_schema(
        summary="Ask the team a question (the secretariat, members who may read the file)",
        parameters=[PK],
        request=AskSerializer,
        responses={
            201: QuestionSerializer,
            400: DetailSerializer,
            403: DetailSerializer,
            404: DetailSerializer,
            409: RefusedSerializer,
        },
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.ASK_QUESTION)
        body = AskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusal_detail(_("The question cannot be asked now.")):
            question = ask_question(project=project, by=request.user, **body.validated_data)
        return Response(_one(project, request.user, question.pk), status=status.HTTP_201_CREATED)


class QuestionAnswerCreate(APIView):
    required_permission = Permission.ANSWER_QUESTION

    @extend_schema(
        summary="Answer one of the commission's questions (the lead and co-investigators)",
        parameters=[PK, QUESTION_ID],
        request=AnswerSerializer,
        responses={
            201: QuestionSerializer,
            400: DetailSerializer,
            403: DetailSerializer,
            404: DetailSerializer,
            409: RefusedSerializer,
        },
    )
    def post(self, request, pk: int, question_id: int):
        project = _project_or_404(request, pk, Permission.ANSWER_QUESTION)
        question = Question.objects.filter(
            pk=question_id, project=project, answers__isnull=True, from_commission=True
        ).first()
        if question is None:
            raise NotFound
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusal_detail(_("The question cannot be answered now.")):
            answer_question(question=question, by=request.user, body=body.validated_data["body"])
        return Response(_one(project, request.user, question.pk), status=status.HTTP_201_CREATED)
