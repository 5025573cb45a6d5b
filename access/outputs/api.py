"""The API of output checking: a project's requests and what the checks found (the team),
upload and submission (the team), the checkers' view and verdict.

The same rules as the pages: a checker never sees another checker's verdict before giving
theirs, the team reads the verdicts once the version is decided, nothing is served here (the
released file is downloaded from its page, with the second factor).
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from access.models_outputs import (
    CellUnit,
    OutputItem,
    OutputItemStatus,
    OutputKind,
    OutputRequest,
    ReviewVerdict,
)
from access.outputs import actions, checks
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.errors import refusal_detail
from projects.models import Project

PK = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The id.")


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    row = serializers.CharField()
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class ReviewSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=ReviewVerdict.choices)
    comment = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField()


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=OutputKind.choices)
    title = serializers.CharField()
    description = serializers.CharField()
    cell_unit = serializers.CharField()
    variables_crossed = serializers.CharField()
    status = serializers.ChoiceField(choices=OutputItemStatus.choices)
    version = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    findings = FindingSerializer(many=True)
    justification = serializers.CharField()
    reviews = ReviewSerializer(many=True)
    release_number = serializers.CharField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)


class RequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    items = ItemSerializer(many=True)
    url = serializers.URLField()


class NewRequestSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)


class NewItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OutputKind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    cell_unit = serializers.ChoiceField(choices=CellUnit.choices, required=False)
    variables_crossed = serializers.CharField(required=False, default="", allow_blank=True)
    magnitude = serializers.BooleanField(required=False, default=False)
    declared_counts = serializers.CharField(required=False, default="", allow_blank=True)
    file = serializers.FileField()


class VerdictSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=ReviewVerdict.choices)
    comment = serializers.CharField(required=False, default="", allow_blank=True)


def _item_data(item: OutputItem, *, reviews: list) -> dict:
    version = item.current_version
    return {
        "id": item.pk,
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "cell_unit": item.cell_unit,
        "variables_crossed": item.variables_crossed,
        "status": item.status,
        "version": version.number if version else None,
        "sha256": version.sha256 if version else "",
        "findings": [
            {**f, "message": checks.describe(f)} for f in (version.findings if version else [])
        ],
        "justification": item.justification,
        "reviews": [
            {"verdict": r.verdict, "comment": r.comment, "submitted_at": r.submitted_at}
            for r in reviews
        ],
        "release_number": item.release_number,
        "released_at": item.released_at,
    }


def _team_reviews(item: OutputItem) -> list:
    version = item.current_version
    if version is None or item.status == OutputItemStatus.SUBMITTED:
        return []
    return list(version.reviews.all())


def _request_data(request, output_request: OutputRequest) -> dict:
    items = output_request.items.prefetch_related("versions__reviews")
    return {
        "id": output_request.pk,
        "title": output_request.title,
        "status": output_request.status,
        "items": [_item_data(item, reviews=_team_reviews(item)) for item in items],
        "url": reverse("api_output_request", args=[output_request.pk], request=request),
    }


def _output_request(request, pk: int) -> OutputRequest:
    found = OutputRequest.objects.select_related("project").filter(pk=pk).first()
    if found is None or not has_permission(request.user, Permission.REQUEST_OUTPUTS, found.project):
        raise Http404
    return found


class ProjectOutputRequests(APIView):
    """A project's output requests (its team); a team member creates one."""

    required_permission = Permission.REQUEST_OUTPUTS

    @extend_schema(
        summary="The project's output requests", parameters=[PK], responses=RequestSerializer
    )
    def get(self, request, pk: int):
        project = get_object_for_user(request.user, Project, pk, Permission.REQUEST_OUTPUTS)
        data = [_request_data(request, r) for r in project.output_requests.all()]
        return Response(RequestSerializer(data, many=True).data)

    @extend_schema(
        summary="Create an output request",
        parameters=[PK],
        request=NewRequestSerializer,
        responses={201: RequestSerializer},
    )
    def post(self, request, pk: int):
        project = get_object_for_user(request.user, Project, pk, Permission.REQUEST_OUTPUTS)
        given = NewRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with refusal_detail(_refused()):
            created = actions.create_output_request(
                project=project, title=given.validated_data["title"], by=request.user
            )
        return Response(
            RequestSerializer(_request_data(request, created)).data,
            status=status.HTTP_201_CREATED,
        )


def _refused() -> str:
    return gettext("The step is not possible now.")


class OutputRequestDetail(APIView):
    """One request (its team): outputs, findings per cell; add an output (multipart)."""

    required_permission = Permission.REQUEST_OUTPUTS

    @extend_schema(summary="An output request", parameters=[PK], responses=RequestSerializer)
    def get(self, request, pk: int):
        return Response(
            RequestSerializer(_request_data(request, _output_request(request, pk))).data
        )

    @extend_schema(
        summary="Add an output (multipart, with its file): it is stored, typed and checked",
        parameters=[PK],
        request={"multipart/form-data": NewItemSerializer},
        responses={201: RequestSerializer},
    )
    def post(self, request, pk: int):
        output_request = _output_request(request, pk)
        given = NewItemSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        with refusal_detail(_refused()):
            try:
                actions.add_output_item(
                    request=output_request, upload=data.pop("file"), by=request.user, **data
                )
            except actions.UploadRefused as refused:
                raise serializers.ValidationError({"file": [refused.message]}) from refused
        return Response(
            RequestSerializer(_request_data(request, output_request)).data,
            status=status.HTTP_201_CREATED,
        )


class SubmitOutputRequest(APIView):
    required_permission = Permission.REQUEST_OUTPUTS

    @extend_schema(
        summary="Send the outputs being prepared to the checkers",
        parameters=[PK],
        request=None,
        responses=RequestSerializer,
    )
    def post(self, request, pk: int):
        output_request = _output_request(request, pk)
        with refusal_detail(_refused()):
            actions.submit_output_request(request=output_request, by=request.user)
        return Response(RequestSerializer(_request_data(request, output_request)).data)


class OutputCheck(APIView):
    """An output for a checker; the other verdicts only once this checker gave theirs."""

    required_permission = Permission.CHECK_OUTPUTS

    def _item(self, request, pk: int) -> OutputItem:
        return get_object_for_user(
            request.user,
            OutputItem.objects.select_related("request__project"),
            pk,
            Permission.CHECK_OUTPUTS,
        )

    def _data(self, request, item: OutputItem) -> dict:
        version = item.current_version
        reviews = list(version.reviews.all()) if version else []
        if not any(r.checker_id == request.user.pk for r in reviews):
            reviews = []
        return _item_data(item, reviews=reviews)

    @extend_schema(summary="An output to check", parameters=[PK], responses=ItemSerializer)
    def get(self, request, pk: int):
        return Response(ItemSerializer(self._data(request, self._item(request, pk))).data)

    @extend_schema(
        summary="Give a verdict on the current version",
        parameters=[PK],
        request=VerdictSerializer,
        responses=ItemSerializer,
    )
    def post(self, request, pk: int):
        item = self._item(request, pk)
        given = VerdictSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with refusal_detail(_refused()):
            actions.review_output(item=item, by=request.user, **given.validated_data)
        return Response(ItemSerializer(self._data(request, self._item(request, pk))).data)


# --- Closeout (RET-03, TRA-11) --------------------------------------------------------------


class ClosingReportSerializer(serializers.Serializer):
    results_summary = serializers.CharField()
    publications = serializers.CharField(allow_blank=True)
    no_results_reason = serializers.CharField(allow_blank=True)
    copies_destroyed_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField()


class CloseoutSerializer(serializers.Serializer):
    status = serializers.CharField()
    access_ends_at = serializers.DateTimeField(allow_null=True)
    results_due_on = serializers.DateField(allow_null=True)
    report = ClosingReportSerializer(allow_null=True)


class NewClosingReportSerializer(serializers.Serializer):
    results_summary = serializers.CharField(max_length=20000)
    publications = serializers.CharField(
        max_length=20000, required=False, default="", allow_blank=True
    )
    no_results_reason = serializers.CharField(
        max_length=20000, required=False, default="", allow_blank=True
    )
    copies_destroyed = serializers.BooleanField(
        help_text="The lead confirms that every copy of the delivered data was destroyed."
    )


class DueForCloseoutSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    lead = serializers.CharField()
    access_ends_at = serializers.DateTimeField(allow_null=True)
    results_due_on = serializers.DateField()
    overdue = serializers.BooleanField()
    report_given = serializers.BooleanField()


def _closeout_data(project: Project) -> dict:
    from access.models_outputs import ClosingReport
    from access.outputs.closeout import access_ends_on, results_due_on

    report = ClosingReport.objects.filter(project=project).first()
    return {
        "status": project.status,
        "access_ends_at": access_ends_on(project),
        "results_due_on": results_due_on(project),
        "report": report,
    }


class ProjectCloseout(APIView):
    """A project's results due date and final report (its team); the lead gives the report."""

    required_permission = Permission.REQUEST_OUTPUTS

    @extend_schema(
        summary="The project's results due date and final report",
        parameters=[PK],
        responses=CloseoutSerializer,
    )
    def get(self, request, pk: int):
        project = get_object_for_user(request.user, Project, pk, Permission.REQUEST_OUTPUTS)
        return Response(CloseoutSerializer(_closeout_data(project)).data)

    @extend_schema(
        summary="Give the final report (the lead): results, publications or why there are "
        "none, and the confirmation that every copy of the data was destroyed",
        parameters=[PK],
        request=NewClosingReportSerializer,
        responses=CloseoutSerializer,
    )
    def post(self, request, pk: int):
        from access.outputs.closeout import submit_closing_report

        project = get_object_for_user(request.user, Project, pk, Permission.REQUEST_OUTPUTS)
        given = NewClosingReportSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with refusal_detail(_refused()):
            submit_closing_report(project=project, by=request.user, **given.validated_data)
        project.refresh_from_db()
        return Response(CloseoutSerializer(_closeout_data(project)).data)


class DueForCloseoutList(APIView):
    """The secretariat's pipeline: projects whose results are due soon or overdue."""

    required_permission = Permission.VIEW_PIPELINE

    @extend_schema(
        summary="Projects due for closeout, earliest due date first",
        responses=DueForCloseoutSerializer(many=True),
    )
    def get(self, request):
        from access.outputs.closeout import due_for_closeout

        data = [
            {
                "project": row.project.pk,
                "reference": row.project.reference,
                "title": row.project.title,
                "status": row.project.status,
                "lead": row.lead_name,
                "access_ends_at": row.access_ends_at,
                "results_due_on": row.due_on,
                "overdue": row.overdue,
                "report_given": row.report_given,
            }
            for row in due_for_closeout()
        ]
        return Response(DueForCloseoutSerializer(data, many=True).data)


# --- Named output checkers ------------------------------------------------------------------


class CheckerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    organisation = serializers.CharField()
    email = serializers.EmailField()


class NameCheckerSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    validated_by = serializers.CharField(
        max_length=200, help_text="Who approved the naming (the person's line manager)."
    )
    valid_until = serializers.DateField(help_text="The last day of the naming.")


def _checker_data(user) -> dict:
    return {
        "id": user.pk,
        "full_name": user.full_name,
        "organisation": user.organisation,
        "email": user.email,
    }


class OutputCheckers(APIView):
    """The output checkers the data office named; it names one by an account's address."""

    required_permission = Permission.NAME_OUTPUT_CHECKERS

    @extend_schema(summary="The named output checkers", responses=CheckerSerializer(many=True))
    def get(self, request):
        from access.outputs.checkers import named_checkers

        return Response(
            CheckerSerializer([_checker_data(u) for u in named_checkers()], many=True).data
        )

    @extend_schema(
        summary="Name an output checker (an existing, active account)",
        request=NameCheckerSerializer,
        responses={201: CheckerSerializer},
    )
    def post(self, request):
        from access.outputs.checkers import name_output_checker

        given = NameCheckerSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with refusal_detail(_refused()):
            user = name_output_checker(by=request.user, **given.validated_data)
        return Response(CheckerSerializer(_checker_data(user)).data, status=status.HTTP_201_CREATED)


class OutputCheckerDetail(APIView):
    required_permission = Permission.NAME_OUTPUT_CHECKERS

    @extend_schema(
        summary="End the naming of an output checker",
        parameters=[PK],
        request=None,
        responses={204: None},
    )
    def delete(self, request, pk: int):
        from access.outputs.checkers import end_output_checker, named_checkers

        user = named_checkers().filter(pk=pk).first()
        if user is None:
            raise Http404
        with refusal_detail(_refused()):
            end_output_checker(user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
