"""The review over the API: rapporteurs (secretariat), my review (rapporteur), the reviews
(readers), and a commission member's declaration of interests.

The same rules as the pages: the facade decides, the actions write and validate. A project the
caller may not know exists answers 404, whatever the endpoint.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse as django_reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission
from eds_portal.errors import Refused, refusal_detail
from projects.actions import declare_interest
from projects.api import PK, DetailSerializer, _project_or_404
from projects.conflicts import REVIEW_STATUSES, automatic_conflict, declaration_of, parties
from projects.models import (
    InterestWithdrawal,
    Project,
    RapporteurAssignment,
    Recommendation,
    Review,
    VariableVerdict,
    WithdrawalStatus,
)
from projects.review import selectors
from projects.review.actions import (
    MAX_REASON_LENGTH,
    MAX_TEXT_LENGTH,
    TEXT_FIELDS,
    ReviewInvalid,
    assign_rapporteur,
    change_due_date,
    remove_rapporteur,
    review_data,
    review_refusals,
    save_review,
    submission_errors,
    submit_review,
)

NOT_FOUND = {404: DetailSerializer}
ASSIGNMENT_ID = OpenApiParameter(
    "assignment_id", int, OpenApiParameter.PATH, description="The assignment's id."
)

# --- Serializers ------------------------------------------------------------------------------


class ReviewRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class ReviewErrorsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field: the texts, 'recommendation', 'verdict__<code>', "
        "'generalisation__<code>', 'reason__<code>'.",
    )


class RapporteurAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    member_name = serializers.CharField()
    due_date = serializers.DateField()
    assigned_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the review of the current version was submitted."
    )
    overdue = serializers.BooleanField()
    url = serializers.URLField()


class RapporteurCandidateSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    member_name = serializers.CharField()
    open_assignments = serializers.IntegerField(help_text="Reviews this member still owes.")
    overdue_assignments = serializers.IntegerField()
    declared = serializers.BooleanField(help_text="Declared their interests in this file.")
    conflict = serializers.CharField(
        allow_null=True, help_text="Why the member cannot be rapporteur here; null if they can."
    )
    assigned = serializers.BooleanField()


class RapporteursSerializer(serializers.Serializer):
    minimum = serializers.IntegerField(help_text="Rapporteurs required per file.")
    lacking = serializers.IntegerField(help_text="How many more are needed.")
    rapporteurs = RapporteurAssignmentSerializer(many=True)
    candidates = RapporteurCandidateSerializer(many=True)


class AssignSerializer(StrictInput):
    member = serializers.IntegerField(help_text="The commission member's user id.")
    due_date = serializers.DateField(help_text="A future date (YYYY-MM-DD).")


class DueDateSerializer(StrictInput):
    due_date = serializers.DateField(help_text="A future date (YYYY-MM-DD).")


class VariableVerdictInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(
        choices=VariableVerdict.choices, required=False, allow_blank=True
    )
    generalisation = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="With 'coarser' only: one of the variable's coarser_choices.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=MAX_REASON_LENGTH, trim_whitespace=False
    )


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT_LENGTH,
        trim_whitespace=False,
        **kwargs,
    )


class ReviewInputSerializer(StrictInput):
    """The whole review as typed; what is absent is stored empty."""

    scientific_quality = _text()
    public_interest = _text()
    methodology = _text()
    information_of_persons = _text()
    ethics = _text()
    recommendation = serializers.ChoiceField(
        choices=Recommendation.choices, required=False, allow_blank=True
    )
    private_notes = _text(help_text="Read by the commission and the secretariat only.")
    variables = serializers.DictField(
        child=VariableVerdictInputSerializer(),
        required=False,
        help_text="By variable code (see 'variables' in the GET answer).",
    )


class RequestedVariableSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    requested_generalisation = serializers.CharField()
    justification = serializers.CharField(allow_blank=True)
    coarser_choices = serializers.ListField(child=serializers.CharField())
    verdict = serializers.CharField(allow_blank=True)
    generalisation = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)


class MyReviewSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version reviewed: the latest one.")
    state = serializers.ChoiceField(choices=["none", "draft", "submitted"])
    editable = serializers.BooleanField()
    refusals = serializers.ListField(
        child=serializers.CharField(), help_text="Why the review cannot be changed now."
    )
    submitted_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    scientific_quality = serializers.CharField(allow_blank=True)
    public_interest = serializers.CharField(allow_blank=True)
    methodology = serializers.CharField(allow_blank=True)
    information_of_persons = serializers.CharField(allow_blank=True)
    ethics = serializers.CharField(allow_blank=True)
    recommendation = serializers.CharField(allow_blank=True)
    private_notes = serializers.CharField(allow_blank=True)
    variables = RequestedVariableSerializer(many=True)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="What a submission would still refuse; empty when complete.",
    )


class ReviewSavedSerializer(serializers.Serializer):
    saved = serializers.BooleanField()
    complete = serializers.BooleanField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class SubmittedVariableSerializer(serializers.Serializer):
    code = serializers.CharField()
    verdict = serializers.CharField()
    generalisation = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)


class SubmittedReviewSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    scientific_quality = serializers.CharField()
    public_interest = serializers.CharField()
    methodology = serializers.CharField()
    information_of_persons = serializers.CharField()
    ethics = serializers.CharField()
    recommendation = serializers.CharField()
    private_notes = serializers.CharField(allow_blank=True)
    variables = SubmittedVariableSerializer(many=True)


class VariableSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    requested_generalisation = serializers.CharField()
    approve = serializers.IntegerField()
    coarser = serializers.IntegerField()
    refuse = serializers.IntegerField()


class VersionReviewsSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    reviews = SubmittedReviewSerializer(many=True)
    summary = VariableSummarySerializer(many=True)


class PartySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["controller", "joint_controllers", "processors", "funders", "platform", "team"]
    )
    label = serializers.CharField()
    names = serializers.ListField(child=serializers.CharField())


class InterestSerializer(serializers.Serializer):
    declared = serializers.BooleanField()
    has_interest = serializers.BooleanField(allow_null=True)
    declared_at = serializers.DateTimeField(allow_null=True)
    automatic_conflict = serializers.CharField(
        allow_null=True, help_text="Why the caller is conflicted whatever they declare."
    )
    parties = PartySerializer(
        many=True,
        help_text="Every party of the protocol that may create a conflict: controllers, "
        "processors, funders, analysis platform, the team's organisations.",
    )
    withdrawal_status = serializers.ChoiceField(
        choices=WithdrawalStatus.choices,
        allow_null=True,
        help_text="My latest request to withdraw a declared interest "
        "(.../interests/withdrawal/); a pending one leaves the interest standing.",
    )


class InterestInputSerializer(StrictInput):
    has_interest = serializers.BooleanField()
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Required when declaring an interest.",
    )

    def validate(self, attrs):
        if attrs["has_interest"] and not attrs.get("description", "").strip():
            raise ValidationError({"description": [_("Describe the interest.")]})
        return attrs


# --- Helpers ----------------------------------------------------------------------------------


def _invalid(detail: str, errors: dict[str, list[str]]) -> Response:
    body = {"detail": detail, "errors": {k: [str(m) for m in v] for k, v in errors.items()}}
    return Response(ReviewErrorsSerializer(body).data, status=status.HTTP_400_BAD_REQUEST)


def _assignment(request, assignment: RapporteurAssignment, today) -> dict[str, Any]:
    return {
        "id": assignment.pk,
        "member_id": assignment.member_id,
        "member_name": assignment.member.full_name,
        "due_date": assignment.due_date,
        "assigned_at": assignment.assigned_at,
        "completed_at": assignment.completed_at,
        "overdue": assignment.completed_at is None and assignment.due_date < today,
        "url": request.build_absolute_uri(
            django_reverse("api_review_rapporteur", args=[assignment.project_id, assignment.pk])
        ),
    }


def _rapporteurs(request, project: Project) -> dict[str, Any]:
    from django.conf import settings

    today = timezone.localdate()
    assignments = list(selectors.active_assignments(project))
    return {
        "minimum": settings.EDS_MIN_RAPPORTEURS,
        "lacking": max(0, settings.EDS_MIN_RAPPORTEURS - len(assignments)),
        "rapporteurs": [_assignment(request, a, today) for a in assignments],
        "candidates": [
            {
                "member_id": c.member.pk,
                "member_name": c.member.full_name,
                "open_assignments": c.open_count,
                "overdue_assignments": c.overdue_count,
                "declared": c.declared,
                "conflict": c.conflict,
                "assigned": c.assigned,
            }
            for c in selectors.candidates(project, today=today)
        ],
    }


def _active_assignment(project: Project, assignment_id: int) -> RapporteurAssignment:
    assignment = (
        RapporteurAssignment.objects.select_related("member")
        .filter(pk=assignment_id, project=project, removed_at__isnull=True)
        .first()
    )
    if assignment is None:
        raise NotFound
    return assignment


def _my_review(request, project: Project) -> dict[str, Any]:
    version = selectors.latest_version(project)
    if version is None:
        raise NotFound
    review = selectors.review_of(request.user, version)
    data = review_data(review)
    refusals = review_refusals(project, request.user)
    if review is not None and review.submitted_at is not None:
        refusals.append(_("Your review of this version was submitted: it can no longer change."))
    assignment = selectors.active_assignment(request.user, project)
    verdicts = data["variables"]
    return {
        "version": version.number,
        "state": "none" if review is None else ("submitted" if review.submitted_at else "draft"),
        "editable": not refusals,
        "refusals": refusals,
        "submitted_at": review.submitted_at if review else None,
        "due_date": assignment.due_date if assignment else None,
        **{name: data[name] for name in (*TEXT_FIELDS, "recommendation", "private_notes")},
        "variables": [
            {
                "code": item.code,
                "label": item.label,
                "requested_generalisation": item.generalisation,
                "justification": item.justification,
                "coarser_choices": [g.value for g in item.coarser],
                "verdict": (verdicts.get(item.code) or {}).get("verdict", ""),
                "generalisation": (verdicts.get(item.code) or {}).get("generalisation", ""),
                "reason": (verdicts.get(item.code) or {}).get("reason", ""),
            }
            for item in selectors.requested_variables(version)
        ],
        "errors": {}
        if review is not None and review.submitted_at
        else {k: [str(m) for m in v] for k, v in submission_errors(version, data).items()},
    }


def _submitted_review(review: Review) -> dict[str, Any]:
    return {
        "reviewer": review.reviewer.full_name,
        "submitted_at": review.submitted_at,
        **{name: getattr(review, name) for name in TEXT_FIELDS},
        "recommendation": review.recommendation,
        "private_notes": review.private_notes,
        "variables": [
            {
                "code": item.variable,
                "verdict": item.verdict,
                "generalisation": item.generalisation,
                "reason": item.reason,
            }
            for item in review.variables.all()
        ],
    }


# --- Endpoints --------------------------------------------------------------------------------


class RapporteurListCreate(APIView):
    """The secretariat's view of a file's rapporteurs, and the members it may assign."""

    required_permission = Permission.ASSIGN_RAPPORTEURS

    @extend_schema(
        summary="Rapporteurs of a file, and every member with their load and conflict",
        parameters=[PK],
        responses={200: RapporteursSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.ASSIGN_RAPPORTEURS)
        return Response(RapporteursSerializer(_rapporteurs(request, project)).data)

    @extend_schema(
        summary="Assign a commission member as rapporteur, with a due date (the member is told)",
        parameters=[PK],
        request=AssignSerializer,
        responses={
            201: RapporteurAssignmentSerializer,
            400: DetailSerializer,
            409: ReviewRefusedSerializer,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.ASSIGN_RAPPORTEURS)
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        member = get_user_model().objects.filter(pk=body.validated_data["member"]).first()
        with refusal_detail(_("This member cannot be assigned.")):
            assignment = assign_rapporteur(
                project=project,
                member=member,
                due_date=body.validated_data["due_date"],
                by=request.user,
            )
        return Response(
            RapporteurAssignmentSerializer(
                _assignment(request, assignment, timezone.localdate())
            ).data,
            status=status.HTTP_201_CREATED,
        )


class RapporteurDetail(APIView):
    required_permission = Permission.ASSIGN_RAPPORTEURS

    @extend_schema(
        summary="Change the due date of an assignment (its reminders are sent again)",
        parameters=[PK, ASSIGNMENT_ID],
        request=DueDateSerializer,
        responses={200: RapporteurAssignmentSerializer, 409: ReviewRefusedSerializer, **NOT_FOUND},
    )
    def patch(self, request, pk: int, assignment_id: int):
        project = _project_or_404(request, pk, Permission.ASSIGN_RAPPORTEURS)
        assignment = _active_assignment(project, assignment_id)
        body = DueDateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with refusal_detail(_("The due date cannot be changed.")):
            assignment = change_due_date(
                assignment=assignment, due_date=body.validated_data["due_date"], by=request.user
            )
        return Response(
            RapporteurAssignmentSerializer(
                _assignment(request, assignment, timezone.localdate())
            ).data
        )

    @extend_schema(
        summary="End an assignment (the member is told; a submitted review stays)",
        parameters=[PK, ASSIGNMENT_ID],
        request=None,
        responses={204: None, 409: ReviewRefusedSerializer, **NOT_FOUND},
    )
    def delete(self, request, pk: int, assignment_id: int):
        project = _project_or_404(request, pk, Permission.ASSIGN_RAPPORTEURS)
        assignment = _active_assignment(project, assignment_id)
        with refusal_detail(_("The assignment cannot be removed.")):
            remove_rapporteur(assignment=assignment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyReview(APIView):
    """The caller's review of the latest version, as a rapporteur."""

    required_permission = Permission.REVIEW_PROJECT

    @extend_schema(
        summary="My review of the latest version, the requested variables and what is missing",
        parameters=[PK],
        responses={200: MyReviewSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.REVIEW_PROJECT)
        return Response(MyReviewSerializer(_my_review(request, project)).data)

    @extend_schema(
        summary="Save my review as a draft (complete or not); it replaces what was stored",
        parameters=[PK],
        request=ReviewInputSerializer,
        examples=[
            OpenApiExample(
                "A draft",
                request_only=True,
                value={
                    "scientific_quality": "Question pertinente, équipe expérimentée.",
                    "recommendation": "favourable_recommendations",
                    "variables": {
                        "person.birth_date": {
                            "verdict": "coarser",
                            "generalisation": "five_year_band",
                            "reason": "La bande de 5 ans suffit à l'étude et protège mieux.",
                        },
                        "person.sex": {"verdict": "approve"},
                    },
                },
            )
        ],
        responses={
            200: ReviewSavedSerializer,
            400: ReviewErrorsSerializer,
            409: ReviewRefusedSerializer,
            **NOT_FOUND,
        },
    )
    def put(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.REVIEW_PROJECT)
        body = ReviewInputSerializer(data=request.data)
        if not body.is_valid():
            raise ValidationError(body.errors)
        data = {
            **{name: body.validated_data.get(name, "") for name in TEXT_FIELDS},
            "recommendation": body.validated_data.get("recommendation", ""),
            "private_notes": body.validated_data.get("private_notes", ""),
            "variables": {
                code: dict(verdict)
                for code, verdict in (body.validated_data.get("variables") or {}).items()
            },
        }
        try:
            with refusal_detail(_("The review cannot be changed now.")):
                review = save_review(project=project, by=request.user, data=data)
        except ReviewInvalid as invalid:
            return _invalid(_("The review cannot be stored as it is."), invalid.errors)
        errors = submission_errors(review.version, review_data(review))
        return Response(
            ReviewSavedSerializer(
                {
                    "saved": True,
                    "complete": not errors,
                    "errors": {k: [str(m) for m in v] for k, v in errors.items()},
                }
            ).data
        )


class SubmitMyReview(APIView):
    required_permission = Permission.REVIEW_PROJECT

    @extend_schema(
        summary="Submit my stored review once complete: it becomes read-only",
        parameters=[PK],
        request=None,
        responses={
            200: MyReviewSerializer,
            400: ReviewErrorsSerializer,
            409: ReviewRefusedSerializer,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.REVIEW_PROJECT)
        try:
            with refusal_detail(_("The review cannot be submitted now.")):
                submit_review(project=project, by=request.user)
        except ReviewInvalid as invalid:
            return _invalid(_("The review is not complete."), invalid.errors)
        project.refresh_from_db()
        return Response(MyReviewSerializer(_my_review(request, project)).data)


class ReviewList(APIView):
    """Submitted reviews, for the commission and the secretariat; never for the team."""

    required_permission = Permission.READ_REVIEWS

    @extend_schema(
        summary="The submitted reviews of each version, newest first, with a summary per variable",
        parameters=[PK],
        responses={200: VersionReviewsSerializer(many=True), **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.READ_REVIEWS)
        data = [
            {
                "version": block["version"].number,
                "reviews": [_submitted_review(r) for r in block["reviews"]],
                "summary": [
                    {
                        "code": row.requested.code,
                        "label": row.requested.label,
                        "requested_generalisation": row.requested.generalisation,
                        "approve": row.approve,
                        "coarser": row.coarser,
                        "refuse": row.refuse,
                    }
                    for row in block["summary"]
                ],
            }
            for block in selectors.reviews_by_version(project)
        ]
        return Response(VersionReviewsSerializer(data, many=True).data)


class InterestDeclaration(APIView):
    """A commission member's declaration of interests in a file in review (GOV-10)."""

    required_permission = Permission.DECLARE_INTEREST

    def _project(self, pk: int) -> Project:
        project = Project.objects.filter(pk=pk, status__in=REVIEW_STATUSES).first()
        if project is None:
            raise NotFound
        return project

    def _state(self, request, project: Project) -> dict[str, Any]:
        declaration = declaration_of(request.user, project)
        withdrawal = (
            InterestWithdrawal.objects.filter(project=project, member=request.user)
            .order_by("-requested_at", "-pk")
            .values_list("status", flat=True)
            .first()
        )
        return {
            "declared": declaration is not None,
            "has_interest": declaration.has_interest if declaration else None,
            "declared_at": declaration.declared_at if declaration else None,
            "automatic_conflict": automatic_conflict(request.user, project),
            "parties": [
                {"kind": p.kind, "label": str(p.label), "names": list(p.names)}
                for p in parties(project)
            ],
            "withdrawal_status": withdrawal,
        }

    @extend_schema(
        summary="My declaration of interests in this file",
        parameters=[PK],
        responses={200: InterestSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = self._project(pk)
        return Response(InterestSerializer(self._state(request, project)).data)

    @extend_schema(
        summary="Declare my interests in this file; a new declaration replaces the previous one",
        description="A declared interest is not undone here (409): ask the secretariat through "
        "POST .../interests/withdrawal/; the conflict stands until it accepts.",
        parameters=[PK],
        request=InterestInputSerializer,
        responses={
            200: InterestSerializer,
            400: DetailSerializer,
            409: ReviewRefusedSerializer,
            **NOT_FOUND,
        },
    )
    def put(self, request, pk: int):
        project = self._project(pk)
        body = InterestInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if automatic_conflict(request.user, project):
            raise Refused(
                [automatic_conflict(request.user, project)],
                detail=_("You are conflicted on this project whatever you declare."),
            )
        with refusal_detail(_("The declaration was not recorded.")):
            declare_interest(
                project=project,
                by=request.user,
                has_interest=body.validated_data["has_interest"],
                description=body.validated_data.get("description", ""),
            )
        return Response(InterestSerializer(self._state(request, project)).data)
