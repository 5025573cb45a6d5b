"""Pages of provisioning: the data steward's list, a project's runs, a run with its progress
bar (htmx polling), cancel, key rotation, the expiring downloads of the named recipients, and
their download tokens for scripts (``download_tokens``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from access.formalities.gates import gate_state
from access.models_provisioning import DownloadToken, ProvisioningRun, RunStatus
from access.provisioning import (
    delivery,
    download_tokens,
    links,
    runs,
    selectors,
    serving,
    text_review,
)
from access.provisioning import summary as summary_module
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.views.base import PermissionView
from projects.models import Project
from warehouse.export.output import sha256_of


class ProvisioningListView(PermissionView):
    """Projects ready or blocked, runs in progress and the latest runs."""

    permission = Permission.START_RUN
    template_name = "access/provisioning/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = selectors.steward_overview(limit=50)
        context["recent"] = list(
            selectors.with_progress(
                ProvisioningRun.objects.select_related("project", "started_by")
            ).order_by("-created_at")[:20]
        )
        return TemplateResponse(request, self.template_name, context)


class _ProjectView(PermissionView):
    permission = Permission.VIEW_RUNS

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            # Strangers learn nothing of a project they may not see.
            self.project = get_object_for_user(
                request.user, Project, kwargs["pk"], Permission.VIEW_RUNS
            )
        return super().dispatch(request, *args, **kwargs)


class ProjectRunsView(_ProjectView):
    template_name = "access/provisioning/project.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        project = self.project
        can_start = has_permission(request.user, Permission.START_RUN)
        found = list(selectors.project_runs(project).select_related("project"))
        current = summary_module.in_force(found)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "runs": found,
                "summary": summary_module.summary(current) if current else None,
                "state": gate_state(project) if can_start else None,
                "can_start": can_start,
                "key_generation": selectors.current_key_generation(project) if can_start else None,
            },
        )


class StartRunView(_ProjectView):
    permission = Permission.START_RUN

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            run = runs.start_run(project=self.project, by=request.user)
        except runs.RunRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
            return redirect("provisioning_project", pk=self.project.pk)
        messages.success(
            request,
            _("Run %(run)s queued: a worker checks the gates, then writes the dataset.")
            % {"run": run.pk},
        )
        return redirect("provisioning_run", pk=run.pk)


class RotateKeyView(_ProjectView):
    permission = Permission.START_RUN

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        reason = request.POST.get("reason", "")[:1000]
        try:
            generation = runs.rotate_project_key(
                project=self.project, by=request.user, reason=reason
            )
        except runs.RunRefused as refused:
            for message in refused.reasons:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("The project key is now generation %(number)s: the next runs use new pseudonyms.")
                % {"number": generation.number},
            )
        return redirect("provisioning_project", pk=self.project.pk)


class _RunView(PermissionView):
    permission = Permission.VIEW_RUNS

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            self.run = get_object_for_user(
                request.user,
                selectors.with_progress(
                    ProvisioningRun.objects.select_related(
                        "project", "started_by", "cancelled_by", "decision", "superseded_by"
                    )
                ),
                kwargs["pk"],
                Permission.VIEW_RUNS,
            )
        return super().dispatch(request, *args, **kwargs)


def _progress_context(run: ProvisioningRun) -> dict:
    steps = run.parts_total + 1  # the parts, then the publication
    if run.status == RunStatus.PUBLISHED:
        value = steps
    elif run.status in (RunStatus.QUEUED,) or not run.parts_total:
        value = 0
    else:
        value = min(run.parts_done, run.parts_total)
    return {
        "run": run,
        "progress_value": value,
        "progress_max": max(steps, 1),
        # A run waiting for the text review waits for a person, not a worker: no polling.
        "polling": run.is_active and run.status != RunStatus.REVIEW,
    }


def _run_page(
    request: HttpRequest, run: ProvisioningRun, *, status: int = 200, **extra
) -> TemplateResponse:
    """The run page; ``extra`` adds a new download token or a refusal to its context."""
    context = _run_context(request, run)
    context.update(extra)
    response = TemplateResponse(request, RunDetailView.template_name, context, status=status)
    if "new_token" in extra:
        # The page holds the token itself: no cache keeps it.
        add_never_cache_headers(response)
    return response


class RunDetailView(_RunView):
    template_name = "access/provisioning/run.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return _run_page(request, self.run)


def _run_context(request: HttpRequest, run: ProvisioningRun) -> dict:
    recipient = has_permission(request.user, Permission.DOWNLOAD_DATASET, run)
    state = serving.dataset_state(run)
    serve = serving.may_serve(request.user, run) if recipient else None
    files = []
    if recipient and state.allowed:
        # The links only when this session may download; otherwise the list without links
        # and what to do (enrol, or enter the code), which brings the recipient back here.
        files = [
            {
                **entry,
                "url": links.download_url(run, entry["name"], request.user)
                if serve.allowed
                else "",
            }
            for entry in selectors.dataset_files(run)
        ]
    destruction = run.destruction if selectors.hasattr_destruction(run) else None
    context = {
        **_progress_context(run),
        "parts": list(run.parts.filter(build=run.build)),
        "files": files,
        "state": state,
        "serve": serve,
        "second_factor_next": urlencode({"next": reverse("provisioning_run", args=[run.pk])}),
        "destruction_reason": delivery.destruction_reason_label(destruction) if destruction else "",
        "is_recipient": recipient,
        "recipients": selectors.current_recipients(run),
        "can_manage": has_permission(request.user, Permission.START_RUN),
        "text_review": _text_review_context(request, run),
        "destruction": destruction,
        "access_ends_at": selectors.access_ends_at(run),
        "link_minutes": settings.EDS_DOWNLOAD_LINK_MINUTES,
        "summary": summary_module.summary(run),
        "download_tokens": download_tokens.active_tokens(request.user, run)
        if recipient and state.allowed
        else [],
        "token_minutes": int(download_tokens.lifetime().total_seconds() // 60),
        "api_files_url": request.build_absolute_uri(reverse("api_run_files", args=[run.pk])),
    }
    return context


def _text_review_context(request: HttpRequest, run: ProvisioningRun) -> dict | None:
    """The review of scrubbed notes as the run page says it (no note text on that page)."""
    sample = run.text_review_sample
    if not sample:
        return None
    return {
        "waiting": run.status == RunStatus.REVIEW,
        "size": sample.get("size"),
        "pool": sample.get("pool"),
        "reviewed_by": run.text_reviewed_by,
        "reviewed_at": run.text_reviewed_at,
        "may_review": has_permission(request.user, Permission.START_RUN),
    }


class TextReviewView(_RunView):
    """MIN-05's manual check: the data steward reads a random sample of the run's scrubbed notes
    and confirms that none still identifies anyone; publication waits for it.

    Patient-level data: the data steward only (``START_RUN``), every view audited (the run and
    the sample size, never a note's text); the page is not cached.
    """

    permission = Permission.START_RUN
    template_name = "access/provisioning/text_review.html"

    def _page(self, request: HttpRequest, *, status: int = 200, error: str = "") -> HttpResponse:
        notes = text_review.read_sample(self.run)
        if notes:
            text_review.record_sample_viewed(self.run, by=request.user, shown=len(notes))
        sample = self.run.text_review_sample or {}
        response = TemplateResponse(
            request,
            self.template_name,
            {
                "run": self.run,
                "notes": notes,
                "waiting": self.run.status == RunStatus.REVIEW,
                "pool": sample.get("pool"),
                "error": error,
                "checked": request.method == "POST" and request.POST.get("confirm") == "yes",
            },
            status=status,
        )
        add_never_cache_headers(response)
        return response

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._page(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.POST.get("confirm") != "yes":
            return self._page(
                request,
                status=400,
                error=_("Tick the box to confirm that you read every note of the sample."),
            )
        try:
            text_review.confirm_review(run=self.run, by=request.user)
        except text_review.ReviewRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
            return redirect("provisioning_run", pk=self.run.pk)
        messages.success(
            request, _("Review recorded: the dataset is being published with its free text.")
        )
        return redirect("provisioning_run", pk=self.run.pk)


class CreateDownloadTokenView(_RunView):
    """A named recipient, second factor passed, creates a download token for a script."""

    permission = Permission.DOWNLOAD_DATASET

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            # The run is looked up as a reader would: the team sees it, strangers get 404.
            self.run = get_object_for_user(
                request.user,
                selectors.with_progress(
                    ProvisioningRun.objects.select_related(
                        "project", "started_by", "cancelled_by", "decision", "superseded_by"
                    )
                ),
                kwargs["pk"],
                Permission.VIEW_RUNS,
            )
        return super(_RunView, self).dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            token, value = download_tokens.create_download_token(run=self.run, by=request.user)
        except download_tokens.DownloadTokenRefused as refused:
            decision = refused.decision
            if decision.refusal in (serving.Refusal.UNKNOWN, serving.Refusal.NOT_PUBLISHED):
                raise Http404 from refused
            return _run_page(request, self.run, status=decision.http_status, token_refusal=decision)
        return _run_page(request, self.run, new_token=value, new_token_row=token)


class RevokeDownloadTokenView(CreateDownloadTokenView):
    """The token's owner revokes it: scripts using it are refused from now on."""

    def post(self, request: HttpRequest, pk: int, token: int) -> HttpResponse:
        row = DownloadToken.objects.filter(pk=token, run=self.run, user=request.user).first()
        if row is None:
            raise Http404
        if download_tokens.revoke_download_token(token=row, by=request.user):
            messages.success(
                request, _("The download token is revoked: scripts using it are refused.")
            )
        return redirect("provisioning_run", pk=self.run.pk)


class RunProgressView(_RunView):
    """The progress fragment that the run page polls every 2 seconds while the run is active."""

    template_name = "access/provisioning/_progress.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = TemplateResponse(request, self.template_name, _progress_context(self.run))
        if not self.run.is_active or self.run.status == RunStatus.REVIEW:
            # The run is over (or waits for the text review): reload the page once, to show its
            # files, its reasons or the link to the review.
            response["HX-Refresh"] = "true"
        return response


class CancelRunView(_RunView):
    permission = Permission.START_RUN

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            runs.cancel_run(run=self.run, by=request.user)
        except runs.RunRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
        else:
            messages.success(request, _("The run is cancelled."))
        return redirect("provisioning_run", pk=self.run.pk)


class DownloadView(PermissionView):
    """A file of a published dataset, for a named recipient, through a link that expires.

    ``serving.may_serve`` decides at every request: a link issued before a suspension, a
    replacement, a destruction or the end of access no longer works; a recipient who has not
    passed the second factor in this session is sent to it, then back to the file.
    """

    permission = Permission.DOWNLOAD_DATASET

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            grant = links.read_token(token)
        except links.LinkExpired:
            return TemplateResponse(
                request,
                "access/provisioning/link_expired.html",
                {"minutes": settings.EDS_DOWNLOAD_LINK_MINUTES},
                status=410,
            )
        except links.LinkInvalid as exc:
            raise Http404 from exc
        if grant.user_id != request.user.pk:
            raise Http404
        run = (
            ProvisioningRun.objects.select_related("project", "decision", "superseded_by")
            .filter(pk=grant.run_id)
            .first()
        )
        if run is None:
            raise Http404
        decision = serving.may_serve(request.user, run, grant.file_name)
        if decision.refusal in (serving.Refusal.UNKNOWN, serving.Refusal.NOT_PUBLISHED):
            raise Http404
        if decision.needs_second_factor:
            # SEC-03: enrol (or verify) first, then back to this very file.
            target = (
                "two_factor_setup"
                if decision.refusal == serving.Refusal.ENROL_SECOND_FACTOR
                else "two_factor_verify"
            )
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse(target)}?{query}")
        if not decision.allowed:
            delivery.record_refused_download(
                run=run, file_name=grant.file_name, refusal=decision.refusal, by=request.user
            )
            return TemplateResponse(
                request,
                "access/provisioning/download_refused.html",
                {"run": run, "decision": decision},
                status=decision.http_status,
            )
        path = selectors.file_path(run, grant.file_name)
        if path is None:
            raise Http404
        listed = {entry["name"]: entry.get("sha256") for entry in selectors.dataset_files(run)}
        digest = listed.get(grant.file_name) or sha256_of(path)
        delivery.record_download(run=run, file_name=grant.file_name, sha256=digest, by=request.user)
        response = FileResponse(path.open("rb"), as_attachment=True, filename=grant.file_name)
        response["Cache-Control"] = "no-store"
        return response
