"""The researcher's side over the API: projects, draft sections, submission, withdrawal, versions.

The same rules as the pages: the facade decides, the actions write, the section forms validate.
A project the user may not know exists answers 404, whatever the endpoint.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db.models import Count, Prefetch
from django.urls import reverse as django_reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from eds_portal.authz import Permission, has_permission
from projects import workflow
from projects.actions import (
    NotEditable,
    create_project,
    save_section,
    submit_project,
    withdraw_project,
)
from projects.attachment_actions import (
    UploadRefused,
    add_attachment,
    remove_attachment,
)
from projects.attachment_views import download_response
from projects.completeness import missing_items
from projects.diff import (
    AttachmentChange,
    ChangeStatus,
    FieldChange,
    MemberChange,
    SectionComparison,
    Segment,
    SegmentKind,
    VariableChange,
    VersionComparison,
    compare_versions,
)
from projects.models import (
    Attachment,
    AttachmentKind,
    Invitation,
    Project,
    ProjectStatus,
    ProtocolVersion,
    TeamMembership,
    TeamRole,
)
from projects.permissions import EDITORS
from projects.sections import BY_KEY, SECTIONS, bound_form
from projects.team_actions import (
    TeamError,
    change_member_role,
    invite_member,
    remove_member,
    revoke_invitation,
    team_changes_allowed,
)
from projects.uploads import ACCEPTED_TYPES, size_limit_message
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


class ProjectCreateSerializer(serializers.Serializer):
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


class WithdrawSerializer(serializers.Serializer):
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
    project = Project.objects.select_related("draft").filter(pk=pk).first()
    if project is None or not has_permission(request.user, Permission.VIEW_PROJECT, project):
        raise NotFound
    return project


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
            "the section is now valid and lists its messages."
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


INVITABLE_ROLE_CHOICES = [
    (TeamRole.CO_INVESTIGATOR.value, TeamRole.CO_INVESTIGATOR.label),
    (TeamRole.ANALYST.value, TeamRole.ANALYST.label),
]
ROLE_HELP = "A co-investigator edits the draft; an analyst only receives the data."


def _invitable_role(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(
        INVITABLE_ROLE_CHOICES, enum_name="InvitableRoleEnum", help_text=ROLE_HELP, **kwargs
    )


# --- Team ---------------------------------------------------------------------------------------


class TeamMembershipSerializer(TeamMemberSerializer):
    id = serializers.IntegerField(help_text="The membership's id (not the user's).")
    added_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="PATCH its role or DELETE it here (the lead only).")


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=TeamRole.choices)
    role_label = serializers.CharField()
    invited_by = serializers.CharField(help_text="Full name of who sent it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    expired = serializers.BooleanField(
        help_text="The link no longer works: revoke the invitation and send a new one."
    )
    url = serializers.URLField(help_text="DELETE it here to revoke it.")


class TeamSerializer(serializers.Serializer):
    can_manage = serializers.BooleanField(
        help_text="Whether the caller may invite, change roles and remove members (the lead)."
    )
    team_open = serializers.BooleanField(
        help_text="False once the project is withdrawn or closed: its team no longer changes."
    )
    members = TeamMembershipSerializer(many=True, help_text="The lead first, then by role.")
    invitations = InvitationSerializer(
        many=True,
        allow_null=True,
        help_text=(
            "Invitations neither accepted nor revoked, expired ones included; null for those "
            "who may not manage the team."
        ),
    )


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, help_text="The invited person signs in with this address to accept."
    )
    role = _invitable_role()


class MemberRoleSerializer(serializers.Serializer):
    role = _invitable_role()


_ROLE_ORDER = {TeamRole.LEAD: 0, TeamRole.CO_INVESTIGATOR: 1, TeamRole.ANALYST: 2}


def _membership(request, membership: TeamMembership) -> dict[str, Any]:
    user = membership.user
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "full_name": user.full_name,
        "email": user.email,
        "role": membership.role,
        "role_label": str(TeamRole(membership.role).label),
        "added_at": membership.added_at,
        "url": reverse(
            "api_project_team_member",
            args=[membership.project_id, membership.pk],
            request=request,
        ),
    }


def _invitation(request, invitation: Invitation, now) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "role_label": str(TeamRole(invitation.role).label),
        "invited_by": invitation.invited_by.full_name,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "expired": invitation.expires_at <= now,
        "url": reverse(
            "api_project_team_invitation",
            args=[invitation.project_id, invitation.pk],
            request=request,
        ),
    }


def _team_refused(refusal: TeamError) -> Response:
    return Response(DetailSerializer({"detail": refusal.message}).data, status.HTTP_409_CONFLICT)


def _object_id(value: int) -> int:
    """A row id from the path; 404 beyond the database's range rather than an error."""
    if not 0 < value < 2**63:
        raise NotFound
    return value


INVITATION_ID = OpenApiParameter(
    "invitation_id", int, OpenApiParameter.PATH, description="The invitation's id."
)
MEMBERSHIP_ID = OpenApiParameter(
    "membership_id",
    int,
    OpenApiParameter.PATH,
    description="The membership's id (`id` in the team's `members`).",
)
TEAM_REFUSALS = {
    403: DetailSerializer,
    409: OpenApiResponse(
        DetailSerializer,
        description="Refused by the team rules (the message says why): already a member, a "
        "pending invitation, the lead, a withdrawn or closed project...",
    ),
    **NOT_FOUND,
}


class TeamDetail(APIView):
    """A project's team; its lead manages it through the endpoints below this one."""

    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="The team: members with their role, and pending invitations for the lead",
        parameters=[PK],
        responses={200: TeamSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        can_manage = has_permission(request.user, Permission.MANAGE_TEAM, project)
        members = sorted(
            project.memberships.select_related("user"),
            key=lambda m: (_ROLE_ORDER.get(m.role, 9), m.user.full_name.lower(), m.pk),
        )
        invitations = None
        if can_manage:
            now = timezone.now()
            pending = (
                project.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
                .select_related("invited_by")
                .order_by("expires_at", "pk")
            )
            invitations = [_invitation(request, invitation, now) for invitation in pending]
        data = {
            "can_manage": can_manage,
            "team_open": team_changes_allowed(project),
            "members": [_membership(request, membership) for membership in members],
            "invitations": invitations,
        }
        return Response(TeamSerializer(data).data)


class InvitationCreate(APIView):
    required_permission = Permission.MANAGE_TEAM

    @extend_schema(
        summary="Invite an e-mail address to the team (the lead only)",
        description=(
            "The invited person receives a link by e-mail and accepts it in the portal, signed "
            "in with that address. The link's token is never returned by the API."
        ),
        parameters=[PK],
        request=InviteSerializer,
        responses={201: InvitationSerializer, 400: OpenApiTypes.OBJECT, **TEAM_REFUSALS},
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.MANAGE_TEAM)
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            # The token goes into the e-mail only: whoever holds it may join the team.
            invitation, _token = invite_member(
                project=project,
                email=body.validated_data["email"],
                role=body.validated_data["role"],
                by=request.user,
            )
        except TeamError as refusal:
            return _team_refused(refusal)
        return Response(
            InvitationSerializer(_invitation(request, invitation, timezone.now())).data,
            status=status.HTTP_201_CREATED,
        )


class InvitationDetail(APIView):
    required_permission = Permission.MANAGE_TEAM

    @extend_schema(
        summary="Revoke an invitation: its link stops working (the lead only)",
        parameters=[PK, INVITATION_ID],
        request=None,
        responses={204: None, **TEAM_REFUSALS},
    )
    def delete(self, request, pk: int, invitation_id: int):
        project = _project_or_404(request, pk, Permission.MANAGE_TEAM)
        invitation = project.invitations.filter(pk=_object_id(invitation_id)).first()
        if invitation is None:
            raise NotFound
        try:
            revoke_invitation(invitation=invitation, by=request.user)
        except TeamError as refusal:
            return _team_refused(refusal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetail(APIView):
    required_permission = Permission.MANAGE_TEAM

    def _membership(self, request, pk: int, membership_id: int) -> TeamMembership:
        project = _project_or_404(request, pk, Permission.MANAGE_TEAM)
        membership = (
            project.memberships.select_related("user", "project")
            .filter(pk=_object_id(membership_id))
            .first()
        )
        if membership is None:
            raise NotFound
        return membership

    @extend_schema(
        summary="Change a member's role: co-investigator or analyst (the lead only)",
        description="The body must name the new role; the lead's own role does not change.",
        parameters=[PK, MEMBERSHIP_ID],
        request=MemberRoleSerializer,
        responses={200: TeamMembershipSerializer, 400: OpenApiTypes.OBJECT, **TEAM_REFUSALS},
    )
    def patch(self, request, pk: int, membership_id: int):
        membership = self._membership(request, pk, membership_id)
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            changed = change_member_role(
                membership=membership, role=body.validated_data["role"], by=request.user
            )
        except TeamError as refusal:
            return _team_refused(refusal)
        changed.user = membership.user
        return Response(TeamMembershipSerializer(_membership(request, changed)).data)

    @extend_schema(
        summary="Remove a member from the team; they lose access at once (the lead only)",
        parameters=[PK, MEMBERSHIP_ID],
        request=None,
        responses={204: None, **TEAM_REFUSALS},
    )
    def delete(self, request, pk: int, membership_id: int):
        membership = self._membership(request, pk, membership_id)
        try:
            remove_member(membership=membership, by=request.user)
        except TeamError as refusal:
            return _team_refused(refusal)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Attachments --------------------------------------------------------------------------------


def _attachment_kind(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(AttachmentKind.choices, enum_name="AttachmentKindEnum", **kwargs)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = _attachment_kind()
    kind_label = serializers.CharField()
    name = serializers.CharField(
        help_text="The stored name: sanitised, with the extension of the type found in the content."
    )
    content_type = serializers.CharField(help_text="The type recognised by content.")
    size = serializers.IntegerField(help_text="In bytes.")
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    uploaded_by = serializers.CharField(help_text="Full name of who uploaded it.")
    url = serializers.URLField(help_text="This attachment in the API (DELETE removes it).")
    download_url = serializers.URLField()


class AttachmentUploadSerializer(serializers.Serializer):
    # The kind comes first: a file dropped for its size while it arrives takes with it the
    # fields sent after it.
    kind = _attachment_kind(help_text="Send it before the file.")
    file = serializers.FileField(
        help_text=(
            "A PDF, ODT or DOCX document, recognised by its content (not its name); "
            "at most EDS_MAX_UPLOAD_MB megabytes (20 by default)."
        )
    )


def _attachment(request, attachment: Attachment) -> dict[str, Any]:
    args = [attachment.project_id, attachment.pk]
    return {
        "id": attachment.pk,
        "kind": attachment.kind,
        "kind_label": str(AttachmentKind(attachment.kind).label),
        "name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_at": attachment.uploaded_at,
        "uploaded_by": attachment.uploaded_by.full_name,
        "url": reverse("api_project_attachment", args=args, request=request),
        "download_url": reverse("api_project_attachment_download", args=args, request=request),
    }


def _current_attachment(project: Project, attachment_id: int) -> Attachment:
    attachment = (
        project.attachments.filter(pk=_object_id(attachment_id), removed_at__isnull=True)
        .select_related("uploaded_by")
        .first()
    )
    if attachment is None:
        raise NotFound
    return attachment


ATTACHMENT_ID = OpenApiParameter(
    "attachment_id", int, OpenApiParameter.PATH, description="The attachment's id."
)


class AttachmentListCreate(APIView):
    """The draft's current attachments; its editors upload new ones here."""

    required_permission = Permission.VIEW_PROJECT
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="The draft's current attachments, by kind",
        parameters=[PK],
        responses={200: AttachmentSerializer(many=True), **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        current = (
            project.attachments.filter(removed_at__isnull=True)
            .select_related("uploaded_by")
            .order_by("kind", "uploaded_at", "pk")
        )
        return Response(
            AttachmentSerializer(
                [_attachment(request, attachment) for attachment in current], many=True
            ).data
        )

    @extend_schema(
        summary="Add a document to the draft (its editors, while it is editable)",
        description=(
            "A multipart form with the kind, then the file. The type is decided by the content: "
            "a file that is not really a PDF, ODT or DOCX document, holds macros, is encrypted "
            "or is too large is refused with 400 and the reason under `file`."
        ),
        parameters=[PK],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={
            201: AttachmentSerializer,
            400: OpenApiTypes.OBJECT,
            403: DetailSerializer,
            409: DetailSerializer,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        project = _visible_project(request, pk)
        _check_draft_editor(request, project)
        body = AttachmentUploadSerializer(data=request.data)
        # The upload handler dropped the file while it arrived: say why it is missing.
        if "file" in getattr(request, "oversized_uploads", ()):
            raise ValidationError({"file": [size_limit_message()]})
        body.is_valid(raise_exception=True)
        try:
            attachment = add_attachment(
                project=project,
                kind=body.validated_data["kind"],
                upload=body.validated_data["file"],
                by=request.user,
            )
        except UploadRefused as refused:
            raise ValidationError({"file": [refused.message]}) from refused
        except NotEditable as exc:
            raise ProjectNotEditable from exc
        attachment.uploaded_by = request.user
        data = AttachmentSerializer(_attachment(request, attachment)).data
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": data["url"]})


class AttachmentDetail(APIView):
    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="One of the draft's current attachments",
        parameters=[PK, ATTACHMENT_ID],
        responses={200: AttachmentSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int, attachment_id: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        attachment = _current_attachment(project, attachment_id)
        return Response(AttachmentSerializer(_attachment(request, attachment)).data)

    @extend_schema(
        summary="Remove an attachment from the draft; submitted versions keep their file",
        parameters=[PK, ATTACHMENT_ID],
        request=None,
        responses={204: None, 403: DetailSerializer, 409: DetailSerializer, **NOT_FOUND},
    )
    def delete(self, request, pk: int, attachment_id: int):
        project = _visible_project(request, pk)
        _check_draft_editor(request, project)
        attachment = _current_attachment(project, attachment_id)
        try:
            remove_attachment(attachment=attachment, by=request.user)
        except NotEditable as exc:
            raise ProjectNotEditable from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class JSONErrorsWhateverAccepted(BaseContentNegotiation):
    """The file answers whatever the client accepts; refusals are JSON, the only renderer."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentDownload(APIView):
    """The file itself, to those who may see the project; every download is in the trail.

    The same file, headers and audit event as the project's attachments page.
    """

    required_permission = Permission.VIEW_PROJECT
    content_negotiation_class = JSONErrorsWhateverAccepted

    @extend_schema(
        summary="Download an attachment (written in the audit trail)",
        description=(
            "A file removed from the draft stays downloadable while a submitted version holds "
            "it. The answer is never cached (`Cache-Control: private, no-store`)."
        ),
        parameters=[PK, ATTACHMENT_ID],
        responses={
            **{
                (200, document_type.content_type): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The file, as an attachment."
                )
                for document_type in ACCEPTED_TYPES
            },
            **NOT_FOUND,
        },
    )
    def get(self, request, pk: int, attachment_id: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        response = download_response(project, _object_id(attachment_id), by=request.user)
        if response is None:
            raise NotFound
        return response


# --- Version comparison -------------------------------------------------------------------------

SEGMENT_OPS = {
    SegmentKind.EQUAL: "equal",
    SegmentKind.INSERTED: "insert",
    SegmentKind.DELETED: "delete",
}


def _change_status(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(ChangeStatus.choices, enum_name="ChangeStatusEnum", **kwargs)


class SegmentSerializer(serializers.Serializer):
    op = NamedChoiceField(
        list(SEGMENT_OPS.values()),
        enum_name="SegmentOpEnum",
        help_text="In both versions, only in the newer one (insert), only in the older (delete).",
    )
    text = serializers.CharField(allow_blank=True)


class FieldChangeSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    status = _change_status()
    status_label = serializers.CharField()
    old = serializers.CharField(
        allow_blank=True, help_text="The older value as the version page shows it; empty if none."
    )
    new = serializers.CharField(allow_blank=True, help_text="The newer value, likewise.")
    word_diff = SegmentSerializer(
        many=True,
        help_text="Changed long texts only: the words of both versions in order; else empty.",
    )
    old_segments = SegmentSerializer(
        many=True, help_text="What the older column shows, the removed parts marked `delete`."
    )
    new_segments = SegmentSerializer(
        many=True, help_text="What the newer column shows, the added parts marked `insert`."
    )
    separator = serializers.CharField(
        help_text="What goes between segments shown in a row: ', ' between the items of a "
        "multiple choice, ' ' between words."
    )


class VariableChangeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The catalogue variable.")
    label = serializers.CharField()
    status = _change_status()
    status_label = serializers.CharField()
    description = serializers.CharField(help_text="The change in words.")
    generalisation = FieldChangeSerializer()
    justification = FieldChangeSerializer()


class SectionComparisonSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=SECTION_KEYS)
    title = serializers.CharField()
    has_changes = serializers.BooleanField()
    fields = FieldChangeSerializer(many=True)
    criteria = FieldChangeSerializer(many=True, help_text="Cohort criteria (data request only).")
    variables = VariableChangeSerializer(
        many=True, help_text="Variables requested in either version (data request only)."
    )


class MemberChangeSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The user's id, or the e-mail address if it has none.")
    name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    status = _change_status()
    status_label = serializers.CharField()
    role = FieldChangeSerializer()


class AttachmentChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="The kind of document; files pair up within a kind.")
    kind_label = serializers.CharField()
    status = _change_status(
        help_text="Same SHA-256: unchanged; another file of the kind: replaced."
    )
    status_label = serializers.CharField()
    file = FieldChangeSerializer(help_text="The file names.")
    sha256 = FieldChangeSerializer(
        help_text="The fingerprints: whole in `old`/`new`, their first characters in segments."
    )


class SummaryRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="A section key, 'team' or 'attachments'.")
    title = serializers.CharField()
    added = serializers.IntegerField()
    removed = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Changed, or replaced for attachments.")
    total = serializers.IntegerField()


class ComparisonSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="The project's reference.")
    old = VersionSummarySerializer()
    new = VersionSummarySerializer()
    has_changes = serializers.BooleanField()
    summary = SummaryRowSerializer(many=True, help_text="Counts of changes by part.")
    substantial_changes = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "GOV-13: the changes that reopen review and the public page (new variables, "
            "population or cohort, linkage, access duration, recipients)."
        ),
    )
    sections = SectionComparisonSerializer(many=True, help_text="Every field, unchanged included.")
    team = MemberChangeSerializer(many=True)
    attachments = AttachmentChangeSerializer(many=True)


def _segments(segments: tuple[Segment, ...]) -> list[dict[str, str]]:
    return [{"op": SEGMENT_OPS[segment.kind], "text": segment.text} for segment in segments]


def _field_change(change: FieldChange) -> dict[str, Any]:
    return {
        "name": change.name,
        "label": change.label,
        "status": change.status,
        "status_label": str(change.status.label),
        "old": change.old,
        "new": change.new,
        "word_diff": _segments(change.word_diff),
        "old_segments": _segments(change.old_segments),
        "new_segments": _segments(change.new_segments),
        "separator": change.separator,
    }


def _variable_change(change: VariableChange) -> dict[str, Any]:
    return {
        "code": change.code,
        "label": str(change.label),
        "status": change.status,
        "status_label": str(change.status.label),
        "description": change.description,
        "generalisation": _field_change(change.generalisation),
        "justification": _field_change(change.justification),
    }


def _section_comparison(section: SectionComparison) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": section.title,
        "has_changes": section.has_changes,
        "fields": [_field_change(change) for change in section.fields],
        "criteria": [_field_change(change) for change in section.criteria],
        "variables": [_variable_change(change) for change in section.variables],
    }


def _member_change(change: MemberChange) -> dict[str, Any]:
    return {
        "key": change.key,
        "name": change.name,
        "email": change.email,
        "status": change.status,
        "status_label": str(change.status.label),
        "role": _field_change(change.role),
    }


def _attachment_change(change: AttachmentChange) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "kind_label": change.kind_label,
        "status": change.status,
        "status_label": str(change.status.label),
        "file": _field_change(change.file),
        "sha256": _field_change(change.fingerprint),
    }


def _comparison(request, project, old, new, comparison: VersionComparison) -> dict[str, Any]:
    return {
        "project": project.reference,
        "old": _version_summary(request, old),
        "new": _version_summary(request, new),
        "has_changes": comparison.has_changes,
        "summary": [
            {
                "key": row.key,
                "title": str(row.title),
                "added": row.added,
                "removed": row.removed,
                "changed": row.changed,
                "total": row.total,
            }
            for row in comparison.summary
        ],
        "substantial_changes": comparison.substantial_changes(),
        "sections": [_section_comparison(section) for section in comparison.sections],
        "team": [_member_change(change) for change in comparison.team],
        "attachments": [_attachment_change(change) for change in comparison.attachments],
    }


class CompareQuerySerializer(serializers.Serializer):
    old = serializers.IntegerField(required=False, min_value=1)
    new = serializers.IntegerField(required=False, min_value=1)


def _compared(versions: list[ProtocolVersion], query) -> tuple[ProtocolVersion, ProtocolVersion]:
    """The two versions asked for; by default the latest one and the one before it."""
    params = CompareQuerySerializer(data=query)
    params.is_valid(raise_exception=True)
    by_number = {version.number: version for version in versions}
    numbers = list(by_number)
    new_number = params.validated_data.get("new", numbers[-1])
    old_number = params.validated_data.get("old")
    if old_number is None and new_number in by_number:
        index = numbers.index(new_number)
        if index == 0:
            raise ValidationError({"old": [_("Choose the version to compare from.")]})
        old_number = numbers[index - 1]
    errors = {
        name: [_("This project has no version %(value)s.") % {"value": number}]
        for name, number in (("old", old_number), ("new", new_number))
        if number not in by_number
    }
    if not errors and old_number == new_number:
        errors["new"] = [_("Choose two different versions.")]
    if errors:
        raise ValidationError(errors)
    return by_number[old_number], by_number[new_number]


class VersionCompare(APIView):
    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="Two submitted versions compared field by field (GOV-12, GOV-13)",
        description=(
            "What was submitted, not what the draft, the team or the attachments look like "
            "today. Values are shown as the version page shows them; changed long texts come "
            "with a word diff. 400 when the project has fewer than two versions, or names a "
            "version it does not have."
        ),
        parameters=[
            PK,
            OpenApiParameter(
                "old",
                int,
                OpenApiParameter.QUERY,
                required=False,
                description="The older version; by default the one before `new`.",
            ),
            OpenApiParameter(
                "new",
                int,
                OpenApiParameter.QUERY,
                required=False,
                description="The newer version; by default the latest.",
            ),
        ],
        responses={200: ComparisonSerializer, 400: OpenApiTypes.OBJECT, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        # A handful of versions: one query loads them all, contents included.
        versions = list(
            ProtocolVersion.objects.filter(project=project)
            .select_related("submitted_by")
            .order_by("number")
        )
        if len(versions) < 2:
            message = ngettext(
                "This project has %(counter)s submitted version: there is nothing to compare yet.",
                "This project has %(counter)s submitted versions: there is nothing to compare yet.",
                len(versions),
            ) % {"counter": len(versions)}
            raise ValidationError({"detail": message})
        old, new = _compared(versions, request.query_params)
        comparison = compare_versions(old, new)
        return Response(
            ComparisonSerializer(_comparison(request, project, old, new, comparison)).data
        )
