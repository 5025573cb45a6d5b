"""Pages of the review: rapporteurs (secretariat), my review (rapporteur), reviews (readers), my
files (commission members). Thin: the forms validate, the actions act, the selectors read."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.authz import Permission, has_permission
from eds_portal.views.base import PermissionView
from projects.conflicts import REVIEW_STATUSES, automatic_conflict, declaration_of
from projects.models import Project, RapporteurAssignment
from projects.reading import version_request
from projects.review import selectors
from projects.review.actions import (
    ReviewInvalid,
    ReviewRefused,
    assign_rapporteur,
    change_due_date,
    remove_rapporteur,
    review_data,
    review_refusals,
    save_review,
    submit_review,
)
from projects.review.experts import active_invitation, is_expert_on
from projects.review.forms import AssignForm, DueDateForm, ReviewForm
from projects.views import ProjectView


class RapporteursView(ProjectView):
    """The secretariat assigns rapporteurs, seeing each member's load and conflicts."""

    permission = Permission.ASSIGN_RAPPORTEURS
    object_permission = Permission.ASSIGN_RAPPORTEURS
    template_name = "projects/review/rapporteurs.html"

    def _render(self, request, *, form=None, due_forms=None, status=200):
        project = self.project
        today = timezone.localdate()
        candidates = self.candidates
        assignments = list(selectors.active_assignments(project))
        due_forms = due_forms or {}
        rows = [
            {
                "assignment": a,
                "overdue": a.completed_at is None and a.due_date < today,
                "due_form": due_forms.get(a.pk)
                or DueDateForm(
                    initial={"due_date": a.due_date}, prefix=f"due-{a.pk}", auto_id=f"id_%s_{a.pk}"
                ),
            }
            for a in assignments
        ]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "form": form or AssignForm(candidates=candidates),
                "rows": rows,
                "candidates": candidates,
                "minimum": settings.EDS_MIN_RAPPORTEURS,
                "lacking": max(0, settings.EDS_MIN_RAPPORTEURS - len(assignments)),
                "assignable": project.review_status in selectors.ASSIGNABLE_STATUSES,
                "version": selectors.latest_version(project),
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.candidates = selectors.candidates(self.project)
        return self._render(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.candidates = selectors.candidates(self.project)
        form = AssignForm(request.POST, candidates=self.candidates)
        if form.is_valid():
            member = get_user_model().objects.filter(pk=form.cleaned_data["member"]).first()
            try:
                assign_rapporteur(
                    project=self.project,
                    member=member,
                    due_date=form.cleaned_data["due_date"],
                    by=request.user,
                )
            except ReviewRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(
                    request,
                    _("%(name)s is now rapporteur and has been told.") % {"name": member.full_name},
                )
                return redirect("review_rapporteurs", pk=pk)
        return self._render(request, form=form, status=400)


class _AssignmentView(RapporteursView):
    """A POST on one assignment of the project; a stranger's or removed one is 404."""

    http_method_names = ["post"]

    def _assignment(self, assignment_id: int) -> RapporteurAssignment:
        return get_object_or_404(
            RapporteurAssignment.objects.select_related("member"),
            pk=assignment_id,
            project=self.project,
            removed_at__isnull=True,
        )


class RapporteurRemoveView(_AssignmentView):
    def post(self, request: HttpRequest, pk: int, assignment_id: int) -> HttpResponse:
        assignment = self._assignment(assignment_id)
        try:
            remove_rapporteur(assignment=assignment, by=request.user)
        except ReviewRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
        else:
            messages.success(
                request,
                _("%(name)s is no longer rapporteur.") % {"name": assignment.member.full_name},
            )
        return redirect("review_rapporteurs", pk=pk)


class RapporteurDueDateView(_AssignmentView):
    def post(self, request: HttpRequest, pk: int, assignment_id: int) -> HttpResponse:
        assignment = self._assignment(assignment_id)
        form = DueDateForm(
            request.POST, prefix=f"due-{assignment.pk}", auto_id=f"id_%s_{assignment.pk}"
        )
        if form.is_valid():
            try:
                change_due_date(
                    assignment=assignment, due_date=form.cleaned_data["due_date"], by=request.user
                )
            except ReviewRefused as refused:
                for reason in refused.reasons:
                    form.add_error("due_date", reason)
            else:
                messages.success(request, _("Due date changed; the rapporteur has been told."))
                return redirect("review_rapporteurs", pk=pk)
        self.candidates = selectors.candidates(self.project)
        return self._render(request, due_forms={assignment.pk: form}, status=400)


class MyReviewView(ProjectView):
    """The rapporteur's review of the latest version: a draft until submitted, then read-only."""

    permission = Permission.REVIEW_PROJECT
    object_permission = Permission.REVIEW_PROJECT
    template_name = "projects/review/my_review.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            # An assigned member (or an invited external expert) who has not declared yet is
            # sent to the declaration (GOV-10) instead of a bare 404.
            project = Project.objects.filter(pk=kwargs["pk"], status__in=REVIEW_STATUSES).first()
            if (
                project is not None
                and (
                    (
                        has_permission(user, self.permission)
                        and selectors.active_assignment(user, project) is not None
                    )
                    or is_expert_on(user, project)
                )
                and declaration_of(user, project) is None
                and not automatic_conflict(user, project)
            ):
                messages.info(request, _("Declare your interests in this file before reading it."))
                return redirect("project_interests", pk=project.pk)
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request, *, form=None, status=200):
        project = self.project
        version = selectors.latest_version(project)
        if version is None:
            raise Http404
        review = selectors.review_of(request.user, version)
        refusals = review_refusals(project, request.user)
        editable = not refusals and (review is None or review.submitted_at is None)
        if editable and form is None:
            form = ReviewForm(version=version, initial=ReviewForm.initial_from(review_data(review)))
        verdicts = {item.variable: item for item in review.variables.all()} if review else {}
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "version": version,
                "review": review,
                "form": form if editable else None,
                "refusals": refusals,
                "assignment": selectors.active_assignment(request.user, project)
                or active_invitation(request.user, project),
                # The cohort, the size, the access and the recipients: reviewed with the rest.
                "data_request": version_request(version),
                "requested": [
                    {"item": item, "verdict": verdicts.get(item.code)}
                    for item in selectors.requested_variables(version)
                ],
                "earlier": [
                    r
                    for r in request.user.reviews.filter(
                        project=project, submitted_at__isnull=False
                    )
                    .select_related("version")
                    .order_by("-version__number")
                    if r.version_id != version.pk
                ],
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        version = selectors.latest_version(self.project)
        if version is None:
            raise Http404
        form = ReviewForm(request.POST, version=version)
        if not form.is_valid():
            return self._render(request, form=form, status=400)
        try:
            save_review(project=self.project, by=request.user, data=form.to_data())
        except ReviewInvalid as invalid:
            form.add_action_errors(invalid.errors)
            return self._render(request, form=form, status=400)
        except ReviewRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
            return redirect("review_mine", pk=pk)
        if request.POST.get("action") != "submit":
            messages.success(request, _("Draft saved. Submit the review once it is complete."))
            return redirect("review_mine", pk=pk)
        try:
            submit_review(project=self.project, by=request.user)
        except ReviewInvalid as invalid:
            form.add_action_errors(invalid.errors)
            messages.info(
                request,
                _("Saved as a draft. The fields marked below are needed before submission."),
            )
            return self._render(request, form=form, status=400)
        except ReviewRefused as refused:
            for reason in refused.reasons:
                messages.error(request, reason)
            return redirect("review_mine", pk=pk)
        messages.success(request, _("Review submitted. Thank you."))
        if not has_permission(request.user, Permission.VIEW_PROJECT, self.project):
            # An external expert's access ended with the submission.
            return redirect("home")
        return redirect("project_detail", pk=pk)


class ReviewListView(ProjectView):
    """The submitted reviews of every version, for the commission and the secretariat."""

    permission = Permission.READ_REVIEWS
    object_permission = Permission.READ_REVIEWS
    template_name = "projects/review/review_list.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        project = self.project
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "blocks": selectors.reviews_by_version(project),
                "assignments": list(selectors.active_assignments(project)),
            },
        )


def commission_files(user, *, limit: int | None = None) -> dict:
    """What a commission member has to do, for the page and the home panel."""
    today = timezone.localdate()
    assignments = list(
        selectors.my_assignments(user)[:limit] if limit else selectors.my_assignments(user)
    )
    drafts = list(
        selectors.my_draft_reviews(user)[:limit] if limit else selectors.my_draft_reviews(user)
    )
    return {
        "assignments": [
            {
                "assignment": a,
                "overdue": a.completed_at is None and a.due_date < today,
                "done": a.completed_at is not None,
            }
            for a in assignments
        ],
        "drafts": drafts,
        "today": today,
    }


class CommissionDashboardView(PermissionView):
    """ "My files": declarations awaited, assignments with due dates, reviews in draft."""

    permission = Permission.VIEW_COMMISSION_DASHBOARD
    template_name = "projects/review/commission_dashboard.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request,
            self.template_name,
            {
                **commission_files(request.user),
                "to_declare": selectors.files_to_declare(request.user),
            },
        )
