"""The draft's attachments over the API: list, upload, removal, the permission-checked download.

The same files, rules and audit events as the attachments page (attachment_views.py).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission
from projects.actions import NotEditable
from projects.api import (
    NOT_FOUND,
    PK,
    DetailSerializer,
    NamedChoiceField,
    ProjectNotEditable,
    _check_draft_editor,
    _object_id,
    _project_or_404,
    _visible_project,
)
from projects.attachment_actions import UploadRefused, add_attachment, remove_attachment
from projects.attachment_views import download_response
from projects.models import Attachment, AttachmentKind, Project
from projects.uploads import ACCEPTED_TYPES, size_limit_message


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


class AttachmentUploadSerializer(StrictInput):
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
