"""The public transparency portal: no login, French and English (TRA-01 to TRA-13).

Every page reads immutable snapshots only (``Publication.snapshot``), never the project's
models: what a page shows is exactly what was published, and ``?on=YYYY-MM-DD`` shows what it
said at the end of that day (TRA-13).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_formalities import FormalityType, PublicDirectory
from access.models_transparency import Publication, PublicPage
from access.transparency.snapshot import (
    PUBLIC_STATUSES,
    project_statuses_for,
    public_status,
)
from eds_portal.exports import table_response
from eds_portal.hostile_input import strict_int
from eds_portal.views.base import PublicView
from projects.models import AmendmentStatus, Attachment, Recommendation, RegulatoryRoute

logger = logging.getLogger(__name__)

STATUS_LABELS = {
    "planned": gettext_lazy("Planned"),
    "ongoing": gettext_lazy("Ongoing"),
    "completed": gettext_lazy("Completed"),
    "stopped": gettext_lazy("Stopped"),
}
RESULTS_LABELS = {
    "not_yet": gettext_lazy("Not available yet"),
    "in_progress": gettext_lazy("Analysis in progress"),
    "available": gettext_lazy("Results available"),
}
CATEGORY_LABELS = {
    "person": gettext_lazy("Sex and age"),
    "visit_occurrence": gettext_lazy("Calls, visits and consultations"),
    "visit_detail": gettext_lazy("Steps of the visits"),
    "condition_occurrence": gettext_lazy("Diagnoses"),
    "drug_exposure": gettext_lazy("Medicines"),
    "procedure_occurrence": gettext_lazy("Procedures"),
    "measurement": gettext_lazy("Measurements (vital signs)"),
    "observation": gettext_lazy("Reason for the call, dispatch and outcome"),
    "note": gettext_lazy("Free-text notes, scrubbed of names and numbers"),
    "death": gettext_lazy("Death"),
    "care_site": gettext_lazy("Associations and care centres"),
    "observation_period": gettext_lazy("Periods covered"),
    "location": gettext_lazy("Place, generalised"),
}
CONTROLLER_TYPES = {"public": gettext_lazy("Public body"), "private": gettext_lazy("Private body")}
INFORMATION_MODES = {
    "individual": gettext_lazy("Individual information of each person, and this page"),
    "exception": gettext_lazy(
        "This page and the general information (GDPR art. 14(5)(b): individual information "
        "impossible or disproportionate)"
    ),
}


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _local_label(item: dict) -> str:
    french = (translation.get_language() or "fr").startswith("fr")
    return item.get("label_fr" if french else "label_en") or item.get("code", "")


def _area(cohort: dict) -> list[dict]:
    """The area of the cohort in words: each region with its départements, then associations
    named by themselves (with their département). Empty: every association, all of France."""
    from warehouse import reference

    french = (translation.get_language() or "fr").startswith("fr")
    names = reference.departement_names()
    region_of = reference.region_of_departement()
    regions = reference.region_names()
    by_region: dict[str, list[str]] = {}
    for code in cohort.get("departements") or []:
        by_region.setdefault(region_of.get(code, ""), []).append(
            f"{names.get(code, '')} ({code})" if code in names else code
        )
    area = [
        {
            "region": (regions.get(region) or ("", ""))[0 if french else 1],
            "departements": departements,
        }
        for region, departements in sorted(by_region.items(), key=lambda item: item[0])
    ]
    associations = reference.associations()
    chosen = [associations[pk] for pk in cohort.get("associations") or [] if pk in associations]
    if chosen:
        area.append(
            {
                "region": "",
                "associations": [
                    f"{row['name']} ({names.get(row['departement'], row['departement'])})"
                    for row in chosen
                ],
            }
        )
    return area


def _iso_day(value) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def snapshot_context(snapshot: dict, project=None) -> dict:
    """The snapshot with its codes turned into words of the current language."""
    formality = snapshot.get("formality") or None
    opinion = snapshot.get("opinion") or {}
    data = snapshot.get("data") or {}
    # Snapshots published before the cohort was shown have none: the page then says nothing.
    cohort = data.get("cohort")
    return {
        "cohort": cohort,
        "cohort_area": _area(cohort) if cohort is not None else [],
        "cohort_start": _iso_day((cohort or {}).get("period_start")),
        "cohort_end": _iso_day((cohort or {}).get("period_end")),
        "s": snapshot,
        "status_label": STATUS_LABELS.get(snapshot.get("status", ""), ""),
        "route_label": _label(RegulatoryRoute, snapshot.get("route", "")),
        "opinion_label": _label(Recommendation, opinion.get("outcome", "")),
        "formality_label": _label(FormalityType, formality["type"]) if formality else "",
        "directory_label": _label(PublicDirectory, formality["directory"]) if formality else "",
        "categories": [CATEGORY_LABELS.get(t, t) for t in data.get("categories", [])],
        "variables": [_local_label(v) for v in data.get("variables", [])],
        "controller_type": CONTROLLER_TYPES.get(
            (snapshot.get("actors") or {}).get("controller_type", ""), ""
        ),
        "information_mode": INFORMATION_MODES.get(
            (snapshot.get("information") or {}).get("information_mode", ""), ""
        ),
        "results_label": RESULTS_LABELS.get((snapshot.get("results") or {}).get("status", ""), ""),
        # Decided amendments only (GOV-13); the page words each outcome.
        "amendments": [
            entry
            for entry in snapshot.get("amendments") or []
            if entry.get("status") in {AmendmentStatus.APPROVED, AmendmentStatus.REFUSED}
        ],
    }


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def _page_or_404(reference: str) -> PublicPage:
    page = (
        PublicPage.objects.select_related("project", "current")
        .filter(project__reference=reference)
        .first()
    )
    if page is None:
        raise Http404
    return page


def opposition_form_url() -> str:
    """The public opposition form (the register's own module; "opposition_new" is staff entry)."""
    try:
        return reverse("opposition_form")
    except NoReverseMatch:  # the opposition register ships its URLs separately
        return "/opposition/"


def opposition_url(reference: str) -> str:
    """The opposition form with this project's scope filled in (TRA-08, Fields A 7)."""
    return f"{opposition_form_url()}?{urlencode({'project': reference})}"


class TransparencyHomeView(PublicView):
    """The general information on the warehouse (TRA-02)."""

    template_name = "access/transparency/home.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        latest = PublicPage.objects.select_related("project", "current").order_by(
            "-first_published_at"
        )[:5]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "latest": latest,
                "count": PublicPage.objects.count(),
                "opposition_url": opposition_form_url(),
                "dpo_email": settings.EDS_DPO_EMAIL,
                "window_days": settings.EDS_INFORMATION_WINDOW_DAYS,
                # RET-07: the retention periods come from the settings, never from the text.
                "retention": {
                    "warehouse_years": settings.EDS_RETENTION_WAREHOUSE_YEARS,
                    "audit_days": settings.EDS_RETENTION_AUDIT_DAYS,
                    "closed_opposition_years": settings.EDS_RETENTION_CLOSED_OPPOSITION_YEARS,
                },
            },
        )


def _listed(request: HttpRequest):
    pages = PublicPage.objects.select_related("project", "current").order_by(
        "-first_published_at", "pk"
    )
    query = request.GET.get("q", "").strip()[:200]
    status = request.GET.get("status", "")
    if query:
        for word in query.lower().split()[:10]:
            pages = pages.filter(search_text__contains=word)
    statuses = project_statuses_for(status)
    if statuses is not None:
        pages = pages.filter(project__status__in=statuses)
    return pages, query, status


def _row(page: PublicPage, request: HttpRequest) -> dict:
    snapshot = page.current.snapshot
    formality = snapshot.get("formality") or {}
    return {
        "reference": snapshot["reference"],
        "title": snapshot["identification"].get("lay_title", ""),
        "acronym": snapshot["identification"].get("acronym", ""),
        "status": public_status(page.project.status),
        "controller": snapshot["actors"].get("controller_name", ""),
        "purpose": snapshot["identification"].get("summary", ""),
        "first_published": timezone.localtime(page.first_published_at).date().isoformat(),
        "updated": timezone.localtime(page.updated_at).date().isoformat(),
        "page_version": page.current.number,
        "formality_type": formality.get("type", ""),
        "formality_reference": formality.get("reference", ""),
        "directory_reference": formality.get("directory_reference", ""),
        "results_status": (snapshot.get("results") or {}).get("status", ""),
        "url": request.build_absolute_uri(
            reverse("transparency_project", args=[snapshot["reference"]])
        ),
    }


class TransparencyListView(PublicView):
    """Every published project, searchable, by public status (TRA-01)."""

    template_name = "access/transparency/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        pages, query, status = _listed(request)
        paginator = Paginator(pages, 25)
        page_obj = paginator.get_page(request.GET.get("page"))
        rows = [
            {
                **_row(page, request),
                "status_label": STATUS_LABELS[public_status(page.project.status)],
            }
            for page in page_obj
        ]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "rows": rows,
                "page_obj": page_obj,
                "query": query,
                "status": status,
                "statuses": [(s, STATUS_LABELS[s]) for s in PUBLIC_STATUSES],
            },
        )


EXPORT_COLUMNS = [
    "reference",
    "title",
    "acronym",
    "status",
    "controller",
    "purpose",
    "first_published",
    "updated",
    "page_version",
    "formality_type",
    "formality_reference",
    "directory_reference",
    "results_status",
    "url",
]


class TransparencyExportCsvView(PublicView):
    def get(self, request: HttpRequest) -> HttpResponse:
        pages, _query, _status = _listed(request)
        # Titles and summaries are typed by researchers: formula-looking ones are neutralised.
        table = [EXPORT_COLUMNS]
        for page in pages:
            row = _row(page, request)
            table.append([row[column] for column in EXPORT_COLUMNS])
        return table_response(request, table, filename="projects", sheet_title="projects")


class TransparencyExportJsonView(PublicView):
    def get(self, request: HttpRequest) -> HttpResponse:
        pages, _query, _status = _listed(request)
        return JsonResponse(
            {"projects": [_row(page, request) for page in pages]},
            json_dumps_params={"ensure_ascii": False, "indent": 1},
        )


class PublicationFeed(Feed):
    """Every publication and update of a project page, newest first (Atom)."""

    feed_type = Atom1Feed
    title = gettext_lazy("EDS CONTACT — research projects published")
    subtitle = gettext_lazy("Projects using the SOS Médecins health data warehouse")

    def link(self):
        return reverse("transparency_list")

    def items(self):
        return Publication.objects.select_related("project").order_by("-published_at", "-pk")[:50]

    def item_title(self, item: Publication) -> str:
        title = item.snapshot["identification"].get("lay_title", "")
        if item.kind == "first":
            return _("Published: %(title)s") % {"title": title}
        return _("Updated: %(title)s") % {"title": title}

    def item_description(self, item: Publication) -> str:
        return item.change_note or item.snapshot["identification"].get("summary", "")

    def item_link(self, item: Publication) -> str:
        day = timezone.localtime(item.published_at).date().isoformat()
        return reverse("transparency_project", args=[item.snapshot["reference"]]) + f"?on={day}"

    def item_guid(self, item: Publication) -> str:
        return f"{item.snapshot['reference']}/v{item.number}"

    def item_pubdate(self, item: Publication):
        return item.published_at

    def item_updateddate(self, item: Publication):
        return item.published_at


class TransparencyFeedView(PublicView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return PublicationFeed()(request)


class TransparencyProjectView(PublicView):
    """One project's page, as it reads now or as it read on a given day (TRA-13)."""

    template_name = "access/transparency/project.html"

    def get(self, request: HttpRequest, reference: str) -> HttpResponse:
        page = _page_or_404(reference)
        on_text = request.GET.get("on", "").strip()
        publication = page.current
        on = None
        status = 200
        error = ""
        if on_text:
            try:
                on = date.fromisoformat(on_text)
            except ValueError:
                error = _("Give the date as YYYY-MM-DD, for instance 2026-01-31.")
                status = 400
            else:
                publication = (
                    Publication.objects.filter(project=page.project, published_at__lte=_end_of(on))
                    .order_by("-published_at", "-number")
                    .first()
                )
                if publication is None:
                    status = 404
        context = {
            "page": page,
            "publication": publication,
            "on": on,
            "on_text": on_text,
            "error": error,
            "history": page.project.publications.order_by("-number").only(
                "number", "published_at", "kind", "change_note", "project_id"
            ),
            "opposition_url": opposition_url(reference),
            "dated": on is not None,
        }
        if publication is not None:
            context.update(snapshot_context(publication.snapshot))
            # TRA-11: the released results the lead listed, as they were listed on that day.
            from access.outputs.selectors import public_closing_report, public_results

            context["released_results"] = public_results(
                page.project, until=_end_of(on) if on is not None else None
            )
            if on is None:
                context["closing_report"] = public_closing_report(page.project)
            if on is None:
                # The current page says where the project stands today.
                context["status_label"] = STATUS_LABELS[public_status(page.project.status)]
        return TemplateResponse(request, self.template_name, context, status=status)


class InformationNoteView(PublicView):
    """The information note of a published page, and only of one (TRA-03)."""

    def get(self, request: HttpRequest, reference: str) -> HttpResponse:
        page = _page_or_404(reference)
        wanted = request.GET.get("version", "")
        publication = page.current
        if wanted:
            # ASCII digits within 64 bits only: "²" and "٣" are digits to Python, not numbers.
            number = strict_int(wanted, minimum=1)
            if number is None:
                return HttpResponseBadRequest(_("The version is not a number."))
            publication = page.project.publications.filter(number=number).first()
        note = (publication.snapshot.get("information_note") if publication else None) or None
        if note is None:
            raise Http404
        attachment = Attachment.objects.filter(project=page.project, pk=note["id"]).first()
        if attachment is None:
            raise Http404
        try:
            handle = attachment.file.storage.open(attachment.file.name, "rb")
        except FileNotFoundError:
            logger.error("information note %s: file missing from storage", attachment.pk)
            raise Http404 from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
