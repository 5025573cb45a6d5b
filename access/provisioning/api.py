"""Provisioning over the API: a project's runs, starting one, a run with its progress,
cancelling it, and the download links of the named recipients.

The same rules as the pages: the facade decides, the actions write. A project or a run the
caller may not know exists answers 404; a role that may see it but not act answers 403.
Download links are those of the pages (expiring, bound to the user, audited at download).

Scripts: a recipient signed in with the second factor creates a download token
(``DownloadTokens``, or the run's page); a script presenting it as ``Authorization: Bearer``
gets the run's files with absolute links (``RunFiles``) and downloads each (``RunFile``).
``serving.may_serve`` decides at every request; an API token never downloads.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import delivery, download_tokens, links, runs, selectors, serving
from access.provisioning.serving import Refusal
from eds_portal.api.authentication import SessionUnlessToken
from eds_portal.api.permissions import DenyUnlessDeclared
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.errors import refusal_detail
from projects.models import Project
from warehouse.export.output import sha256_of

PK = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The id.")
FILE_NAME = OpenApiParameter(
    "name", str, OpenApiParameter.PATH, description="A file name from the run's files."
)
# What a dataset's file names look like ("person.csv", "dataset.zip"): anything else is no file.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")


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
    link_minutes = serializers.IntegerField(
        help_text="How long each link works (with a download token: as long as the token)."
    )
    files = FileSerializer(many=True)


class DownloadTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Shown once: send it as `Authorization: Bearer <token>`. Never stored."
    )
    run = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    files = serializers.URLField(help_text="The run's files, to call with the token.")


class RefusedFilesSerializer(serializers.Serializer):
    # A caller without the permission at all gets DRF's {"detail"} alone: the other two are
    # given when the files themselves are refused.
    detail = serializers.CharField()
    refusal = serializers.ChoiceField(
        choices=[(value.value, value.value) for value in Refusal], required=False
    )
    replacement = serializers.URLField(
        allow_null=True,
        required=False,
        help_text="The run now in force, when this dataset was replaced.",
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


class _DownloadTokenAccepted(DenyUnlessDeclared):
    """A download token stands for the session's second factor on the views that take it."""

    def has_permission(self, request, view) -> bool:
        if download_tokens.is_download_token(request.auth):
            return has_permission(request.user, view.required_permission)
        return super().has_permission(request, view)


class _FilesView(APIView):
    """Views that serve a run's files: a login session, an API token (refused by
    ``may_serve``), or a download token (``Authorization: Bearer``)."""

    authentication_classes = [
        SessionUnlessToken,
        TokenAuthentication,
        download_tokens.DownloadTokenAuthentication,
    ]
    permission_classes = [_DownloadTokenAccepted]

    def get_authenticate_header(self, request):
        # 401 with "WWW-Authenticate: Bearer" for a bad download token; otherwise as the API.
        try:
            presented = download_tokens.bearer_value(request) is not None
        except AuthenticationFailed:
            presented = True
        if presented:
            return download_tokens.DownloadTokenAuthentication().authenticate_header(request)
        return super().get_authenticate_header(request)

    def files_run(self, request, pk: int) -> ProvisioningRun:
        """The run, for a caller who may see it; a download token opens its own run only."""
        token = request.auth if download_tokens.is_download_token(request.auth) else None
        if token is not None and token.run_id != pk:
            raise Http404
        return _run(request, pk)

    def decide(self, request, run, name=None) -> serving.ServeDecision:
        token = request.auth if download_tokens.is_download_token(request.auth) else None
        return serving.may_serve(
            request.user,
            run,
            name,
            token=request.auth is not None and token is None,
            download_token=token,
        )


def _refused_body(request, decision: serving.ServeDecision) -> dict[str, Any]:
    replacement = decision.replacement
    return {
        "detail": decision.message,
        "refusal": str(decision.refusal),
        "replacement": reverse("api_run", args=[replacement.pk], request=request)
        if replacement
        else None,
    }


class RunFiles(_FilesView):
    """The named recipients' download links (MIN-13); each download is audited.

    ``serving.may_serve`` decides, as for the pages: no link for a dataset that may not be
    served (suspended project, replaced or destroyed dataset, access ended), none without the
    second factor passed in this login session or a download token made after it, and none
    ever for an API token.
    """

    required_permission = Permission.DOWNLOAD_DATASET

    @extend_schema(
        summary="Files of a published dataset, with links (named recipients only)",
        description=(
            "In a login session that passed the second factor, the links are bound to the "
            "caller and expire after `link_minutes`. With a download token "
            "(`Authorization: Bearer <token>`, created after the second factor), the links are "
            "the API's own file endpoints, to call with the same token. Never to an API token, "
            "and only while the dataset may be served: otherwise 403 or 410 with the reason "
            "(`refusal`: second factor missing, project suspended, dataset replaced or "
            "destroyed, access ended) and, for a replaced dataset, the run now in force. "
            "`dataset.zip` holds every file and the manifest."
        ),
        parameters=[PK],
        responses={
            200: FilesSerializer,
            401: ApiDetailSerializer,
            403: RefusedFilesSerializer,
            410: RefusedFilesSerializer,
            **NOT_FOUND,
        },
    )
    def get(self, request, pk: int):
        run = self.files_run(request, pk)
        if not has_permission(request.user, Permission.DOWNLOAD_DATASET, run):
            raise PermissionDenied
        decision = self.decide(request, run)
        token = request.auth if download_tokens.is_download_token(request.auth) else None
        minutes = settings.EDS_DOWNLOAD_LINK_MINUTES
        if decision.refusal in (serving.Refusal.UNKNOWN, serving.Refusal.NOT_PUBLISHED):
            body = {"run": run.pk, "link_minutes": minutes, "files": []}
            return Response(FilesSerializer(body).data)
        if not decision.allowed:
            return Response(
                RefusedFilesSerializer(_refused_body(request, decision)).data,
                status=decision.http_status,
            )
        if token is not None:
            minutes = max(0, int((token.expires_at - token.created_at).total_seconds() // 60))

        def url(name: str) -> str:
            if token is not None:
                return reverse("api_run_file", args=[run.pk, name], request=request)
            return request.build_absolute_uri(links.download_url(run, name, request.user))

        files = [
            {
                "name": entry["name"],
                "rows": entry.get("rows"),
                "bytes": entry.get("bytes"),
                "sha256": entry.get("sha256"),
                "url": url(entry["name"]),
            }
            for entry in selectors.dataset_files(run)
        ]
        body = {"run": run.pk, "link_minutes": minutes, "files": files}
        return Response(FilesSerializer(body).data)


class RunFile(_FilesView):
    """One file of a published dataset, for a script with a download token (or a session that
    passed the second factor); audited like every download."""

    required_permission = Permission.DOWNLOAD_DATASET

    @extend_schema(
        operation_id="runs_file_download",
        summary="Download one file of a published dataset (named recipients only)",
        description=(
            "Call with `Authorization: Bearer <download token>`. The checks of the pages apply "
            "at each download: 404 for a file or run the caller may not know, 401 for a "
            "download token that is unknown, expired or revoked, 403 or 410 with the reason "
            "when the dataset may not be served now."
        ),
        parameters=[PK, FILE_NAME],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            401: ApiDetailSerializer,
            403: RefusedFilesSerializer,
            410: RefusedFilesSerializer,
            **NOT_FOUND,
        },
    )
    def get(self, request, pk: int, name: str):
        if not _FILE_NAME.match(name):
            raise Http404
        run = self.files_run(request, pk)
        token = request.auth if download_tokens.is_download_token(request.auth) else None
        decision = self.decide(request, run, name)
        if decision.refusal in (serving.Refusal.UNKNOWN, serving.Refusal.NOT_PUBLISHED):
            raise Http404
        if not decision.allowed:
            delivery.record_refused_download(
                run=run, file_name=name, refusal=decision.refusal, by=request.user, token=token
            )
            return Response(
                RefusedFilesSerializer(_refused_body(request, decision)).data,
                status=decision.http_status,
            )
        path = selectors.file_path(run, name)
        if path is None:
            raise Http404
        listed = {entry["name"]: entry.get("sha256") for entry in selectors.dataset_files(run)}
        digest = listed.get(name) or sha256_of(path)
        delivery.record_download(
            run=run, file_name=name, sha256=digest, by=request.user, token=token
        )
        response = FileResponse(path.open("rb"), as_attachment=True, filename=name)
        response["Cache-Control"] = "no-store"
        return response


class DownloadTokens(APIView):
    """A named recipient signed in with the second factor creates a download token for a run.

    Only from a login session that passed the second factor: an API token, a download token or
    a session without the second factor is refused.
    """

    required_permission = Permission.DOWNLOAD_DATASET
    authentication_classes = [SessionUnlessToken, TokenAuthentication]

    @extend_schema(
        summary="Create a download token for a run's files (after the second factor)",
        description=(
            "For the recipients named in the approved specification, from a login session that "
            "passed the second factor. The token is shown once; it works for "
            "`EDS_DOWNLOAD_TOKEN_MINUTES` minutes (60 by default) on this run only, can be "
            "revoked from the run's page, and every use is checked and audited."
        ),
        parameters=[PK],
        request=None,
        responses={
            201: DownloadTokenSerializer,
            403: RefusedFilesSerializer,
            410: RefusedFilesSerializer,
            **NOT_FOUND,
        },
    )
    def post(self, request, pk: int):
        run = _run(request, pk)
        if not has_permission(request.user, Permission.DOWNLOAD_DATASET, run):
            raise PermissionDenied
        try:
            token, value = download_tokens.create_download_token(
                run=run, by=request.user, api_token=request.auth is not None
            )
        except download_tokens.DownloadTokenRefused as refused:
            decision = refused.decision
            if decision.refusal in (serving.Refusal.UNKNOWN, serving.Refusal.NOT_PUBLISHED):
                raise Http404 from refused
            return Response(
                RefusedFilesSerializer(_refused_body(request, decision)).data,
                status=decision.http_status,
            )
        body = {
            "token": value,
            "run": run.pk,
            "expires_at": token.expires_at,
            "files": reverse("api_run_files", args=[run.pk], request=request),
        }
        response = Response(DownloadTokenSerializer(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response
