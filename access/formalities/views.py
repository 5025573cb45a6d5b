"""The secretariat's pages: projects awaiting formalities or publication, a project's
formalities, and its publication (first or update)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from access.formalities.actions import CORRECTABLE, publish_project, record_formalities
from access.formalities.forms import FormalityForm, PublishForm
from access.formalities.gates import current_decision, gate_state
from access.models_formalities import FormalityRecord
from access.models_transparency import PublicPage
from access.transparency.snapshot import build_snapshot
from access.transparency.views import snapshot_context
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.views.base import PermissionView
from projects import workflow
from projects.models import Project, ProjectStatus, RegulatoryRoute

S = ProjectStatus
FOLLOWED = (S.APPROVED, S.FORMALITIES, S.PUBLISHED, S.ACTIVE, S.SUSPENDED, S.CLOSED)


class FormalitiesListView(PermissionView):
    """Approved projects and where each stands on the way to publication."""

    permission = Permission.MANAGE_FORMALITIES
    template_name = "access/formalities/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        projects = (
            Project.objects.filter(status__in=FOLLOWED)
            .select_related("public_page")
            .prefetch_related(
                Prefetch(
                    "formality_records",
                    queryset=FormalityRecord.objects.order_by("-recorded_at", "-pk"),
                    to_attr="records",
                )
            )
            .order_by("status", "reference")
        )
        rows = []
        for project in projects:
            page = getattr(project, "public_page", None)
            rows.append(
                {
                    "project": project,
                    "formality": project.records[0] if project.records else None,
                    "page": page,
                }
            )
        return TemplateResponse(request, self.template_name, {"rows": rows})


class FormalitiesProjectView(PermissionView):
    permission = Permission.MANAGE_FORMALITIES

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if has_permission(request.user, self.permission):
            self.project = get_object_for_user(request.user, Project, kwargs["pk"], self.permission)
        return super().dispatch(request, *args, **kwargs)


def _has_page(project: Project) -> bool:
    return PublicPage.objects.filter(project=project).exists()


def _route_label(value: str) -> str:
    """The confirmed route as people read it ("mr004" is a stored value, not a label)."""
    return str(RegulatoryRoute(value).label) if value in RegulatoryRoute.values else value


class ProjectFormalitiesView(FormalitiesProjectView):
    template_name = "access/formalities/project.html"

    def _context(self, form) -> dict:
        project = self.project
        content = {}
        decision = current_decision(project)
        if decision is not None:
            content = decision.version.content
        return {
            "project": project,
            "form": form,
            "records": project.formality_records.select_related("recorded_by"),
            "state": gate_state(project),
            "route": _route_label((content.get("route") or {}).get("confirmed_route", "")),
            "reasons": []
            if project.status in CORRECTABLE
            else workflow.reasons_against(project, "record_formalities", self.request.user),
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        latest = self.project.formality_records.first()
        initial = {}
        if latest is not None:
            initial = {
                "formality_type": latest.formality_type,
                "formality_reference": latest.formality_reference,
                "formality_date": latest.formality_date,
                "cesrees_opinion_date": latest.cesrees_opinion_date,
                "directory": latest.directory,
                "directory_reference": latest.directory_reference,
                "directory_date": latest.directory_date,
            }
        else:
            decision = current_decision(self.project)
            route = (
                (decision.version.content.get("route") or {}).get("confirmed_route", "")
                if decision
                else ""
            )
            if route in {"mr004", "mr001", "mr003", "authorisation"}:
                initial["formality_type"] = route
        return TemplateResponse(
            request, self.template_name, self._context(FormalityForm(initial=initial))
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = FormalityForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                record_formalities(
                    project=self.project,
                    by=request.user,
                    formality_type=data["formality_type"],
                    formality_reference=data["formality_reference"],
                    formality_date=data["formality_date"],
                    directory=data["directory"],
                    directory_reference=data["directory_reference"],
                    directory_date=data["directory_date"],
                    cesrees_opinion_date=data["cesrees_opinion_date"],
                    note=data["note"],
                )
            except workflow.TransitionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, _("The formalities are recorded."))
                return redirect("project_formalities", pk=self.project.pk)
        return TemplateResponse(request, self.template_name, self._context(form), status=400)


class ProjectPublishView(FormalitiesProjectView):
    """A preview of the public page as it would read, and the button that publishes it."""

    template_name = "access/formalities/publish.html"

    def _context(self, form) -> dict:
        project = self.project
        first = not _has_page(project)
        reasons = workflow.reasons_against(project, "publish", self.request.user) if first else []
        preview = None
        if current_decision(project) is not None and not reasons:
            preview = build_snapshot(project, results=form.data or form.initial or None)
        return {
            "project": project,
            "form": form,
            "first": first,
            "reasons": reasons,
            "preview": snapshot_context(preview, project) if preview else None,
        }

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        initial = {}
        page = PublicPage.objects.filter(project=self.project).select_related("current").first()
        if page is not None:
            results = page.current.snapshot.get("results", {})
            sent = results.get("sent_to_pds") or None
            initial = {
                "results_status": results.get("status", "not_yet"),
                "results_summary": results.get("summary", ""),
                "publications": results.get("publications", ""),
                "results_sent_to_pds": date.fromisoformat(sent) if sent else None,
            }
        return TemplateResponse(
            request, self.template_name, self._context(PublishForm(initial=initial))
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = PublishForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                publication = publish_project(
                    project=self.project,
                    by=request.user,
                    results_status=data["results_status"],
                    results_summary=data["results_summary"],
                    publications=data["publications"],
                    results_sent_to_pds=data["results_sent_to_pds"],
                    change_note=data["change_note"],
                )
            except workflow.TransitionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(
                    request,
                    _("Version %(n)s of the public page is online.") % {"n": publication.number},
                )
                return redirect("project_publish", pk=self.project.pk)
        return TemplateResponse(request, self.template_name, self._context(form), status=400)
