"""A project's attachments: the list with its upload form, and the permission-checked download.

Files live in private storage and are only ever served here, after the same check as the
project page: those who may not see the project get a 404, whatever the file.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.authz import Permission, has_permission
from projects.attachment_actions import (
    NotEditable,
    UploadRefused,
    add_attachment,
    record_attachment_download,
    remove_attachment,
)
from projects.models import Attachment, AttachmentKind
from projects.uploads import (
    ACCEPT_ATTRIBUTE,
    ACCEPTED_TYPES,
    max_upload_megabytes,
    size_limit_message,
)
from projects.views import ProjectView

logger = logging.getLogger(__name__)


class AttachmentUploadForm(forms.Form):
    # The kind comes before the file: if the file is dropped for its size while it arrives,
    # the fields after it in the request would be lost.
    kind = forms.ChoiceField(label=gettext_lazy("Kind of document"), choices=AttachmentKind.choices)
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF, ODT or DOCX; %(limit)s MB at most.") % {
            "limit": max_upload_megabytes()
        }
        self.fields["file"].widget.attrs["accept"] = ACCEPT_ATTRIBUTE


class AttachmentListView(ProjectView):
    """The draft's attachments by kind; uploading and removing need the right to edit."""

    template_name = "projects/attachments.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            self.object_permission = Permission.EDIT_PROJECT
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request: HttpRequest, form: AttachmentUploadForm, *, status: int = 200):
        project = self.project
        current = list(
            project.attachments.filter(removed_at__isnull=True)
            .select_related("uploaded_by")
            .order_by("kind", "uploaded_at", "pk")
        )
        groups = [
            {"kind": kind, "attachments": [a for a in current if a.kind == kind.value]}
            for kind in AttachmentKind
        ]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "groups": groups,
                "form": form,
                "can_edit": has_permission(request.user, Permission.EDIT_PROJECT, project),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, AttachmentUploadForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("action") == "remove":
            return self._remove(request, pk)
        form = AttachmentUploadForm(request.POST, request.FILES)
        oversized = "file" in getattr(request, "oversized_uploads", ())
        if not form.is_valid() or oversized:
            if oversized:
                # The handler dropped the file while it arrived; say why it is missing.
                form.errors.pop("file", None)
                form.add_error("file", size_limit_message())
            return self._render(request, form, status=400)
        upload = form.cleaned_data["file"]
        try:
            attachment = add_attachment(
                project=self.project, kind=form.cleaned_data["kind"], upload=upload, by=request.user
            )
        except UploadRefused as refused:
            form.add_error("file", refused.message)
            return self._render(request, form, status=400)
        except NotEditable:
            messages.error(request, _("This project can no longer be edited."))
            return redirect("project_attachments", pk=pk)
        kind_label = AttachmentKind(attachment.kind).label
        if attachment.original_name != upload.name:
            messages.success(
                request,
                _(
                    "“%(name)s” was added as %(kind)s. Its content was recognised as %(type)s, "
                    "so it was stored as “%(stored)s”."
                )
                % {
                    "name": upload.name,
                    "kind": kind_label,
                    "type": _type_label(attachment),
                    "stored": attachment.original_name,
                },
            )
        else:
            messages.success(
                request,
                _("“%(name)s” was added as %(kind)s (%(type)s).")
                % {
                    "name": attachment.original_name,
                    "kind": kind_label,
                    "type": _type_label(attachment),
                },
            )
        return redirect("project_attachments", pk=pk)

    def _remove(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            attachment_id = int(request.POST.get("attachment", ""))
        except ValueError:
            return self._render(request, AttachmentUploadForm(), status=400)
        attachment = Attachment.objects.filter(
            project=self.project, pk=attachment_id, removed_at__isnull=True
        ).first()
        if attachment is None:
            raise Http404
        try:
            remove_attachment(attachment=attachment, by=request.user)
        except NotEditable:
            messages.error(request, _("This project can no longer be edited."))
            return redirect("project_attachments", pk=pk)
        messages.success(
            request,
            _("“%(name)s” was removed from the draft. Versions already submitted keep it.")
            % {"name": attachment.original_name},
        )
        return redirect("project_attachments", pk=pk)


def _type_label(attachment: Attachment) -> str:
    labels = {t.content_type: t.label for t in ACCEPTED_TYPES}
    return labels.get(attachment.content_type, attachment.content_type)


class AttachmentDownloadView(ProjectView):
    """Hands the file over to those who may see the project, and writes it in the trail.

    A file removed from the draft stays downloadable while a submitted version holds it.
    """

    def get(self, request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
        response = download_response(self.project, attachment_id, by=request.user)
        if response is None:
            raise Http404
        return response


def download_response(project, attachment_id: int, *, by) -> FileResponse | None:
    """The file as an audited download, or None when it is not there to be had.

    Shared by the page and the API. The caller has checked that ``by`` may see the project.
    """
    attachment = (
        Attachment.objects.filter(project=project, pk=attachment_id)
        .filter(Q(removed_at__isnull=True) | Q(versions__isnull=False))
        .select_related("project")
        .first()
    )
    if attachment is None:
        return None
    try:
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except FileNotFoundError:
        logger.error("attachment %s: file missing from storage", attachment.pk)
        return None
    record_attachment_download(attachment=attachment, by=by)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Never kept by a shared cache or the browser's: some of these files name people.
    response["Cache-Control"] = "private, no-store"
    return response
