"""The commission's sessions, votes and decisions over the API (same rules as the pages).

Staff roles use the API from a session that passed the second factor (tokens are refused to
them by ``DenyUnlessDeclared``); the research team reads its decisions with a token too.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse as django_reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission, get_object_for_user, has_permission, has_role
from eds_portal.errors import refusal_detail
from eds_portal.roles import Role
from projects.conflicts import conflicted_projects
from projects.models import (
    AgendaItem,
    CommissionSession,
    Decision,
    Project,
    Recommendation,
    SessionStatus,
    VariableVerdict,
    VoteChoice,
)
from projects.sessions import actions, decisions
from projects.sessions.quorum import quorum_reasons

# --- Serializers ----------------------------------------------------------------------------


class SessionRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    field_errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per field: 'opinion', 'reasons', 'recommendations' or a variable code.",
    )


class AgendaItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    project_id = serializers.IntegerField()
    project_reference = serializers.CharField()
    project_title = serializers.CharField()
    version = serializers.IntegerField(help_text="The version reviewed and voted on.")
    decided_at = serializers.DateTimeField(allow_null=True)
    deferred_at = serializers.DateTimeField(allow_null=True)
    decision_number = serializers.CharField(allow_null=True)
    tally_url = serializers.URLField(
        allow_null=True, help_text="None for a project the caller is conflicted on."
    )


class AttendanceSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    full_name = serializers.CharField()
    present = serializers.BooleanField()


class SessionSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateTimeField()
    place = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    convened_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField()


class SessionSerializer(SessionSummarySerializer):
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    quorum_reached = serializers.BooleanField()
    quorum_reasons = serializers.ListField(child=serializers.CharField())
    agenda = AgendaItemSerializer(many=True)
    attendance = AttendanceSerializer(many=True)


@extend_schema_field(
    {"type": "string", "format": "date-time", "pattern": "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T"}
)
class SessionDateField(serializers.DateTimeField):
    """A session takes place this century: a year 177 has no offset the schema can write."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not 2000 <= moment.year <= 2099:
            raise serializers.ValidationError(_("The date of a session is in this century."))
        return moment


class SessionCreateSerializer(StrictInput):
    date = SessionDateField()
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AgendaAddSerializer(StrictInput):
    project_id = serializers.IntegerField(help_text="A project under review.")


class PresenceSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    present = serializers.BooleanField()


class AttendanceUpdateSerializer(StrictInput):
    attendance = PresenceSerializer(many=True)


class VoterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class TallySerializer(serializers.Serializer):
    closed = serializers.BooleanField(
        help_text="The vote is closed (by the chair, the decision, a deferral or the session's "
        "end): the counts are shown to the commission only from then."
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Votes per choice (every choice listed); null while the vote is open.",
    )
    cast = serializers.IntegerField(
        allow_null=True,
        help_text="Votes cast; while the vote is open, for the chair and the secretariat only.",
    )
    eligible = serializers.IntegerField(
        allow_null=True,
        help_text="Present members who are not conflicted; null when 'cast' is.",
    )
    not_voted = VoterSerializer(
        many=True,
        allow_null=True,
        help_text="Eligible members who have not voted yet: for the secretariat only (null).",
    )
    leading = serializers.CharField(allow_null=True, help_text="Null while the vote is open.")
    my_vote = serializers.ChoiceField(
        choices=VoteChoice.choices, allow_null=True, help_text="The caller's own vote, if cast."
    )


class VoteSerializer(StrictInput):
    choice = serializers.ChoiceField(choices=VoteChoice.choices)


class VoteCastSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    choice = serializers.CharField()
    cast_at = serializers.DateTimeField()


class VariableDecisionSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=VariableVerdict.choices)
    generalisation = serializers.CharField(
        required=False, allow_blank=True, help_text="For 'coarser': the coarser generalisation."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Required unless 'approve'."
    )


class DecideSerializer(StrictInput):
    opinion = serializers.ChoiceField(choices=Recommendation.choices)
    reasons = serializers.CharField(max_length=20000)
    recommendations = serializers.CharField(
        max_length=20000, required=False, allow_blank=True, default=""
    )
    conditions = serializers.CharField(
        max_length=20000, required=False, allow_blank=True, default=""
    )
    no_vote_reason = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when nobody voted on the item (e.g. a written procedure); "
        "refused otherwise.",
    )
    variable_decisions = serializers.DictField(
        child=VariableDecisionSerializer(),
        help_text="Per requested variable code: its verdict, generalisation and reason.",
    )


class DecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    project = serializers.CharField(help_text="The project's reference.")
    version = serializers.IntegerField()
    version_sha256 = serializers.CharField()
    opinion = serializers.ChoiceField(choices=Recommendation.choices)
    reasons = serializers.CharField()
    recommendations = serializers.CharField(allow_blank=True)
    conditions = serializers.CharField(allow_blank=True)
    no_vote_reason = serializers.CharField(
        allow_blank=True, help_text="Why a session decided without a vote; empty otherwise."
    )
    decided_at = serializers.DateTimeField()
    signed_by = serializers.CharField()
    supersedes = serializers.CharField(allow_null=True)
    superseded_by = serializers.CharField(allow_null=True)
    current = serializers.BooleanField(help_text="Not superseded by a correction.")
    specification_sha256 = serializers.CharField()
    approved_specification = serializers.JSONField(
        help_text="What provisioning may deliver: variables (approved with their generalisation),"
        " refused ones with the reason, cohort criteria, access duration and recipients."
    )
    letter = serializers.URLField()
    letter_pdf = serializers.URLField()


# --- Helpers --------------------------------------------------------------------------------

SESSION = OpenApiParameter("session_id", int, OpenApiParameter.PATH)
ITEM = OpenApiParameter("item_id", int, OpenApiParameter.PATH)
PK = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The project's id.")
DECISION = OpenApiParameter("decision_id", int, OpenApiParameter.PATH)


def _session(session_id: int) -> CommissionSession:
    session = CommissionSession.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFound
    return session


def _item(request, session_id: int, item_id: int, permission: Permission) -> AgendaItem:
    """The item, through the item's object rules: 404 to a member conflicted on its project."""
    return get_object_for_user(
        request.user,
        AgendaItem.objects.select_related("session", "project", "version").filter(
            session_id=session_id
        ),
        item_id,
        permission,
    )


def _require(request, permission: Permission) -> None:
    if not has_permission(request.user, permission):
        raise PermissionDenied


def _session_summary(request, session: CommissionSession) -> dict[str, Any]:
    return {
        "id": session.pk,
        "date": session.date,
        "place": session.place,
        "status": session.status,
        "convened_at": session.convened_at,
        "url": reverse("api_session", args=[session.pk], request=request),
    }


def _session_detail(request, session: CommissionSession) -> dict[str, Any]:
    items = list(
        session.items.select_related("project", "version")
        .prefetch_related("project__memberships__user")
        .order_by("position", "pk")
    )
    conflicted = (
        set()
        if has_role(request.user, Role.SECRETARIAT)
        else conflicted_projects(request.user, [item.project for item in items])
    )
    numbers = dict(
        Decision.objects.filter(agenda_item__in=items).values_list("agenda_item_id", "number")
    )
    reasons = quorum_reasons(session)
    return {
        **_session_summary(request, session),
        "opened_at": session.opened_at,
        "closed_at": session.closed_at,
        "quorum_reached": not reasons,
        "quorum_reasons": [str(r) for r in reasons],
        "agenda": [
            {
                "id": item.pk,
                "position": item.position,
                "project_id": item.project_id,
                "project_reference": item.project.reference,
                "project_title": item.project.title,
                "version": item.version.number,
                "decided_at": item.decided_at,
                "deferred_at": item.deferred_at,
                "decision_number": numbers.get(item.pk),
                "tally_url": None
                if item.project_id in conflicted
                else reverse("api_item_tally", args=[session.pk, item.pk], request=request),
            }
            for item in items
        ],
        "attendance": [
            {"member_id": a.member_id, "full_name": a.member.full_name, "present": a.present}
            for a in session.attendance.select_related("member").order_by("member__full_name")
        ],
    }


def _tally(request, item: AgendaItem) -> dict[str, Any]:
    """What the caller may see of the votes (``actions.visible_tally``, as on the page)."""
    result = actions.visible_tally(item, request.user)
    not_voted = result["not_voted"]
    return {
        "closed": result["closed"],
        "counts": result["counts"],
        "cast": result["cast"],
        "eligible": result["eligible"],
        "not_voted": None
        if not_voted is None
        else [{"id": m.pk, "full_name": m.full_name} for m in not_voted],
        "leading": result["leading"],
        "my_vote": result["mine"].choice if result["mine"] else None,
    }


def _decision(request, decision: Decision) -> dict[str, Any]:
    successor = Decision.objects.filter(supersedes=decision).values_list("number", flat=True)
    superseded_by = successor.first()
    args = [decision.project_id, decision.pk]
    return {
        "id": decision.pk,
        "number": decision.number,
        "project": decision.project.reference,
        "version": decision.version.number,
        "version_sha256": decision.version.content_sha256,
        "opinion": decision.opinion,
        "reasons": decision.reasons,
        "recommendations": decision.recommendations,
        "conditions": decision.conditions,
        "no_vote_reason": decision.no_vote_reason,
        "decided_at": decision.decided_at,
        "signed_by": decision.signed_by.full_name,
        "supersedes": decision.supersedes.number if decision.supersedes_id else None,
        "superseded_by": superseded_by,
        "current": superseded_by is None,
        "specification_sha256": decision.specification_sha256,
        "approved_specification": decision.approved_specification,
        "letter": request.build_absolute_uri(django_reverse("decision_letter", args=args)),
        "letter_pdf": request.build_absolute_uri(django_reverse("decision_letter_pdf", args=args)),
    }


# --- Sessions ------------------------------------------------------------------------------


class SessionListCreate(APIView):
    required_permission = Permission.VIEW_SESSIONS

    @extend_schema(
        summary="Commission sessions, latest first",
        responses={200: SessionSummarySerializer(many=True)},
    )
    def get(self, request):
        sessions = CommissionSession.objects.order_by("-date")[:200]
        return Response([_session_summary(request, s) for s in sessions])

    @extend_schema(
        summary="Create a session (secretariat or chair)",
        request=SessionCreateSerializer,
        responses={201: SessionSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request):
        _require(request, Permission.MANAGE_SESSIONS)
        body = SessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = actions.create_session(by=request.user, **body.validated_data)
        return Response(_session_detail(request, session), status=status.HTTP_201_CREATED)


class SessionDetail(APIView):
    required_permission = Permission.VIEW_SESSIONS

    @extend_schema(
        summary="A session: agenda, attendance and quorum",
        parameters=[SESSION],
        responses={200: SessionSerializer},
    )
    def get(self, request, session_id: int):
        return Response(_session_detail(request, _session(session_id)))


class AgendaAdd(APIView):
    required_permission = Permission.MANAGE_SESSIONS

    @extend_schema(
        summary="Put a project under review on the agenda (its latest version)",
        parameters=[SESSION],
        request=AgendaAddSerializer,
        responses={201: SessionSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int):
        session = _session(session_id)
        body = AgendaAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = Project.objects.filter(pk=body.validated_data["project_id"]).first()
        if project is None:
            raise NotFound
        with refusal_detail("The project cannot be put on this agenda."):
            actions.add_to_agenda(session=session, project=project, by=request.user)
        return Response(_session_detail(request, session), status=status.HTTP_201_CREATED)


class AttendanceUpdate(APIView):
    required_permission = Permission.MANAGE_SESSIONS

    @extend_schema(
        summary="Record members present or absent",
        parameters=[SESSION],
        request=AttendanceUpdateSerializer,
        responses={200: SessionSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int):
        session = _session(session_id)
        body = AttendanceUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        presence = {row["member_id"]: row["present"] for row in body.validated_data["attendance"]}
        with refusal_detail("The attendance cannot be recorded."):
            actions.record_attendance(session=session, by=request.user, presence=presence)
        return Response(_session_detail(request, session))


class SessionOpen(APIView):
    required_permission = Permission.OPEN_SESSION

    @extend_schema(
        summary="Open the session (the chair; needs the quorum)",
        parameters=[SESSION],
        request=None,
        responses={200: SessionSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int):
        session = _session(session_id)
        with refusal_detail("The session cannot be opened."):
            session = actions.open_session(session=session, by=request.user)
        return Response(_session_detail(request, session))


class SessionClose(APIView):
    required_permission = Permission.OPEN_SESSION

    @extend_schema(
        summary="Close the session (every item decided or deferred)",
        parameters=[SESSION],
        request=None,
        responses={200: SessionSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int):
        session = _session(session_id)
        with refusal_detail("The session cannot be closed."):
            session = actions.close_session(session=session, by=request.user)
        return Response(_session_detail(request, session))


# --- Items: tally, vote, decision ----------------------------------------------------------


class ItemTally(APIView):
    required_permission = Permission.VIEW_SESSIONS

    @extend_schema(
        summary="The tally of an agenda item: counts once the vote is closed, my own vote always",
        parameters=[SESSION, ITEM],
        responses={200: TallySerializer},
    )
    def get(self, request, session_id: int, item_id: int):
        item = _item(request, session_id, item_id, Permission.VIEW_SESSIONS)
        return Response(_tally(request, item))


class ItemCloseVote(APIView):
    required_permission = Permission.DECIDE

    @extend_schema(
        summary="Close the vote on an agenda item (the chair); the tally is then shown to all",
        parameters=[SESSION, ITEM],
        request=None,
        responses={200: TallySerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int, item_id: int):
        item = _item(request, session_id, item_id, Permission.DECIDE)
        with refusal_detail("The vote cannot be closed."):
            item = actions.close_vote(item=item, by=request.user)
        return Response(_tally(request, item))


class ItemVote(APIView):
    required_permission = Permission.VOTE

    @extend_schema(
        summary="Cast my vote (present, unconflicted, declared; final)",
        parameters=[SESSION, ITEM],
        request=VoteSerializer,
        responses={201: VoteCastSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int, item_id: int):
        item = _item(request, session_id, item_id, Permission.VOTE)
        body = VoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusal_detail("The vote is refused."):
            vote = actions.cast_vote(
                item=item, by=request.user, choice=body.validated_data["choice"]
            )
        return Response(
            {"item": item.pk, "choice": vote.choice, "cast_at": vote.cast_at},
            status=status.HTTP_201_CREATED,
        )


class ItemDecide(APIView):
    required_permission = Permission.DECIDE

    @extend_schema(
        summary="Record the decision on an agenda item (the chair)",
        parameters=[SESSION, ITEM],
        request=DecideSerializer,
        responses={201: DecisionSerializer, 409: SessionRefusedSerializer},
    )
    def post(self, request, session_id: int, item_id: int):
        item = _item(request, session_id, item_id, Permission.DECIDE)
        body = DecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with refusal_detail("The decision cannot be recorded."):
            decision = decisions.record_decision(
                project=item.project,
                by=request.user,
                opinion=data["opinion"],
                reasons=data["reasons"],
                recommendations=data["recommendations"],
                conditions=data["conditions"],
                variable_decisions={k: dict(v) for k, v in data["variable_decisions"].items()},
                agenda_item=item,
                no_vote_reason=data["no_vote_reason"],
            )
        decision = Decision.objects.select_related("project", "version", "signed_by").get(
            pk=decision.pk
        )
        return Response(_decision(request, decision), status=status.HTTP_201_CREATED)


# --- Decisions of a project ----------------------------------------------------------------


def _decision_project(request, pk: int) -> Project:
    return get_object_for_user(request.user, Project, pk, Permission.VIEW_DECISION)


class DecisionList(APIView):
    required_permission = Permission.VIEW_DECISION

    @extend_schema(
        summary="Decisions on a project, latest first",
        parameters=[PK],
        responses={200: DecisionSerializer(many=True)},
    )
    def get(self, request, pk: int):
        project = _decision_project(request, pk)
        found = project.decisions.select_related(
            "project", "version", "signed_by", "supersedes"
        ).order_by("-decided_at", "-pk")
        return Response([_decision(request, d) for d in found])


class DecisionDetail(APIView):
    required_permission = Permission.VIEW_DECISION

    @extend_schema(
        summary="A decision with its approved data specification",
        parameters=[PK, DECISION],
        responses={200: DecisionSerializer},
    )
    def get(self, request, pk: int, decision_id: int):
        project = _decision_project(request, pk)
        decision = (
            project.decisions.select_related("project", "version", "signed_by", "supersedes")
            .filter(pk=decision_id)
            .first()
        )
        if decision is None:
            raise NotFound
        return Response(_decision(request, decision))
