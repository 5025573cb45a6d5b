"""Writes about a project's attachments: adding, removing, and the trail of downloads.

Keyword-only, with an explicit actor (``by=``), one transaction each, each writing its audit
event. The trail records the kind, size and SHA-256 of a file, never its name: a CV's name is
often a person's name.
"""

from __future__ import annotations

import hashlib
from typing import IO, Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from eds_portal.audit import record_event
from projects.actions import NotEditable
from projects.models import Attachment, AttachmentKind, Project
from projects.uploads import (
    DocumentType,
    UploadRefused,
    detect_document_type,
    max_upload_bytes,
    sanitise_filename,
    size_limit_message,
)

__all__ = [
    "NotEditable",
    "UploadRefused",
    "add_attachment",
    "record_attachment_download",
    "remove_attachment",
]

HASH_CHUNK_BYTES = 64 * 1024


def _hash_and_size(upload: File) -> tuple[str, int]:
    """SHA-256 and size, chunk by chunk; stops reading as soon as the limit is passed."""
    limit = max_upload_bytes()
    digest = hashlib.sha256()
    size = 0
    for chunk in upload.chunks(HASH_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise UploadRefused(size_limit_message())
        digest.update(chunk)
    return digest.hexdigest(), size


def _as_file(upload: IO[bytes] | File) -> File:
    return upload if isinstance(upload, File) else File(upload, name=getattr(upload, "name", ""))


def add_attachment(*, project: Project, kind: str, upload: IO[bytes] | File, by: Any) -> Attachment:
    """Stores ``upload`` as an attachment of the project's draft, or raises ``UploadRefused``.

    The file is read and checked before the transaction starts, so the project row is locked
    only for the write itself.
    """
    if kind not in AttachmentKind.values:
        raise ValueError(f"unknown attachment kind {kind!r}")
    upload = _as_file(upload)
    declared_size = getattr(upload, "size", None)
    if declared_size is not None and declared_size > max_upload_bytes():
        raise UploadRefused(size_limit_message())
    sha256, size = _hash_and_size(upload)
    document_type: DocumentType = detect_document_type(upload, size)
    name = sanitise_filename(getattr(upload, "name", "") or "", document_type)

    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if not locked.is_editable:
            raise NotEditable(locked.status)
        attachment = Attachment(
            project=locked,
            kind=kind,
            original_name=name,
            content_type=document_type.content_type,
            size=size,
            sha256=sha256,
            uploaded_by=by,
        )
        # Storage is not transactional: a file written for a row that is then rolled back
        # is deleted here rather than left behind.
        attachment.file.save(name, upload, save=False)
        try:
            attachment.save()
            record_event(
                action="project.attachment_added",
                actor=by,
                target=locked,
                after={
                    "attachment": attachment.pk,
                    "kind": kind,
                    "type": document_type.code,
                    "size": size,
                    "sha256": sha256,
                },
            )
        except BaseException:
            attachment.file.storage.delete(attachment.file.name)
            raise
    return attachment


@transaction.atomic
def remove_attachment(*, attachment: Attachment, by: Any) -> Attachment:
    """Takes the attachment out of the draft. The file stays: submitted versions keep it."""
    locked_project = Project.objects.select_for_update().get(pk=attachment.project_id)
    if not locked_project.is_editable:
        raise NotEditable(locked_project.status)
    locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if locked.removed_at is not None:
        return locked
    locked.removed_at = timezone.now()
    locked.save(update_fields=["removed_at"])
    record_event(
        action="project.attachment_removed",
        actor=by,
        target=locked_project,
        before={"attachment": locked.pk, "kind": locked.kind, "sha256": locked.sha256},
        after={
            "attachment": locked.pk,
            "removed": True,
            "kept_by_versions": sorted(locked.versions.values_list("number", flat=True)),
        },
    )
    attachment.removed_at = locked.removed_at
    return locked


@transaction.atomic
def record_attachment_download(*, attachment: Attachment, by: Any) -> None:
    """Every download of a project's file is in the trail (who, which file, when)."""
    record_event(
        action="project.attachment_downloaded",
        actor=by,
        target=attachment.project,
        after={"attachment": attachment.pk, "kind": attachment.kind, "sha256": attachment.sha256},
    )
