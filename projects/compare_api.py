"""Two submitted versions of a project compared over the API (GOV-12, GOV-13).

The same comparison as the page (compare_views.py), from projects/diff.py.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from eds_portal.authz import Permission
from projects.api import (
    NOT_FOUND,
    PK,
    SECTION_KEYS,
    NamedChoiceField,
    VersionSummarySerializer,
    _project_or_404,
    _version_summary,
)
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
from projects.models import ProtocolVersion

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
