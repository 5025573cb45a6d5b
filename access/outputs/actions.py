"""Writes about output requests: upload, justification, submission, review, release, downloads.

Keyword-only, with an explicit actor (``by=``), one transaction each, each writing its audit
event. A file is read, typed by content, hashed and checked before the transaction starts.
Nothing leaves unless two checkers, neither of them on the team nor conflicted, approved the
same version (``review_output``).
"""

from __future__ import annotations

import hashlib
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access.models_outputs import (
    OutputItem,
    OutputItemStatus,
    OutputKind,
    OutputRequest,
    OutputRequestStatus,
    OutputReview,
    OutputVersion,
    ReviewVerdict,
)
from access.outputs import checks
from access.outputs.files import CSV, detect_output_type
from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.errors import Refused
from projects.models import Project, ProjectStatus
from projects.permissions import is_lead, is_member
from projects.uploads import UploadRefused, max_upload_bytes, sanitise_filename, size_limit_message

__all__ = [
    "OutputRefused",
    "UploadRefused",
    "add_output_item",
    "add_output_version",
    "create_output_request",
    "justify_output",
    "list_output_publicly",
    "record_checker_read",
    "record_output_download",
    "review_output",
    "submit_output_request",
]

# Outputs come from delivered data: a project that receives data may ask for them.
REQUESTING_STATUSES = frozenset({ProjectStatus.PUBLISHED, ProjectStatus.ACTIVE})
EDITABLE_ITEM_STATUSES = frozenset({OutputItemStatus.DRAFT, OutputItemStatus.CHANGES_REQUESTED})
REVIEWS_NEEDED = 2


class OutputRefused(Refused):
    """The step is not possible now; ``str()`` says why, in words for the user."""


def threshold() -> int:
    return settings.EDS_SMALL_CELL_THRESHOLD


def _read(upload: IO[bytes]) -> bytes:
    limit = max_upload_bytes()
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        raise UploadRefused(size_limit_message())
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(size_limit_message())
    return data


def released_tables(project_id: int, *, exclude_item: int | None = None):
    """(release number, table) of every table of the project already released."""
    items = (
        OutputItem.objects.filter(
            request__project_id=project_id,
            status=OutputItemStatus.RELEASED,
            kind=OutputKind.TABLE,
            magnitude=False,
        )
        .exclude(pk=exclude_item)
        .select_related("released_version")
    )
    for item in items:
        version = item.released_version
        stored = version.release_file or version.file
        with stored.open("rb") as handle:
            data = handle.read()
        try:
            table = (
                checks.parse_xlsx(data) if version.file_type == "xlsx" else checks.parse_csv(data)
            )
        except checks.TableUnreadable:
            continue
        yield item.release_number, table


def run_checks(
    *, item: OutputItem, data: bytes, file_type: str, declared_counts: str, project_id: int
) -> list[dict[str, Any]]:
    limit = threshold()
    if item.kind == OutputKind.FIGURE:
        found = checks.check_declared_counts(declared_counts, threshold=limit)
    elif item.kind == OutputKind.TABLE:
        try:
            table = checks.parse_xlsx(data) if file_type == "xlsx" else checks.parse_csv(data)
        except checks.TableUnreadable:
            found = [checks.Finding(checks.Rule.UNREADABLE)]
        else:
            found = checks.check_table(
                table,
                threshold=limit,
                magnitude=item.magnitude,
                released=list(released_tables(project_id, exclude_item=item.pk)),
            )
    else:
        found = []
    return [f.as_dict() for f in found]


def _lock_request(request: OutputRequest) -> OutputRequest:
    locked = OutputRequest.objects.select_for_update().select_related("project").get(pk=request.pk)
    if locked.project.status not in REQUESTING_STATUSES:
        raise OutputRefused(_("This project does not receive data: it cannot ask for outputs."))
    return locked


def create_output_request(*, project: Any, title: str, by: Any) -> OutputRequest:
    if project.status not in REQUESTING_STATUSES:
        raise OutputRefused(_("This project does not receive data: it cannot ask for outputs."))
    if not is_member(by, project):
        raise OutputRefused(_("Only the project's team asks for outputs."))
    with transaction.atomic():
        request = OutputRequest.objects.create(project=project, title=title.strip(), created_by=by)
        record_event(
            action="outputs.request_created",
            actor=by,
            target=project,
            after={"request": request.pk, "title": request.title},
        )
    return request


def _store_version(
    *, item: OutputItem, data: bytes, name: str, declared_counts: str, by: Any
) -> OutputVersion:
    document_type = detect_output_type(data, item.kind)
    sha256 = hashlib.sha256(data).hexdigest()
    findings = run_checks(
        item=item,
        data=data,
        file_type=document_type.code,
        declared_counts=declared_counts,
        project_id=item.request.project_id,
    )
    release_data = None
    if item.kind == OutputKind.TABLE and item.magnitude and document_type == CSV:
        try:
            release_data = checks.release_copy(data)
        except checks.TableUnreadable:
            release_data = None
    number = (item.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = OutputVersion(
        item=item,
        number=number,
        original_name=sanitise_filename(name, document_type),
        file_type=document_type.code,
        content_type=document_type.content_type,
        size=len(data),
        sha256=sha256,
        uploaded_by=by,
        threshold=threshold(),
        findings=findings,
    )
    stored = []
    version.file.save(version.original_name, ContentFile(data), save=False)
    stored.append(version.file.name)
    try:
        if release_data is not None:
            version.release_sha256 = hashlib.sha256(release_data).hexdigest()
            version.release_file.save(
                "released-" + version.original_name, ContentFile(release_data), save=False
            )
            stored.append(version.release_file.name)
        version.save()
        record_event(
            action="outputs.version_uploaded",
            actor=by,
            target=item.request.project,
            after={
                "item": item.pk,
                "version": number,
                "type": document_type.code,
                "size": len(data),
                "sha256": sha256,
                "findings": len(findings),
                "rules": sorted({f["rule"] for f in findings}),
            },
        )
    except BaseException:
        # Storage is not transactional: nothing is left behind for a row rolled back.
        for path in stored:
            version.file.storage.delete(path)
        raise
    return version


def add_output_item(
    *,
    request: OutputRequest,
    kind: str,
    title: str,
    description: str,
    upload: IO[bytes],
    by: Any,
    cell_unit: str = "",
    variables_crossed: str = "",
    magnitude: bool = False,
    declared_counts: str = "",
) -> OutputItem:
    data = _read(upload)
    if kind == OutputKind.TABLE and not cell_unit:
        raise OutputRefused(_("Say what each cell of the table counts."))
    with transaction.atomic():
        locked = _lock_request(request)
        if not is_member(by, locked.project):
            raise OutputRefused(_("Only the project's team asks for outputs."))
        if locked.status == OutputRequestStatus.DECIDED:
            raise OutputRefused(_("This request is decided; start a new one."))
        item = OutputItem.objects.create(
            request=locked,
            kind=kind,
            title=title.strip(),
            description=description.strip(),
            cell_unit=cell_unit if kind == OutputKind.TABLE else "",
            variables_crossed=variables_crossed.strip(),
            magnitude=bool(magnitude) and kind == OutputKind.TABLE,
            declared_counts=declared_counts.strip() if kind == OutputKind.FIGURE else "",
        )
        _store_version(
            item=item,
            data=data,
            name=getattr(upload, "name", "") or "",
            declared_counts=item.declared_counts,
            by=by,
        )
    return item


def add_output_version(
    *, item: OutputItem, upload: IO[bytes], by: Any, declared_counts: str | None = None
) -> OutputVersion:
    """A new file for an output being prepared or sent back for changes."""
    data = _read(upload)
    with transaction.atomic():
        _lock_request(item.request)
        locked = OutputItem.objects.select_for_update().select_related("request").get(pk=item.pk)
        if not is_member(by, locked.request.project):
            raise OutputRefused(_("Only the project's team asks for outputs."))
        if locked.status not in EDITABLE_ITEM_STATUSES:
            raise OutputRefused(_("This output is with the checkers or decided: it cannot change."))
        if declared_counts is not None and locked.kind == OutputKind.FIGURE:
            locked.declared_counts = declared_counts.strip()
        locked.status = OutputItemStatus.DRAFT
        locked.save(update_fields=["declared_counts", "status"])
        version = _store_version(
            item=locked,
            data=data,
            name=getattr(upload, "name", "") or "",
            declared_counts=locked.declared_counts,
            by=by,
        )
    return version


@transaction.atomic
def justify_output(*, item: OutputItem, justification: str, by: Any) -> OutputItem:
    _lock_request(item.request)
    locked = OutputItem.objects.select_for_update().select_related("request").get(pk=item.pk)
    if not is_member(by, locked.request.project):
        raise OutputRefused(_("Only the project's team asks for outputs."))
    if locked.status not in EDITABLE_ITEM_STATUSES:
        raise OutputRefused(_("This output is with the checkers or decided: it cannot change."))
    before = locked.justification
    locked.justification = justification.strip()
    locked.save(update_fields=["justification"])
    record_event(
        action="outputs.justified",
        actor=by,
        target=locked.request.project,
        before={"item": locked.pk, "justification": before},
        after={"item": locked.pk, "justification": locked.justification},
    )
    return locked


@transaction.atomic
def submit_output_request(*, request: OutputRequest, by: Any) -> OutputRequest:
    """Sends every output being prepared to the checkers. An output the automatic checks
    flagged goes only with a justification (the checkers judge it)."""
    locked = _lock_request(request)
    if not is_member(by, locked.project):
        raise OutputRefused(_("Only the project's team asks for outputs."))
    items = list(
        locked.items.select_for_update().filter(status=OutputItemStatus.DRAFT).order_by("pk")
    )
    if not items:
        raise OutputRefused(_("There is no output being prepared to submit."))
    reasons = []
    for item in items:
        version = item.versions.order_by("-number").first()
        if version is None:
            reasons.append(_("“%(title)s” has no file.") % {"title": item.title})
        elif version.findings and not item.justification:
            reasons.append(
                _(
                    "“%(title)s”: the automatic checks found problems; fix the file or justify "
                    "the exception."
                )
                % {"title": item.title}
            )
    if reasons:
        raise OutputRefused(reasons)
    now = timezone.now()
    for item in items:
        item.status = OutputItemStatus.SUBMITTED
        item.save(update_fields=["status"])
    locked.status = OutputRequestStatus.IN_REVIEW
    if locked.submitted_at is None:
        locked.submitted_at, locked.submitted_by = now, by
    locked.save(update_fields=["status", "submitted_at", "submitted_by"])
    record_event(
        action="outputs.request_submitted",
        actor=by,
        target=locked.project,
        after={"request": locked.pk, "items": [item.pk for item in items]},
    )
    return locked


def _next_release_number(item: OutputItem) -> str:
    # The project's row is the lock: two outputs released at once get two numbers.
    project = Project.objects.select_for_update().get(pk=item.request.project_id)
    released = OutputItem.objects.filter(
        request__project=project, release_number__isnull=False
    ).count()
    return f"{project.reference}-R{released + 1:02d}"


@transaction.atomic
def review_output(*, item: OutputItem, verdict: str, comment: str, by: Any) -> OutputReview:
    """One checker's verdict on the current version. The second verdict decides: two approvals
    release it, a rejection rejects it, otherwise changes are asked for."""
    locked = (
        OutputItem.objects.select_for_update().select_related("request__project").get(pk=item.pk)
    )
    if locked.status != OutputItemStatus.SUBMITTED:
        raise OutputRefused(_("This output is not waiting for checkers."))
    if not has_permission(by, Permission.CHECK_OUTPUTS, locked):
        raise OutputRefused(
            _("You may not check this output: you are on the project's team or conflicted.")
        )
    if verdict not in ReviewVerdict.values:
        raise OutputRefused(_("Choose a verdict."))
    if verdict != ReviewVerdict.APPROVE and not comment.strip():
        raise OutputRefused(_("Say why, so that the team can act on it."))
    version = locked.versions.order_by("-number").first()
    if version.reviews.filter(checker=by).exists():
        raise OutputRefused(_("You have already given your verdict on this version."))
    review = OutputReview.objects.create(
        version=version, checker=by, verdict=verdict, comment=comment.strip()
    )
    record_event(
        action="outputs.reviewed",
        actor=by,
        target=locked.request.project,
        after={"item": locked.pk, "version": version.number, "verdict": verdict},
    )
    verdicts = list(version.reviews.values_list("verdict", flat=True))
    if len(verdicts) < REVIEWS_NEEDED:
        return review
    if all(v == ReviewVerdict.APPROVE for v in verdicts):
        locked.status = OutputItemStatus.RELEASED
        locked.release_number = _next_release_number(locked)
        locked.released_version = version
        locked.released_at = timezone.now()
        locked.released_by = by
        action = "outputs.released"
    elif ReviewVerdict.REJECT in verdicts:
        locked.status = OutputItemStatus.REJECTED
        action = "outputs.rejected"
    else:
        locked.status = OutputItemStatus.CHANGES_REQUESTED
        action = "outputs.changes_requested"
    locked.save()
    record_event(
        action=action,
        actor=by,
        target=locked.request.project,
        after={
            "item": locked.pk,
            "version": version.number,
            "release_number": locked.release_number,
            "sha256": version.served_sha256 if locked.release_number else None,
            "checkers": sorted(version.reviews.values_list("checker_id", flat=True)),
        },
    )
    request = locked.request
    if not request.items.exclude(
        status__in=[OutputItemStatus.RELEASED, OutputItemStatus.REJECTED]
    ).exists():
        request.status = OutputRequestStatus.DECIDED
        request.save(update_fields=["status"])
    return review


@transaction.atomic
def list_output_publicly(*, item: OutputItem, publication_reference: str, by: Any) -> OutputItem:
    """TRA-11: the lead lists a released result on the project's public page (title, date,
    publication), never the file itself."""
    locked = (
        OutputItem.objects.select_for_update().select_related("request__project").get(pk=item.pk)
    )
    if not is_lead(by, locked.request.project):
        raise OutputRefused(_("Only the project lead lists results on the public page."))
    if locked.status != OutputItemStatus.RELEASED:
        raise OutputRefused(_("Only released outputs are listed on the public page."))
    if locked.publicly_listed_at is not None:
        # The public page is never silently edited (TRA-13): a listing stays as it was.
        raise OutputRefused(_("This result is already listed on the public page."))
    locked.publicly_listed_at = timezone.now()
    locked.publication_reference = publication_reference.strip()
    locked.save(update_fields=["publicly_listed_at", "publication_reference"])
    record_event(
        action="outputs.listed_publicly",
        actor=by,
        target=locked.request.project,
        after={"item": locked.pk, "release_number": locked.release_number},
    )
    return locked


@transaction.atomic
def record_output_download(*, item: OutputItem, by: Any) -> None:
    version = item.released_version
    record_event(
        action="outputs.downloaded",
        actor=by,
        target=item.request.project,
        after={
            "item": item.pk,
            "release_number": item.release_number,
            "sha256": version.served_sha256,
        },
    )


@transaction.atomic
def record_checker_read(*, version: OutputVersion, by: Any) -> None:
    record_event(
        action="outputs.checker_read",
        actor=by,
        target=version.item.request.project,
        after={"item": version.item_id, "version": version.number, "sha256": version.sha256},
    )
