"""The researcher's side over the API: projects, draft sections, submission, withdrawal, versions.

The same rules as the pages: the facade decides, the actions write, the section forms validate.
A project the user may not know exists answers 404, whatever the endpoint.

Like the pages, the other resources of a project have their own modules: its team
(team_api.py), its attachments (attachment_api.py) and the comparison of its versions
(compare_api.py). They share this module's helpers: the project or 404, the common
serializers and parameters, the named enums of the schema.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db.models import Count, Prefetch
from django.urls import reverse as django_reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission, get_object_for_user, has_permission
from projects import workflow
from projects.actions import (
    NotEditable,
    create_project,
    save_section,
    submit_project,
    withdraw_project,
)
from projects.completeness import missing_items
from projects.models import Project, ProjectStatus, ProtocolVersion, TeamMembership, TeamRole
from projects.permissions import EDITORS
from projects.sections import BY_KEY, SECTIONS, bound_form, strict_choice_errors
from projects.views import visible_projects

logger = logging.getLogger(__name__)

# A section is a handful of fields; the data request a few hundred short ones.
MAX_SECTION_BYTES = 256 * 1024
SECTION_KEYS = [section.key for section in SECTIONS]

# --- Serializers: what the endpoints return, and what the schema says they return --------------


class ProjectLinksSerializer(serializers.Serializer):
    api = serializers.URLField(help_text="This project in the API.")
    page = serializers.URLField(help_text="This project's page in the portal.")


class ProjectListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    status_label = serializers.CharField()
    my_role = serializers.ChoiceField(
        choices=TeamRole.choices,
        allow_null=True,
        help_text="The caller's role in the team; null for staff who see every project.",
    )
    versions_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    urls = ProjectLinksSerializer()


class ProjectCreateSerializer(StrictInput):
    title = serializers.CharField(
        max_length=300, help_text="Working title; the identification section can change it."
    )


class TeamMemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=TeamRole.choices)
    role_label = serializers.CharField()


class VersionSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    submitted_by = serializers.CharField(help_text="Full name of who submitted it.")
    is_amendment = serializers.BooleanField()
    content_sha256 = serializers.CharField(help_text="SHA-256 of the frozen content (JSON).")
    url = serializers.URLField()


class MissingItemSerializer(serializers.Serializer):
    section = serializers.CharField(
        help_text="Section key, or 'attachments' or 'team' for what lives outside the sections."
    )
    section_title = serializers.CharField()
    label = serializers.CharField(help_text="The field (or document) concerned.")
    message = serializers.CharField()


class CompletenessSerializer(serializers.Serializer):
    complete = serializers.BooleanField()
    missing = MissingItemSerializer(many=True)


class TransitionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    possible = serializers.BooleanField(help_text="Whether it can be fired now.")
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why it cannot be fired now; empty if possible."
    )


class SectionStateSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=SECTION_KEYS)
    title = serializers.CharField()
    started = serializers.BooleanField()
    url = serializers.URLField()


class ProjectDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=ProjectStatus.choices)
    status_label = serializers.CharField()
    editable = serializers.BooleanField(help_text="Whether the draft can be changed now.")
    requires_consent = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField(allow_blank=True)
    my_role = serializers.ChoiceField(choices=TeamRole.choices, allow_null=True)
    team = TeamMemberSerializer(many=True)
    sections = SectionStateSerializer(many=True)
    versions = VersionSummarySerializer(many=True)
    completeness = CompletenessSerializer(
        allow_null=True, help_text="What the draft still lacks; null when it is not editable."
    )
    transitions = TransitionSerializer(
        many=True, help_text="What the caller's role allows on this project in its status."
    )
    urls = ProjectLinksSerializer()


class FieldErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()


class SectionFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    required = serializers.BooleanField()
    help_text = serializers.CharField(allow_blank=True)
    choices = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        allow_null=True,
        help_text="[value, label] pairs for fields with a fixed list of values.",
    )


ERRORS_FIELD_HELP = (
    "Current validation messages by field name ('__all__' for the section as a whole), as the "
    "section's page shows them. Empty when the section is complete or not started."
)


class SectionSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=SECTION_KEYS)
    title = serializers.CharField()
    started = serializers.BooleanField()
    raw = serializers.DictField(
        allow_null=True, help_text="What is stored, as typed; null if never saved."
    )
    valid = serializers.BooleanField()
    errors = serializers.DictField(
        child=FieldErrorSerializer(many=True), help_text=ERRORS_FIELD_HELP
    )
    fields = SectionFieldSerializer(many=True, help_text="The names the section accepts.")


class SectionSavedSerializer(serializers.Serializer):
    saved = serializers.BooleanField()
    valid = serializers.BooleanField()
    errors = serializers.DictField(
        child=FieldErrorSerializer(many=True), help_text=ERRORS_FIELD_HELP
    )


class WithdrawSerializer(StrictInput):
    reason = serializers.CharField(max_length=2000, help_text="Why the project is withdrawn.")


class RefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    missing = MissingItemSerializer(
        many=True, required=False, help_text="On submission: what the draft still lacks."
    )


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class VersionSerializer(VersionSummarySerializer):
    project = serializers.CharField(help_text="The project's reference.")
    content = serializers.JSONField(
        help_text="The frozen content: sections as typed, '_team' and '_attachments'."
    )


# --- Reading ------------------------------------------------------------------------------------


class ProjectNotEditable(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy(
        "The project is not editable in its current status; read its versions."
    )
    default_code = "not_editable"


def _visible_project(request, pk: int) -> Project:
    """The project, or 404 for those who may not know it exists (as if it did not)."""
    return get_object_for_user(
        request.user, Project.objects.select_related("draft"), pk, Permission.VIEW_PROJECT
    )


def _project_or_404(request, pk: int, permission: Permission) -> Project:
    """The project, 404 for those who may not know it exists, 403 for what they may not do."""
    project = _visible_project(request, pk)
    if not has_permission(request.user, permission, project):
        raise PermissionDenied
    return project


def _editable_project(request, pk: int, key: str) -> Project:
    """The project whose draft the caller edits; 409 for its editors once it is submitted."""
    project = _visible_project(request, pk)
    if key not in BY_KEY:
        raise NotFound
    _check_draft_editor(request, project)
    return project


def _check_draft_editor(request, project: Project) -> None:
    """403 for those who may not edit the draft; 409 for its editors once it is submitted."""
    if not has_permission(request.user, Permission.EDIT_PROJECT, project):
        editor = project.memberships.filter(user=request.user, role__in=EDITORS).exists()
        if editor and not project.is_editable:
            raise ProjectNotEditable
        raise PermissionDenied


def _object_id(value: int) -> int:
    """A row id from the path; 404 beyond the database's range rather than an error."""
    if not 0 < value < 2**63:
        raise NotFound
    return value


def _links(request, project: Project) -> dict[str, str]:
    return {
        "api": reverse("api_project", args=[project.pk], request=request),
        "page": request.build_absolute_uri(django_reverse("project_detail", args=[project.pk])),
    }


def _version_summary(request, version: ProtocolVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "submitted_at": version.submitted_at,
        "submitted_by": version.submitted_by.full_name,
        "is_amendment": version.is_amendment,
        "content_sha256": version.content_sha256,
        "url": reverse(
            "api_project_version", args=[version.project_id, version.number], request=request
        ),
    }


def _missing(project: Project) -> list[dict[str, str]]:
    return [
        {
            "section": item.section,
            "section_title": str(item.section_title),
            "label": str(item.label),
            "message": str(item.message),
        }
        for item in missing_items(project)
    ]


def _detail(request, project: Project) -> dict[str, Any]:
    user = request.user
    team = list(project.memberships.select_related("user").order_by("role", "user__email"))
    my_role = next((m.role for m in team if m.user_id == user.pk), None)
    versions = project.versions.select_related("submitted_by").order_by("number")
    missing = _missing(project) if project.is_editable else None
    transitions = []
    for transition in workflow.available(project, user):
        reasons = [str(r) for r in workflow.reasons_against(project, transition.name, user)]
        transitions.append(
            {
                "name": transition.name,
                "label": str(transition.label),
                "possible": not reasons,
                "reasons": reasons,
            }
        )
    content = project.draft.content
    return {
        "id": project.pk,
        "reference": project.reference,
        "title": project.title,
        "status": project.status,
        "status_label": str(ProjectStatus(project.status).label),
        "editable": project.is_editable,
        "requires_consent": project.requires_consent,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "withdrawn_at": project.withdrawn_at,
        "withdrawal_reason": project.withdrawal_reason,
        "my_role": my_role,
        "team": [
            {
                "user_id": m.user_id,
                "full_name": m.user.full_name,
                "email": m.user.email,
                "role": m.role,
                "role_label": str(TeamRole(m.role).label),
            }
            for m in team
        ],
        "sections": [
            {
                "key": section.key,
                "title": str(section.title),
                "started": section.key in content,
                "url": reverse(
                    "api_project_section", args=[project.pk, section.key], request=request
                ),
            }
            for section in SECTIONS
        ],
        "versions": [_version_summary(request, version) for version in versions],
        "completeness": None if missing is None else {"complete": not missing, "missing": missing},
        "transitions": transitions,
        "urls": _links(request, project),
    }


def _form_errors(form) -> dict[str, list[dict[str, str]]]:
    """The section form's messages, the cohort criteria's included (data request)."""
    if not form.is_bound or form.is_valid():
        return {}
    errors = form.errors.get_json_data()
    criteria = getattr(form, "criteria_form", None)
    if criteria is not None and criteria.is_bound and not criteria.is_valid():
        for name, messages in criteria.errors.get_json_data().items():
            errors.setdefault(name, messages)
    return errors


def _section_fields(form) -> list[dict[str, Any]]:
    fields = dict(form.fields)
    criteria = getattr(form, "criteria_form", None)
    if criteria is not None:
        for name, field in criteria.fields.items():
            fields.setdefault(name, field)
    described = []
    for name, field in fields.items():
        choices = getattr(field, "choices", None)
        described.append(
            {
                "name": name,
                "label": str(field.label or name),
                "required": field.required,
                "help_text": str(field.help_text or ""),
                "choices": None
                if choices is None
                else [[str(value), str(label)] for value, label in choices],
            }
        )
    return described


def _accepted_names(form) -> set[str]:
    names = set(form.fields)
    criteria = getattr(form, "criteria_form", None)
    if criteria is not None:
        names |= set(criteria.fields)
    return names


# --- Endpoints ----------------------------------------------------------------------------------

PK = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The project's id.")
KEY = OpenApiParameter(
    "key",
    str,
    OpenApiParameter.PATH,
    enum=SECTION_KEYS,
    description="The section; the data request is 'data_request'.",
)
NOT_FOUND = {404: DetailSerializer}


class ProjectListCreate(ListAPIView):
    """The projects the caller may see; researchers create new ones here."""

    required_permission = Permission.VIEW_PROJECT
    serializer_class = ProjectListItemSerializer

    def get_queryset(self):
        user = self.request.user
        return (
            visible_projects(user)
            .annotate(versions_count=Count("versions", distinct=True))
            .prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=TeamMembership.objects.filter(user=user),
                    to_attr="my_membership",
                )
            )
            .order_by("-updated_at", "-pk")
        )

    @extend_schema(
        summary="Projects the caller may see, most recently changed first",
        responses=ProjectListItemSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        data = [
            {
                "id": project.pk,
                "reference": project.reference,
                "title": project.title,
                "status": project.status,
                "status_label": str(ProjectStatus(project.status).label),
                "my_role": project.my_membership[0].role if project.my_membership else None,
                "versions_count": project.versions_count,
                "updated_at": project.updated_at,
                "urls": _links(request, project),
            }
            for project in page
        ]
        return self.get_paginated_response(ProjectListItemSerializer(data, many=True).data)

    @extend_schema(
        summary="Create a project (researchers): a draft with the caller as lead",
        request=ProjectCreateSerializer,
        responses={201: ProjectDetailSerializer, 400: OpenApiTypes.OBJECT, 403: DetailSerializer},
    )
    def post(self, request, *args, **kwargs):
        if not has_permission(request.user, Permission.CREATE_PROJECT):
            raise PermissionDenied
        body = ProjectCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        project = create_project(by=request.user, title=body.validated_data["title"])
        project = Project.objects.select_related("draft").get(pk=project.pk)
        return Response(
            ProjectDetailSerializer(_detail(request, project)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api_project", args=[project.pk], request=request)},
        )


class ProjectDetail(APIView):
    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="A project: status, team, versions, what is missing, possible transitions",
        parameters=[PK],
        responses={200: ProjectDetailSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        return Response(ProjectDetailSerializer(_detail(request, project)).data)


class SectionDetail(APIView):
    """One section of the draft, stored as typed; saving never loses anything, even if invalid."""

    required_permission = Permission.EDIT_PROJECT

    @extend_schema(
        summary="The stored section and its current validation messages",
        parameters=[PK, KEY],
        responses={200: SectionSerializer, 409: DetailSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int, key: str):
        project = _editable_project(request, pk, key)
        section = BY_KEY[key]
        raw = project.draft.content.get(key)
        form = bound_form(section, project.draft.content)
        errors = _form_errors(form)
        data = {
            "key": key,
            "title": str(section.title),
            "started": raw is not None,
            "raw": raw,
            "valid": form.is_bound and not errors,
            "errors": errors,
            "fields": _section_fields(form),
        }
        return Response(SectionSerializer(data).data)

    @extend_schema(
        summary="Replace the section with what was typed (stored even when invalid)",
        description=(
            "The body is the whole section, an object of field names (see `fields` in the GET "
            "answer) to values: strings, numbers, booleans, or lists of them for the fields "
            "that take several values. It replaces what was stored. The answer says whether "
            "the section is now valid and lists its messages. A value outside the choices of "
            "the data request's `delivery_shape` (`portal`, `omop`) is refused (400)."
        ),
        parameters=[PK, KEY],
        request={"application/json": OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "Methodology",
                request_only=True,
                value={
                    "methodology": "Étude rétrospective descriptive.",
                    "population": "Enfants de moins de 2 ans.",
                    "planned_start": "2026-01-01",
                    "planned_end": "2026-12-31",
                },
            )
        ],
        responses={
            200: SectionSavedSerializer,
            400: OpenApiTypes.OBJECT,
            409: DetailSerializer,
            **NOT_FOUND,
        },
    )
    def put(self, request, pk: int, key: str):
        project = _editable_project(request, pk, key)
        section = BY_KEY[key]
        raw = _raw_section(request.data, _accepted_names(section.form_class()))
        refused = strict_choice_errors(section, raw)
        if refused:
            raise ValidationError(refused)
        try:
            draft = save_section(project=project, section_key=key, raw=raw, by=request.user)
        except NotEditable as exc:
            raise ProjectNotEditable from exc
        form = bound_form(section, draft.content)
        errors = _form_errors(form)
        return Response(
            SectionSavedSerializer({"saved": True, "valid": not errors, "errors": errors}).data
        )


_SCALARS = (str, int, float, bool)


def _raw_section(data: Any, accepted: set[str]) -> dict[str, Any]:
    """The body as the draft will store it, refused only if it cannot be a section at all."""
    if not isinstance(data, dict):
        raise ValidationError({"detail": _("The body must be a JSON object of field values.")})
    unknown = sorted(name for name in data if name not in accepted)
    if unknown:
        raise ValidationError({"unknown_fields": unknown})
    raw: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value):
            raw[name] = [str(item) for item in value]
        elif isinstance(value, bool):
            # As a checkbox posts it: ticked is "on", unticked is absent.
            if value:
                raw[name] = "on"
        elif isinstance(value, _SCALARS):
            raw[name] = str(value)
        else:
            raise ValidationError({name: [_("A string, a number, a boolean or a list of them.")]})
    if len(json.dumps(raw, ensure_ascii=False).encode("utf-8")) > MAX_SECTION_BYTES:
        raise ValidationError({"detail": _("The section is too large.")})
    return raw


class SubmitProject(APIView):
    required_permission = Permission.SUBMIT_PROJECT

    @extend_schema(
        summary="Submit the draft: freezes it into a new version (the lead only)",
        parameters=[PK],
        request=None,
        responses={201: VersionSerializer, 409: RefusedSerializer, **NOT_FOUND},
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.SUBMIT_PROJECT)
        try:
            version = submit_project(project=project, by=request.user)
        except workflow.TransitionRefused as refused:
            body: dict[str, Any] = {
                "detail": _("The project cannot be submitted now."),
                "reasons": [str(reason) for reason in refused.reasons],
            }
            project.refresh_from_db()
            if project.is_editable:
                body["missing"] = _missing(project)
            return Response(RefusedSerializer(body).data, status=status.HTTP_409_CONFLICT)
        return Response(
            _version(request, project, version),
            status=status.HTTP_201_CREATED,
            headers={
                "Location": reverse(
                    "api_project_version", args=[project.pk, version.number], request=request
                )
            },
        )


class WithdrawProject(APIView):
    required_permission = Permission.SUBMIT_PROJECT

    @extend_schema(
        summary="Withdraw the project, with the reason (the lead only, before any delivery)",
        parameters=[PK],
        request=WithdrawSerializer,
        responses={
            200: ProjectDetailSerializer,
            400: OpenApiTypes.OBJECT,
            409: RefusedSerializer,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.SUBMIT_PROJECT)
        body = WithdrawSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            project = withdraw_project(
                project=project, by=request.user, reason=body.validated_data["reason"]
            )
        except workflow.TransitionRefused as refused:
            data = {
                "detail": _("The project cannot be withdrawn now."),
                "reasons": [str(reason) for reason in refused.reasons],
            }
            return Response(RefusedSerializer(data).data, status=status.HTTP_409_CONFLICT)
        return Response(ProjectDetailSerializer(_detail(request, project)).data)


def _version(request, project: Project, version: ProtocolVersion) -> dict[str, Any]:
    return VersionSerializer(
        {
            **_version_summary(request, version),
            "project": project.reference,
            "content": version.content,
        }
    ).data


class VersionList(APIView):
    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="The project's submitted versions, oldest first",
        parameters=[PK],
        responses={200: VersionSummarySerializer(many=True), **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        versions = project.versions.select_related("submitted_by").order_by("number")
        return Response(
            VersionSummarySerializer(
                [_version_summary(request, version) for version in versions], many=True
            ).data
        )


class VersionDetail(APIView):
    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="One submitted version and its frozen content",
        parameters=[
            PK,
            OpenApiParameter("number", int, OpenApiParameter.PATH, description="1, 2, …"),
        ],
        responses={200: VersionSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int, number: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        version = (
            project.versions.select_related("submitted_by", "project").filter(number=number).first()
        )
        if version is None:
            raise NotFound
        return Response(_version(request, project, version))


# --- Named enums in the schema ------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose values are one named enum in the schema.

    drf-spectacular names an enum after its field; a ``status`` or a ``role`` holding another set
    of values than the project's status or the team role would get a generated name (a warning).
    """

    def __init__(self, choices, *, enum_name: str, **kwargs):
        super().__init__(choices, **kwargs)
        self.enum_name = enum_name


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction) -> dict[str, Any]:
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        return schema
