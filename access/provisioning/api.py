"""Provisioning over the API: a project's runs, starting one, a run with its progress,
cancelling it, and the download links of the named recipients.

The same rules as the pages: the facade decides, the actions write. A project or a run the
caller may not know exists answers 404; a role that may see it but not act answers 403.
Download links are those of the pages (expiring, bound to the user, audited at download).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import links, runs, selectors, serving
from access.provisioning.serving import Refusal
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.errors import refusal_detail
from projects.models import Project

PK = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The id.")


# --- Serializers (the schema) -----------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    parts_total = serializers.IntegerField()
    parts_done = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    rows_expected = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField(help_text="Parts done, then the publication, out of 100.")


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField(help_text="The project's reference.")
    status = serializers.ChoiceField(choices=RunStatus.choices)
    status_label = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    started_by = serializers.CharField(help_text="Full name of the data steward.")
    register_snapshot = serializers.IntegerField(allow_null=True)
    spec_sha256 = serializers.CharField(allow_blank=True)
    key_id = serializers.CharField(allow_blank=True)
    reasons = serializers.ListField(child=serializers.CharField())
    progress = ProgressSerializer()
    destroyed_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField()
    page = serializers.URLField(help_text="The run's page in the portal.")


class FileSerializer(serializers.Serializer):
    name = serializers.CharField()
    rows = serializers.IntegerField(allow_null=True)
    bytes = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField(allow_null=True)
    url = serializers.URLField(help_text="Expiring link, for the caller only.")


class FilesSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    link_minutes = serializers.IntegerField(help_text="How long each link works.")
    files = FileSerializer(many=True)


class RefusedFilesSerializer(serializers.Serializer):
    detail = serializers.CharField()
    refusal = serializers.ChoiceField(choices=[(value.value, value.value) for value in Refusal])
    replacement = serializers.URLField(
        allow_null=True, help_text="The run now in force, when this dataset was replaced."
    )


class RefusedRunSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class ApiDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


NOT_FOUND = {404: ApiDetailSerializer}


# --- Helpers ----------------------------------------------------------------------------------


def _project(request, pk: int) -> Project:
    return get_object_for_user(request.user, Project, pk, Permission.VIEW_RUNS)


def _run(request, pk: int) -> ProvisioningRun:
    return get_object_for_user(
        request.user,
        selectors.with_progress(
            ProvisioningRun.objects.select_related("project", "started_by", "destruction")
        ),
        pk,
        Permission.VIEW_RUNS,
    )


def _percent(run: ProvisioningRun, parts_done: int) -> int:
    if run.status == RunStatus.PUBLISHED:
        return 100
    if not run.parts_total or run.status == RunStatus.QUEUED:
        return 0
    return int(100 * min(parts_done, run.parts_total) / (run.parts_total + 1))


def _data(request, run: ProvisioningRun) -> dict[str, Any]:
    parts_done = run.parts_done
    destruction = run.destruction if selectors.hasattr_destruction(run) else None
    return {
        "id": run.pk,
        "project": run.project.reference,
        "status": run.status,
        "status_label": str(RunStatus(run.status).label),
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "started_by": run.started_by.full_name,
        "register_snapshot": run.register_snapshot,
        "spec_sha256": run.spec_sha256,
        "key_id": run.key_id,
        "reasons": [str(reason) for reason in run.reasons],
        "progress": {
            "parts_total": run.parts_total,
            "parts_done": parts_done,
            "rows_done": run.rows_done,
            "rows_expected": run.rows_expected,
            "percent": _percent(run, parts_done),
        },
        "destroyed_at": destruction.destroyed_at if destruction else None,
        "url": reverse("api_run", args=[run.pk], request=request),
        "page": reverse("provisioning_run", args=[run.pk], request=request),
    }


# --- Views ------------------------------------------------------------------------------------


class ProjectRuns(APIView):
    """A project's runs (the team, the data steward, the DPO); the data steward starts one."""

    required_permission = Permission.VIEW_RUNS

    @extend_schema(
        summary="The project's provisioning runs, newest first",
        parameters=[PK],
        responses={200: RunSerializer(many=True), **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project(request, pk)
        found = selectors.project_runs(project).select_related("project")
        return Response(RunSerializer([_data(request, run) for run in found], many=True).data)

    @extend_schema(
        summary="Start a run (the data steward): the worker checks the gates, then writes it",
        parameters=[PK],
        request=None,
        responses={
            201: RunSerializer,
            403: ApiDetailSerializer,
            409: RefusedRunSerializer,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        project = _project(request, pk)
        if not has_permission(request.user, Permission.START_RUN):
            raise PermissionDenied
        with refusal_detail(_("The run cannot be started.")):
            run = runs.start_run(project=project, by=request.user)
        run = _run(request, run.pk)
        return Response(
            RunSerializer(_data(request, run)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api_run", args=[run.pk], request=request)},
        )


class RunDetail(APIView):
    required_permission = Permission.VIEW_RUNS

    @extend_schema(
        summary="A run: status, progress, reasons, register snapshot, key",
        parameters=[PK],
        responses={200: RunSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        return Response(RunSerializer(_data(request, _run(request, pk))).data)


class CancelRun(APIView):
    required_permission = Permission.START_RUN

    @extend_schema(
        summary="Cancel a queued or running run (the data steward)",
        parameters=[PK],
        request=None,
        responses={200: RunSerializer, 409: RefusedRunSerializer, **NOT_FOUND},
    )
    def post(self, request, pk: int):
        run = _run(request, pk)
        with refusal_detail(_("The run cannot be cancelled.")):
            runs.cancel_run(run=run, by=request.user)
        return Response(RunSerializer(_data(request, _run(request, pk))).data)


class RunFiles(APIView):
    """The named recipients' download links (MIN-13); each download is audited.

    ``serving.may_serve`` decides, as for the pages: no link for a dataset that may not be
    served (suspended project, replaced or destroyed dataset, access ended), none without the
    second factor passed in this login session, and none ever for an API token.
    """

    required_permission = Permission.DOWNLOAD_DATASET

    @extend_schema(
        summary="Files of a published dataset, with expiring links (named recipients only)",
        description=(
            "The links are bound to the caller and expire after `link_minutes`. They are given "
            "only in a login session that passed the second factor (never to an API token), "
            "and only while the dataset may be served: otherwise 403 or 410 with the reason "
            "(`refusal`: second factor missing, project suspended, dataset replaced or "
            "destroyed, access ended) and, for a replaced dataset, the run now in force."
        ),
        parameters=[PK],
        responses={
            200: FilesSerializer,
            403: RefusedFilesSerializer,
            410: RefusedFilesSerializer,
            **NOT_FOUND,
        },
    )
    def get(self, request, pk: int):
        run = _run(request, pk)
        if not has_permission(request.user, Permission.DOWNLOAD_DATASET, run):
            raise PermissionDenied
        decision = serving.may_serve(request.user, run, token=request.auth is not None)
        if decision.refusal in (serving.Refusal.UNKNOWN, serving.Refusal.NOT_PUBLISHED):
            body = {"run": run.pk, "link_minutes": settings.EDS_DOWNLOAD_LINK_MINUTES, "files": []}
            return Response(FilesSerializer(body).data)
        if not decision.allowed:
            replacement = decision.replacement
            body = {
                "detail": decision.message,
                "refusal": str(decision.refusal),
                "replacement": reverse("api_run", args=[replacement.pk], request=request)
                if replacement
                else None,
            }
            return Response(RefusedFilesSerializer(body).data, status=decision.http_status)
        files = [
            {
                "name": entry["name"],
                "rows": entry.get("rows"),
                "bytes": entry.get("bytes"),
                "sha256": entry.get("sha256"),
                "url": request.build_absolute_uri(
                    links.download_url(run, entry["name"], request.user)
                ),
            }
            for entry in selectors.dataset_files(run)
        ]
        body = {"run": run.pk, "link_minutes": settings.EDS_DOWNLOAD_LINK_MINUTES, "files": files}
        return Response(FilesSerializer(body).data)
