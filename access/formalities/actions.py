"""The secretariat's writes: formalities and publication. Keyword-only, ``by=``, one
transaction each, the project row locked, audited; the team is told."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.formalities.gates import DIRECTORY_REQUIRED, information_window_ends_at
from access.models_formalities import FormalityRecord, PublicDirectory
from access.models_transparency import Publication, PublicationKind, PublicPage
from access.transparency.snapshot import build_snapshot, search_text
from eds_portal.audit import record_event
from eds_portal.authz import has_role
from eds_portal.notifications import Message, absolute
from eds_portal.roles import Role
from projects import workflow
from projects.models import Project, ProjectStatus

S = ProjectStatus
# Once the formalities are under way, a correction is a new record and no transition.
CORRECTABLE = frozenset({S.FORMALITIES, S.PUBLISHED, S.ACTIVE, S.SUSPENDED})


@transaction.atomic
def record_formalities(
    *,
    project: Project,
    by: Any,
    formality_type: str,
    formality_reference: str,
    formality_date: date,
    directory: str,
    directory_reference: str = "",
    directory_date: date | None = None,
    cesrees_opinion_date: date | None = None,
    note: str = "",
) -> FormalityRecord:
    """Records the CNIL formality and the directory registration (GOV-02 b, c; TRA-10).

    An approved project moves to "formalities"; later, a record corrects the previous one
    and, if the page is online, the page is updated (TRA-13: never silently edited).
    """
    locked = Project.objects.select_for_update().get(pk=project.pk)
    reasons: list[str] = []
    if locked.status in CORRECTABLE:
        if not has_role(by, Role.SECRETARIAT):
            reasons.append(_("Your role on this project does not allow it."))
    else:
        reasons.extend(workflow.reasons_against(locked, "record_formalities", by))
    if not formality_reference.strip():
        reasons.append(_("Give the reference of the formality."))
    if formality_date > timezone.localdate():
        reasons.append(_("The formality cannot be dated in the future."))
    if directory == PublicDirectory.NONE:
        if formality_type in DIRECTORY_REQUIRED:
            reasons.append(_("This formality needs the registration in the public directory."))
    elif not directory_reference.strip() or directory_date is None:
        reasons.append(_("Give the directory reference and the registration date."))
    if reasons:
        raise workflow.TransitionRefused(reasons)
    record = FormalityRecord.objects.create(
        project=locked,
        formality_type=formality_type,
        formality_reference=formality_reference.strip(),
        formality_date=formality_date,
        directory=directory,
        directory_reference=directory_reference.strip() if directory != "none" else "",
        directory_date=directory_date if directory != "none" else None,
        cesrees_opinion_date=cesrees_opinion_date,
        note=note.strip(),
        recorded_by=by,
    )
    details = {
        "formality": record.pk,
        "formality_type": record.formality_type,
        "formality_reference": record.formality_reference,
        "directory": record.directory,
        "directory_reference": record.directory_reference,
    }
    if locked.status == S.APPROVED:
        workflow.fire(locked, "record_formalities", by=by, details=details)
    else:
        record_event(action="formalities.corrected", actor=by, target=locked, after=details)
        if PublicPage.objects.filter(project=locked).exists():
            _publish(locked, by=by, change_note=str(_("Formalities corrected.")))
    return record


def _publish(
    project: Project, *, by: Any, results: dict | None = None, change_note: str = ""
) -> Publication:
    now = timezone.now()
    page = PublicPage.objects.select_for_update().filter(project=project).first()
    if results is None and page is not None:
        previous = page.current.snapshot.get("results", {})
        results = {
            "results_status": previous.get("status", ""),
            "results_summary": previous.get("summary", ""),
            "publications": previous.get("publications", ""),
            "results_sent_to_pds": previous.get("sent_to_pds", ""),
        }
    snapshot = build_snapshot(
        project,
        results=results,
        published_at=now,
        first_published_at=page.first_published_at if page else now,
    )
    number = (project.publications.aggregate(n=Max("number"))["n"] or 0) + 1
    publication = Publication.objects.create(
        project=project,
        number=number,
        kind=PublicationKind.UPDATE if page else PublicationKind.FIRST,
        published_at=now,
        published_by=by,
        snapshot=snapshot,
        change_note=change_note[:300],
    )
    title = snapshot["identification"].get("lay_title") or project.title
    if page is None:
        PublicPage.objects.create(
            project=project,
            current=publication,
            first_published_at=now,
            updated_at=now,
            title=title[:300],
            search_text=search_text(snapshot),
        )
    else:
        page.current = publication
        page.updated_at = now
        page.title = title[:300]
        page.search_text = search_text(snapshot)
        page.save(update_fields=["current", "updated_at", "title", "search_text"])
    record_event(
        action="transparency.published",
        actor=by,
        target=project,
        after={
            "page_version": number,
            "kind": publication.kind,
            "snapshot_sha256": publication.snapshot_sha256,
        },
    )
    return publication


@transaction.atomic
def publish_project(
    *,
    project: Project,
    by: Any,
    results_status: str = "",
    results_summary: str = "",
    publications: str = "",
    results_sent_to_pds: date | None = None,
    change_note: str = "",
) -> Publication:
    """Puts the project's page online, or publishes a new version of it (TRA-08, TRA-13).

    The first publication moves the project to "published" and starts the information window
    (TRA-09); an update keeps the previous versions readable by date.
    """
    locked = Project.objects.select_for_update().get(pk=project.pk)
    first = not PublicPage.objects.filter(project=locked).exists()
    if first:
        reasons = workflow.reasons_against(locked, "publish", by)
        if reasons:
            raise workflow.TransitionRefused(reasons)
    elif not has_role(by, Role.SECRETARIAT):
        raise workflow.TransitionRefused([_("Your role on this project does not allow it.")])
    results = {
        "results_status": results_status,
        "results_summary": results_summary.strip(),
        "publications": publications.strip(),
        "results_sent_to_pds": results_sent_to_pds.isoformat() if results_sent_to_pds else "",
    }
    publication = _publish(
        locked,
        by=by,
        results=results,
        # The page's history says "First publication" by the kind: no note repeating it.
        change_note=change_note.strip(),
    )
    if first:
        window_end = information_window_ends_at(publication.published_at)
        # The transition tells the team of the new status; this says what it means for them.
        note = Message(
            _(
                "The page of your project is on the transparency portal: %(url)s. The persons "
                "concerned may object from now on; no data can be provided before %(date)s, "
                "when the information window ends."
            ),
            url=absolute(reverse("transparency_project", args=[locked.reference])),
            date=timezone.localdate(window_end),
        )
        workflow.fire(
            locked,
            "publish",
            by=by,
            details={"page_version": publication.number},
            team_note=note,
        )
    return publication


def publish_amendment_outcome(*, project_id: int) -> Publication | None:
    """After the commission decides an amendment (GOV-13): a page online is updated at once.

    An approved amendment is what the page shows from now on (data, access period, version);
    a refused one is listed, the rest unchanged. The update is the decision's, published in the
    name of the chair who signed it; the previous versions of the page stay readable
    (TRA-13). A project without a page yet shows the amendment when its page is published.
    """
    from projects.models import AmendmentStatus

    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project_id)
        if not PublicPage.objects.filter(project=locked).exists():
            return None
        amendment = (
            locked.amendments.filter(status__in=[AmendmentStatus.APPROVED, AmendmentStatus.REFUSED])
            .select_related("decision__signed_by")
            .order_by("-closed_at", "-pk")
            .first()
        )
        if amendment is None:
            return None
        if amendment.status == AmendmentStatus.APPROVED:
            note = _("Amendment %(n)s approved (decision %(number)s).")
        else:
            note = _("Amendment %(n)s refused (decision %(number)s): the protocol is unchanged.")
        return _publish(
            locked,
            by=amendment.decision.signed_by,
            change_note=str(note % {"n": amendment.number, "number": amendment.decision.number}),
        )


def publish_closeout(*, project_id: int) -> Publication | None:
    """After the project is closed (RET-03, TRA-11): the page online says "completed" and
    gives the final report's results and publications (or why there are none), in the name of
    the lead who gave it (without a report, of who closed it); the previous versions of the
    page stay readable (TRA-13)."""
    from access.models_outputs import ClosingReport

    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project_id)
        if locked.status != ProjectStatus.CLOSED:
            return None
        if not PublicPage.objects.filter(project=locked).exists():
            return None
        report = ClosingReport.objects.filter(project=locked).first()
        results = None
        by = None
        if report is not None:
            by = report.submitted_by
            results = {
                "results_status": "available" if report.publications else "",
                "results_summary": report.results_summary,
                "publications": report.publications or report.no_results_reason,
                "results_sent_to_pds": "",
            }
        if by is None:
            from eds_portal.models import AuditEvent

            closing = (
                AuditEvent.objects.filter(action="project.close", target_id=str(locked.pk))
                .order_by("-seq")
                .first()
            )
            by = closing.actor if closing is not None else None
        if by is None:
            return None
        return _publish(
            locked, by=by, results=results, change_note=str(_("The project was closed."))
        )
