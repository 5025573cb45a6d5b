"""Pages of output checking: the team's requests, the checkers' queue and review, downloads.

A checker sees the other checker's verdict on a version only after giving their own, so that
each judges independently (as OpenSAFELY's Airlock does).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_outputs import (
    CellUnit,
    OutputItem,
    OutputItemStatus,
    OutputKind,
    OutputRequest,
    OutputVersion,
    ReviewVerdict,
)
from access.outputs import actions, checks
from access.outputs.files import accept_attribute
from access.provisioning import serving
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.views.base import PermissionView
from projects.permissions import is_lead
from projects.uploads import max_upload_megabytes
from projects.views import ProjectView


class NewRequestForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title of the request"), max_length=200)


class OutputItemForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of output"), choices=OutputKind.choices)
    title = forms.CharField(label=gettext_lazy("Short title"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("What it shows, from which data, for which publication."),
    )
    cell_unit = forms.ChoiceField(
        label=gettext_lazy("For a table: what each cell counts"),
        choices=[("", "—"), *CellUnit.choices],
        required=False,
    )
    variables_crossed = forms.CharField(
        label=gettext_lazy("For a table: the variables crossed"),
        required=False,
        help_text=gettext_lazy("For instance: age band, département and month."),
    )
    magnitude = forms.BooleanField(
        label=gettext_lazy("Table of magnitudes (sums, means) rather than counts"), required=False
    )
    declared_counts = forms.CharField(
        label=gettext_lazy("For a figure: the counts it is drawn from"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One “label; count” per line."),
    )
    # The file comes last: if it is dropped for its size, the fields before it are kept.
    file = forms.FileField(label=gettext_lazy("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "Tables: CSV or XLSX; figures: PNG, SVG or PDF; texts: TXT or PDF; "
            "%(limit)s MB at most. The type is checked from the content."
        ) % {"limit": max_upload_megabytes()}


class NewVersionForm(forms.Form):
    declared_counts = forms.CharField(
        label=gettext_lazy("For a figure: the counts it is drawn from"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    file = forms.FileField(label=gettext_lazy("Corrected file"))


class JustificationForm(forms.Form):
    justification = forms.CharField(
        label=gettext_lazy("Justification of the exception"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Why the flagged cells reveal nothing about anybody (a structural zero, a margin "
            "published elsewhere...). The checkers judge it."
        ),
    )


class PublicListingForm(forms.Form):
    publication_reference = forms.CharField(
        label=gettext_lazy("Publication (reference, DOI or link)"), max_length=500, required=False
    )


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=gettext_lazy("Your verdict"), choices=ReviewVerdict.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment for the team"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Required when you ask for changes or reject."),
    )


def _described(version: OutputVersion | None) -> list[dict]:
    if version is None:
        return []
    return [{**finding, "message": checks.describe(finding)} for finding in version.findings]


class ProjectOutputsView(ProjectView):
    """The project's output requests, and a new one (team members only)."""

    permission = Permission.REQUEST_OUTPUTS
    object_permission = Permission.REQUEST_OUTPUTS
    template_name = "access/outputs/project.html"

    def _render(self, request: HttpRequest, form: NewRequestForm, status: int = 200):
        output_requests = list(
            self.project.output_requests.select_related("created_by").prefetch_related("items")
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": self.project,
                "output_requests": output_requests,
                "form": form,
                "may_request": self.project.status in actions.REQUESTING_STATUSES,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, NewRequestForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = NewRequestForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            created = actions.create_output_request(
                project=self.project, title=form.cleaned_data["title"], by=request.user
            )
        except actions.OutputRefused as refused:
            form.add_error(None, str(refused))
            return self._render(request, form, status=409)
        return redirect("output_request", pk=created.pk)


class OutputRequestView(PermissionView):
    """One request: its outputs, what the checks found per file and per cell, the forms."""

    permission = Permission.REQUEST_OUTPUTS
    template_name = "access/outputs/request.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            found = OutputRequest.objects.select_related("project").filter(pk=kwargs["pk"]).first()
            if found is None or not has_permission(
                request.user, Permission.REQUEST_OUTPUTS, found.project
            ):
                raise Http404
            self.output_request = found
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request: HttpRequest, *, form=None, errors=(), status: int = 200):
        output_request = self.output_request
        items = list(output_request.items.prefetch_related("versions__reviews"))
        rows = []
        for item in items:
            version = item.current_version
            released = item.status == OutputItemStatus.RELEASED
            rows.append(
                {
                    "item": item,
                    "version": version,
                    "findings": _described(version),
                    "editable": item.status in actions.EDITABLE_ITEM_STATUSES,
                    # The team reads the verdicts' comments once the version is decided.
                    "reviews": (
                        list(version.reviews.all())
                        if version and item.status != OutputItemStatus.SUBMITTED
                        else []
                    ),
                    "released": released,
                }
            )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": output_request.project,
                "output_request": output_request,
                "rows": rows,
                "form": form or OutputItemForm(),
                "version_form": NewVersionForm(),
                "justification_form": JustificationForm(),
                "listing_form": PublicListingForm(),
                "is_lead": is_lead(request.user, output_request.project),
                "errors": errors,
                "threshold": actions.threshold(),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request)

    def _item(self, request: HttpRequest) -> OutputItem:
        try:
            item_id = int(request.POST.get("item", ""))
        except ValueError:
            raise Http404 from None
        item = self.output_request.items.filter(pk=item_id).first()
        if item is None:
            raise Http404
        return item

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        action = request.POST.get("action")
        try:
            if action == "add":
                form = OutputItemForm(request.POST, request.FILES)
                if not form.is_valid():
                    return self._render(request, form=form, status=400)
                data = form.cleaned_data
                actions.add_output_item(
                    request=self.output_request,
                    kind=data["kind"],
                    title=data["title"],
                    description=data["description"],
                    cell_unit=data["cell_unit"],
                    variables_crossed=data["variables_crossed"],
                    magnitude=data["magnitude"],
                    declared_counts=data["declared_counts"],
                    upload=data["file"],
                    by=request.user,
                )
                messages.success(request, _("The output was added and checked."))
            elif action == "version":
                form = NewVersionForm(request.POST, request.FILES)
                if not form.is_valid():
                    return self._render(
                        request, errors=[_("Choose the corrected file.")], status=400
                    )
                actions.add_output_version(
                    item=self._item(request),
                    upload=form.cleaned_data["file"],
                    declared_counts=form.cleaned_data["declared_counts"] or None,
                    by=request.user,
                )
                messages.success(request, _("The new version was stored and checked."))
            elif action == "justify":
                form = JustificationForm(request.POST)
                if not form.is_valid():
                    return self._render(request, errors=[_("Write the justification.")], status=400)
                actions.justify_output(
                    item=self._item(request),
                    justification=form.cleaned_data["justification"],
                    by=request.user,
                )
                messages.success(request, _("The justification was saved."))
            elif action == "submit":
                actions.submit_output_request(request=self.output_request, by=request.user)
                messages.success(request, _("The outputs were sent to the output checkers."))
            elif action == "list":
                form = PublicListingForm(request.POST)
                form.is_valid()
                actions.list_output_publicly(
                    item=self._item(request),
                    publication_reference=form.cleaned_data.get("publication_reference", ""),
                    by=request.user,
                )
                messages.success(request, _("The result is listed on the project's public page."))
            else:
                return self._render(request, status=400)
        except (actions.OutputRefused, actions.UploadRefused) as refused:
            reasons = getattr(refused, "reasons", None) or [str(refused)]
            return self._render(request, errors=[str(r) for r in reasons], status=409)
        return redirect("output_request", pk=pk)


class CheckerQueueView(PermissionView):
    """Outputs waiting for checkers, among those this checker may check."""

    permission = Permission.CHECK_OUTPUTS
    template_name = "access/outputs/queue.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        waiting = (
            OutputItem.objects.filter(status=OutputItemStatus.SUBMITTED)
            .select_related("request__project")
            .prefetch_related("versions__reviews", "request__project__memberships__user")
            .order_by("request__submitted_at", "pk")
        )
        rows = []
        for item in waiting:
            if not has_permission(request.user, Permission.CHECK_OUTPUTS, item):
                continue
            version = item.current_version
            reviews = list(version.reviews.all()) if version else []
            rows.append(
                {
                    "item": item,
                    "version": version,
                    "reviewed": any(r.checker_id == request.user.pk for r in reviews),
                    "review_count": len(reviews),
                }
            )
        return TemplateResponse(request, self.template_name, {"rows": rows})


class OutputCheckView(PermissionView):
    """One output for a checker: the file, the automatic findings, the justification, and the
    verdict form; the other checker's verdict only after this one's."""

    permission = Permission.CHECK_OUTPUTS
    template_name = "access/outputs/check.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            self.item = get_object_for_user(
                request.user,
                OutputItem.objects.select_related("request__project"),
                kwargs["pk"],
                Permission.CHECK_OUTPUTS,
            )
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request: HttpRequest, form: ReviewForm, status: int = 200):
        item = self.item
        version = item.versions.order_by("-number").first()
        reviews = list(version.reviews.select_related("checker")) if version else []
        mine = next((r for r in reviews if r.checker_id == request.user.pk), None)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "item": item,
                "project": item.request.project,
                "version": version,
                "findings": _described(version),
                "mine": mine,
                # Independence: the other verdicts stay hidden until this checker gave theirs.
                "others": [r for r in reviews if r is not mine] if mine else [],
                "form": form,
                "may_review": mine is None and item.status == OutputItemStatus.SUBMITTED,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, ReviewForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ReviewForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            actions.review_output(
                item=self.item,
                verdict=form.cleaned_data["verdict"],
                comment=form.cleaned_data["comment"],
                by=request.user,
            )
        except actions.OutputRefused as refused:
            form.add_error(None, str(refused))
            return self._render(request, form, status=409)
        messages.success(request, _("Your verdict was recorded."))
        return redirect("output_check", pk=pk)


class CheckerFileView(PermissionView):
    """The file under review, for a checker who may check it; every read is in the trail."""

    permission = Permission.CHECK_OUTPUTS

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = OutputVersion.objects.select_related("item__request__project").filter(pk=pk)
        version = version.first()
        if version is None or not has_permission(
            request.user, Permission.CHECK_OUTPUTS, version.item
        ):
            raise Http404
        actions.record_checker_read(version=version, by=request.user)
        return FileResponse(
            version.file.open("rb"),
            as_attachment=True,
            filename=version.original_name,
            content_type=version.content_type,
        )


class ReleasedOutputDownloadView(PermissionView):
    """A released output, for the project's team, with the second factor (SEC-03)."""

    permission = Permission.DOWNLOAD_RELEASED_OUTPUT

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = (
            OutputItem.objects.select_related("request__project", "released_version")
            .filter(pk=pk)
            .first()
        )
        if item is None:
            raise Http404
        decision = serving.may_serve_output(request.user, item)
        if decision.refusal == serving.Refusal.UNKNOWN:
            raise Http404
        if decision.needs_second_factor:
            target = (
                "two_factor_setup"
                if decision.refusal == serving.Refusal.ENROL_SECOND_FACTOR
                else "two_factor_verify"
            )
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        if not decision.allowed:
            raise Http404
        version = item.released_version
        stored = version.release_file or version.file
        actions.record_output_download(item=item, by=request.user)
        return FileResponse(
            stored.open("rb"),
            as_attachment=True,
            filename=f"{item.release_number}-{version.original_name}",
            content_type=version.content_type,
        )


class ClosingReportForm(forms.Form):
    results_summary = forms.CharField(
        label=gettext_lazy("Results in plain words"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Shown on the project's public page once it is closed."),
    )
    publications = forms.CharField(
        label=gettext_lazy("Publications (references, DOI or links), one per line"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    no_results_reason = forms.CharField(
        label=gettext_lazy("Or: why there is no publication"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    copies_destroyed = forms.BooleanField(
        label=gettext_lazy(
            "I confirm that every copy of the delivered data (downloads, working copies, "
            "backups) was destroyed."
        ),
        required=False,
    )


class ClosingReportView(ProjectView):
    """The lead's final report, before the secretariat closes the project."""

    permission = Permission.REQUEST_OUTPUTS
    object_permission = Permission.REQUEST_OUTPUTS
    template_name = "access/outputs/closeout.html"

    def _render(self, request: HttpRequest, form: ClosingReportForm, status: int = 200):
        from access.models_outputs import ClosingReport
        from access.outputs.closeout import results_due_on

        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": self.project,
                "form": form,
                "report": ClosingReport.objects.filter(project=self.project).first(),
                "is_lead": is_lead(request.user, self.project),
                "due_on": results_due_on(self.project),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, ClosingReportForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from access.outputs.closeout import submit_closing_report

        form = ClosingReportForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            submit_closing_report(project=self.project, by=request.user, **form.cleaned_data)
        except actions.OutputRefused as refused:
            for reason in refused.reasons:
                form.add_error(None, str(reason))
            return self._render(request, form, status=409)
        messages.success(request, _("The final report was recorded."))
        return redirect("project_closeout", pk=pk)


class NameCheckerForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address of the person's account"),
        max_length=254,
        help_text=gettext_lazy(
            "The person needs an account (invite them first) and signs in with a second factor."
        ),
    )
    validated_by = forms.CharField(
        label=gettext_lazy("Validated by (line manager)"),
        max_length=200,
        help_text=gettext_lazy("The person who approved this naming, as for every staff role."),
    )
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("The last day of the naming; it ends by itself after it."),
    )


class OutputCheckersView(PermissionView):
    """The data office names output checkers and ends their naming (MIN-09)."""

    permission = Permission.NAME_OUTPUT_CHECKERS
    template_name = "access/outputs/checkers.html"

    def _render(self, request: HttpRequest, form: NameCheckerForm, *, errors=(), status=200):
        from access.outputs.checkers import checker_grants, named_checkers

        grants = checker_grants()
        checkers = list(named_checkers())
        for checker in checkers:
            checker.grant = grants.get(checker.pk)
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "checkers": checkers, "errors": errors},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, NameCheckerForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        from access.outputs import checkers

        action = request.POST.get("action")
        if action == "end":
            user = checkers.named_checkers().filter(pk=_int(request.POST.get("user"))).first()
            if user is None:
                return self._render(request, NameCheckerForm(), status=400)
            try:
                checkers.end_output_checker(user=user, by=request.user)
            except actions.OutputRefused as refused:
                return self._render(request, NameCheckerForm(), errors=[str(refused)], status=409)
            messages.success(request, _("The naming of this output checker has ended."))
            return redirect("output_checkers")
        form = NameCheckerForm(request.POST)
        if action != "name" or not form.is_valid():
            return self._render(request, form, status=400)
        try:
            checkers.name_output_checker(by=request.user, **form.cleaned_data)
        except actions.OutputRefused as refused:
            form.add_error("email", str(refused))
            return self._render(request, form, status=409)
        messages.success(request, _("The output checker was named."))
        return redirect("output_checkers")


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


__all__ = [
    "CheckerFileView",
    "CheckerQueueView",
    "ClosingReportView",
    "OutputCheckView",
    "OutputCheckersView",
    "OutputRequestView",
    "ProjectOutputsView",
    "ReleasedOutputDownloadView",
    "accept_attribute",
]
