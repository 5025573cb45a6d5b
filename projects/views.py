"""The researcher's pages: projects, sections of the draft, submission, versions, withdrawal."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.authz import (
    Permission,
    get_object_for_user,
    has_permission,
    has_role,
    is_commission,
)
from eds_portal.forms import querydict_from
from eds_portal.hostile_input import HOSTILE_TEXT_MESSAGE, has_hostile_text
from eds_portal.roles import Role
from eds_portal.views.base import PermissionView
from projects import workflow
from projects.actions import (
    NotEditable,
    check_admissibility,
    create_project,
    save_section,
    submission_transition,
    submit_project,
    withdraw_project,
)
from projects.completeness import missing_items
from projects.models import AMENDABLE_STATUSES, Project, ProtocolVersion, TeamMembership
from projects.page_sections import render_page_sections
from projects.reading import draft_reading, version_pdf, version_reading
from projects.regulatory_route import propose_route
from projects.sections import (
    BY_KEY,
    SECTIONS,
    bound_form,
    initial_values,
    raw_from_post,
    shown_errors,
)
from warehouse import catalogue
from warehouse.catalogue_groups import GROUP_DESCRIPTIONS, grouped

PENDING_KEY = "projects:pending-section"


def visible_projects(user):
    """Projects the user may know exist."""
    projects = Project.objects.all()
    if has_role(user, Role.SECRETARIAT, Role.DPO):
        return projects
    from projects.conflicts import REVIEW_STATUSES, automatic_conflict

    if not is_commission(user):
        return projects.filter(memberships__user=user).distinct()
    # Files in review this member declared no interest in, minus automatic conflicts (the
    # teams are prefetched: no query per project).
    readable = [
        project.pk
        for project in Project.objects.filter(
            status__in=REVIEW_STATUSES,
            conflict_declarations__member=user,
            conflict_declarations__has_interest=False,
        ).prefetch_related("memberships__user")
        if not automatic_conflict(user, project)
    ]
    return projects.filter(Q(memberships__user=user) | Q(pk__in=readable)).distinct()


class ProjectView(PermissionView):
    """A page about one project: 404 for those who may not know it, 403 for the rest."""

    permission = Permission.VIEW_PROJECT
    object_permission: Permission = Permission.VIEW_PROJECT

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        project = get_object_for_user(
            request.user,
            Project.objects.select_related("draft"),
            kwargs["pk"],
            Permission.VIEW_PROJECT,
        )
        if not has_permission(request.user, self.object_permission, project):
            raise PermissionDenied
        self.project = project
        return super(PermissionView, self).dispatch(request, *args, **kwargs)


class ProjectListView(PermissionView):
    permission = Permission.VIEW_PROJECT
    template_name = "projects/project_list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        projects = (
            visible_projects(request.user)
            .annotate(
                version_count=Count("versions", distinct=True),
                last_submitted=Max("versions__submitted_at"),
            )
            .prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=TeamMembership.objects.filter(user=request.user),
                    to_attr="my_membership",
                )
            )
            .order_by("-updated_at")
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "projects": projects,
                "can_create": has_permission(request.user, Permission.CREATE_PROJECT),
            },
        )


class NewProjectForm(forms.Form):
    title = forms.CharField(
        label=_("Working title"),
        max_length=300,
        help_text=_("You can change it later in the identification section."),
    )


class ProjectCreateView(PermissionView):
    permission = Permission.CREATE_PROJECT
    template_name = "projects/project_new.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(request, self.template_name, {"form": NewProjectForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = NewProjectForm(request.POST)
        if not form.is_valid():
            return TemplateResponse(request, self.template_name, {"form": form}, status=400)
        project = create_project(by=request.user, title=form.cleaned_data["title"])
        messages.success(
            request,
            _(
                "Project %(ref)s created. Fill in its sections in any "
                "order; everything you save is kept."
            )
            % {"ref": project.reference},
        )
        return redirect("project_detail", pk=project.pk)


def _section_states(project: Project, missing) -> list[dict]:
    by_section: dict[str, int] = {}
    for item in missing:
        by_section[item.section] = by_section.get(item.section, 0) + 1
    content = project.draft.content
    return [
        {
            "section": section,
            "started": section.key in content,
            "missing": by_section.get(section.key, 0),
        }
        for section in SECTIONS
    ]


# Where the lifecycle page may offer something (saves the workflow's checks elsewhere).
LIFECYCLE_PAGE_STATUSES = frozenset({"active", "suspended"})


class ProjectDetailView(ProjectView):
    template_name = "projects/project_detail.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        project = self.project
        missing = missing_items(project) if project.is_editable else []
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "sections": _section_states(project, missing),
                "missing": missing,
                "versions": project.versions.select_related("submitted_by").order_by("-number"),
                "team": project.memberships.select_related("user").order_by("role"),
                "attachments": project.attachments.filter(removed_at__isnull=True),
                "can_edit": has_permission(request.user, Permission.EDIT_PROJECT, project),
                "can_submit": has_permission(request.user, Permission.SUBMIT_PROJECT, project)
                and project.is_editable,
                "can_withdraw": any(
                    t.name == "withdraw" for t in workflow.available(project, request.user)
                ),
                "can_change_lifecycle": project.status in LIFECYCLE_PAGE_STATUSES
                and bool(workflow.lifecycle_available(project, request.user)),
                "can_check_admissibility": project.status == "submitted"
                and has_permission(request.user, Permission.CHECK_ADMISSIBILITY, project),
                "last_return": project.admissibility_checks.filter(decision="returned")
                .select_related("version")
                .first()
                if project.status == "incomplete"
                else None,
                **_amendment_context(project, request.user),
                "commission_sections": render_page_sections(request, project),
            },
        )


def _amendment_context(project: Project, user) -> dict:
    """The amendment panel of the project page (GOV-13): the one in progress, what the lead may
    do with it, and the earlier ones."""
    if project.status not in AMENDABLE_STATUSES | {"suspended"}:
        return {"can_open_amendment": False, "amendment": None, "past_amendments": []}
    amendments = list(
        project.amendments.select_related("base_version", "version", "decision").order_by("-number")
    )
    pending = next((a for a in amendments if a.is_pending), None)
    lead = has_permission(user, Permission.SUBMIT_PROJECT, project)
    return {
        "amendment": pending,
        "past_amendments": [a for a in amendments if not a.is_pending],
        "can_open_amendment": lead
        and not workflow.amendment_reasons_against(project, "open_amendment", user),
        "can_cancel_amendment": lead
        and pending is not None
        and not workflow.amendment_reasons_against(
            project, "cancel_amendment", user, amendment=pending
        ),
        "amendment_suspended": project.status == "suspended",
    }


class SectionEditView(ProjectView):
    """One section of the draft. Saving always stores what was typed, then shows the errors."""

    object_permission = Permission.EDIT_PROJECT
    # Text holding a NUL byte or a control character is refused here, not by the middleware:
    # the form comes back with what was typed, and the stored draft is left as it was.
    keeps_hostile_text = True

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and not request.user.is_authenticated:
            # The session expired while typing: keep the text in the new anonymous session
            # and give it back after the login (nothing typed is lost).
            request.session[PENDING_KEY] = {
                "path": request.path,
                "raw": raw_from_post(request.POST),
            }
            messages.warning(
                request,
                _(
                    "Your session expired. Sign in again: what you typed "
                    "is kept and will be shown back to you."
                ),
            )
            return redirect_to_login(request.path)
        if kwargs.get("key") not in BY_KEY:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request, form, *, status=200, restored=False):
        section = self.section
        context = {
            "project": self.project,
            "section": section,
            "form": form,
            "sections": SECTIONS,
            "restored": restored,
        }
        if section.key == "route" and form.is_bound:
            context["proposal"] = propose_route(form.data)
        if section.key == "data_request":
            context.update(_data_request_context(form))
        return TemplateResponse(
            request, f"projects/section_{_template_for(section.key)}.html", context, status=status
        )

    def get(self, request: HttpRequest, pk: int, key: str) -> HttpResponse:
        self.section = BY_KEY[key]
        pending = request.session.get(PENDING_KEY)
        if pending and pending.get("path") == request.path:
            del request.session[PENDING_KEY]
            form = self.section.form_class(querydict_from(pending["raw"]))
            shown_errors(form)
            return self._render(request, form, restored=True)
        form = bound_form(
            self.section,
            self.project.draft.content,
            initial=initial_values(self.section, self.project),
        )
        if form.is_bound:
            # A section someone saved: show what it still lacks. One never saved shows no error
            # (the user has not acted yet).
            shown_errors(form)
        return self._render(request, form)

    def post(self, request: HttpRequest, pk: int, key: str) -> HttpResponse:
        self.section = BY_KEY[key]
        raw = raw_from_post(request.POST)
        if has_hostile_text(raw):
            return self._refuse_hostile_text(request, raw)
        try:
            save_section(project=self.project, section_key=key, raw=raw, by=request.user)
        except NotEditable:
            messages.error(request, _("This project can no longer be edited."))
            return redirect("project_detail", pk=pk)
        form = self.section.form_class(querydict_from(raw))
        if shown_errors(form):
            messages.success(request, _("Section saved and complete."))
            if request.POST.get("action") == "next":
                following = _next_section(key)
                if following:
                    return redirect("project_section", pk=pk, key=following)
            return redirect("project_detail", pk=pk)
        if form.errors:
            messages.info(
                request,
                _(
                    "Saved as a draft. The fields marked below still need attention before "
                    "submission."
                ),
            )
        else:
            # Only the confirmation of the route is missing, and its box appears now.
            messages.info(
                request,
                _("Saved. Read the proposed route below, tick the box to confirm it, then save."),
            )
        return self._render(request, form)

    def _refuse_hostile_text(self, request, raw) -> HttpResponse:
        form = self.section.form_class(querydict_from(raw))
        form.is_valid()
        hostile = [name for name, value in raw.items() if has_hostile_text([name, value])]
        for name in hostile:
            form.add_error(name if name in form.fields else None, HOSTILE_TEXT_MESSAGE)
        messages.error(
            request, _("Not saved: the text holds a control character. What was saved stays.")
        )
        return self._render(request, form, status=400)


def _template_for(key: str) -> str:
    return key if key in {"route", "data_request"} else "generic"


def _next_section(key: str) -> str | None:
    keys = [section.key for section in SECTIONS]
    index = keys.index(key)
    return keys[index + 1] if index + 1 < len(keys) else None


def _data_request_context(form) -> dict:
    """The picker: the variables by what they mean to a clinician (warehouse.catalogue_groups)."""
    groups = [
        {
            "group": group,
            "description": GROUP_DESCRIPTIONS.get(group, ""),
            "rows": [
                {
                    "variable": variable,
                    "selected": form[f"var__{variable.code}"],
                    "justification": form[f"just__{variable.code}"],
                    "generalisation": form[f"gen__{variable.code}"],
                    "notes": form.generalisation_notes.get(variable.code, []),
                }
                for variable in variables
            ],
        }
        for group, variables in grouped(catalogue.exportable_variables())
    ]
    for item in groups:
        # Open where something was chosen or needs attention; the rest stays folded.
        item["open"] = any(
            row["selected"].value() or row["justification"].errors or row["generalisation"].errors
            for row in item["rows"]
        )
    return {"variable_groups": groups, "criteria_form": form.criteria_form}


class SubmitView(ProjectView):
    object_permission = Permission.SUBMIT_PROJECT
    template_name = "projects/submit.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        project = self.project
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "missing": missing_items(project) if project.is_editable else [],
                "reasons": workflow.reasons_against(project, _submit_name(project), request.user),
            },
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            version = submit_project(project=self.project, by=request.user)
        except workflow.TransitionRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
            return redirect("project_submit", pk=pk)
        messages.success(
            request,
            _(
                "Version %(n)s submitted. The secretariat has been told and "
                "the team will receive a confirmation by e-mail."
            )
            % {"n": version.number},
        )
        return redirect("project_version", pk=pk, number=version.number)


def _submit_name(project: Project) -> str:
    return submission_transition(project)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the withdrawal"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class WithdrawView(ProjectView):
    object_permission = Permission.SUBMIT_PROJECT
    template_name = "projects/withdraw.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return TemplateResponse(
            request, self.template_name, {"project": self.project, "form": WithdrawForm()}
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                withdraw_project(
                    project=self.project, by=request.user, reason=form.cleaned_data["reason"]
                )
            except workflow.TransitionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, _("The project has been withdrawn."))
                return redirect("project_detail", pk=pk)
        return TemplateResponse(
            request, self.template_name, {"project": self.project, "form": form}, status=400
        )


def _version(project: Project, number: int) -> ProtocolVersion:
    return get_object_or_404(
        ProtocolVersion.objects.select_related("submitted_by", "project"),
        project=project,
        number=number,
    )


class VersionDetailView(ProjectView):
    """A submitted version, complete and printable: what the commission reads and decides on."""

    template_name = "projects/version_detail.html"

    def get(self, request: HttpRequest, pk: int, number: int) -> HttpResponse:
        version = _version(self.project, number)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": self.project,
                "version": version,
                "reading": version_reading(version),
                "for_pdf": False,
            },
        )


class VersionPdfView(ProjectView):
    """The same version as a tagged PDF; every download is written in the trail."""

    def get(self, request: HttpRequest, pk: int, number: int) -> HttpResponse:
        version = _version(self.project, number)
        pdf = version_pdf(version)
        record_event(
            action="protocol.version_pdf_downloaded",
            actor=request.user,
            target=self.project,
            after={"version": version.number, "content_sha256": version.content_sha256},
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        filename = f"{self.project.reference}-v{version.number}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class DraftPreviewView(ProjectView):
    """The draft as the commission will read it, for those who write it, before submitting."""

    object_permission = Permission.EDIT_PROJECT
    template_name = "projects/reading/preview.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        project = self.project
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "reading": draft_reading(project),
                "missing": missing_items(project),
                "can_submit": has_permission(request.user, Permission.SUBMIT_PROJECT, project),
                "for_pdf": False,
            },
        )


class OpenAmendmentView(ProjectView):
    """After approval, the lead opens an amendment: the draft starts again from the version in
    force and becomes editable; access continues under the decision in force (GOV-13)."""

    object_permission = Permission.SUBMIT_PROJECT

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            workflow.open_amendment(self.project, by=request.user)
        except workflow.TransitionRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
        else:
            messages.success(
                request,
                _(
                    "Amendment opened: edit the sections, then submit the "
                    "amendment to the commission."
                ),
            )
        return redirect("project_detail", pk=pk)


class CancelAmendmentView(ProjectView):
    """The lead gives up the amendment being written; the draft goes back to the version in
    force (what it held is kept with the amendment)."""

    object_permission = Permission.SUBMIT_PROJECT

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        try:
            workflow.cancel_amendment(self.project, by=request.user)
        except workflow.TransitionRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
        else:
            messages.success(
                request, _("Amendment cancelled: the approved protocol in force is unchanged.")
            )
        return redirect("project_detail", pk=pk)


class AdmissibilityForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("accept", _("The file is complete: accept it for review")),
            ("return", _("Items are missing: return it to the team")),
        ],
        widget=forms.RadioSelect,
    )
    missing_items = forms.CharField(
        label=_("Missing items"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Required when returning the file: the team receives this list."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "return" and not cleaned.get("missing_items", "").strip():
            self.add_error("missing_items", _("List the missing items for the team."))
        return cleaned


class AdmissibilityView(ProjectView):
    """The secretariat checks that a submitted version is complete."""

    object_permission = Permission.CHECK_ADMISSIBILITY
    template_name = "projects/admissibility.html"

    def _render(self, request, form, status=200):
        project = self.project
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "form": form,
                "version": project.versions.order_by("-number").first(),
                "checks": project.admissibility_checks.select_related("decided_by", "version"),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, AdmissibilityForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = AdmissibilityForm(request.POST)
        if form.is_valid():
            try:
                check_admissibility(
                    project=self.project,
                    by=request.user,
                    accept=form.cleaned_data["decision"] == "accept",
                    missing_items=form.cleaned_data["missing_items"],
                )
            except workflow.TransitionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, _("Decision recorded; the team has been told."))
                return redirect("project_detail", pk=pk)
        return self._render(request, form, status=400)


class InterestForm(forms.Form):
    has_interest = forms.ChoiceField(
        label=_("Your interests in this project"),
        choices=[
            ("no", _("I have no interest in this project")),
            ("yes", _("I have an interest, described below")),
        ],
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("Description of the interest"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Links with the team, the controller, the funders or the subject; "
            "required when you declare an interest."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("has_interest") == "yes" and not cleaned.get("description", "").strip():
            self.add_error("description", _("Describe the interest."))
        return cleaned


class InterestDeclarationView(PermissionView):
    """Before reading a file, a commission member declares their interests (GOV-10).

    The page shows only what a member needs to judge a conflict: the reference, the public
    title and every party of the protocol (controller, processors, funders, platform, the
    team's organisations: ``conflicts.parties``), never the file itself. A member who declared
    an interest asks the secretariat to withdraw it here (``projects/interest_views.py``).
    """

    permission = Permission.DECLARE_INTEREST
    template_name = "projects/interests.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        from projects.conflicts import REVIEW_STATUSES

        if request.user.is_authenticated:
            project = Project.objects.filter(pk=kwargs["pk"], status__in=REVIEW_STATUSES).first()
            if project is not None and not has_permission(request.user, self.permission):
                # An external expert declares through their grant on this one file.
                if has_permission(request.user, self.permission, project):
                    self.project = project
                    return super(PermissionView, self).dispatch(request, *args, **kwargs)
            elif has_permission(request.user, self.permission):
                if project is None:
                    raise Http404
                self.project = project
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request, form, status=200, withdrawal_form=None):
        from projects.conflicts import automatic_conflict, declaration_of, parties
        from projects.interest_views import WithdrawalRequestForm
        from projects.models import InterestWithdrawal, WithdrawalStatus

        project = self.project
        declaration = declaration_of(request.user, project)
        latest = (
            InterestWithdrawal.objects.filter(project=project, member=request.user)
            .order_by("-requested_at", "-pk")
            .first()
        )
        can_ask = (
            declaration is not None
            and declaration.has_interest
            and (latest is None or latest.status != WithdrawalStatus.PENDING)
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "form": form,
                "parties": parties(project),
                "automatic": automatic_conflict(request.user, project),
                "declaration": declaration,
                "withdrawal": latest,
                "withdrawal_form": (withdrawal_form or WithdrawalRequestForm())
                if can_ask
                else None,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, InterestForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from projects.actions import declare_interest
        from projects.conflicts import automatic_conflict

        form = InterestForm(request.POST)
        if automatic_conflict(request.user, self.project):
            form.add_error(None, _("You are conflicted on this project whatever you declare."))
        elif form.is_valid():
            interest = form.cleaned_data["has_interest"] == "yes"
            try:
                declare_interest(
                    project=self.project,
                    by=request.user,
                    has_interest=interest,
                    description=form.cleaned_data["description"],
                )
            except workflow.TransitionRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                if interest:
                    messages.info(
                        request,
                        _(
                            "Interest recorded: you will not see this file, "
                            "nor review it, nor vote on it."
                        ),
                    )
                    return redirect("home")
                messages.success(request, _("Declaration recorded: you may now read the file."))
                from projects.review.experts import is_expert_on

                if is_expert_on(request.user, self.project):
                    # An external expert is here for one thing: their review.
                    return redirect("review_mine", pk=pk)
                return redirect("project_detail", pk=pk)
        return self._render(request, form, status=400)
