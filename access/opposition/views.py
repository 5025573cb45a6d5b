"""Pages of the opposition register.

Public (no account): the online form, its receipt, the status page, the printable paper form.
Staff: the list of requests (no identity), staff entry, a request's file, withdrawal; the
identity officer's matching; the DPO's deadlines, answers, letters, register and exports.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models import (
    TO_MATCH_STATUSES,
    Answer,
    Kind,
    OppositionRequest,
    PublicAttempt,
    RequestStatus,
)
from access.opposition import actions, exports
from access.opposition.forms import (
    AnswerForm,
    ExtensionForm,
    IdCopyRequestForm,
    IdCopyUploadForm,
    MatchForm,
    ObjectionOverrideForm,
    OppositionForm,
    StaffOppositionForm,
    StatusLookupForm,
    WithdrawalForm,
)
from access.opposition.letters import addressee_for, letter_context, letter_pdf
from access.opposition.selectors import (
    due_and_overdue,
    filtered_requests,
    objectable_projects,
    objections_holding_up_provisioning,
    projects_held_up_by,
)
from access.provisioning.propagation import deliveries_for
from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.client_address import client_ip
from eds_portal.exports import table_response
from eds_portal.hostile_input import strict_int
from eds_portal.views.base import PermissionView, PublicView
from warehouse import vault
from warehouse.reference import association_names

SENT_KEY = "access:opposition-sent"
# What a receipt number looks like (OPP-2026-K7QX4M): anything else is not put in the form.
RECEIPT_SHAPE = re.compile(r"[A-Z]{3}-\d{4}-[A-Z0-9]{4,8}")

# The matching names the fields that agree by code; the identity officer reads their labels.
AGREEING_FIELDS = {
    "birth_date": gettext_lazy("Date of birth"),
    "name": gettext_lazy("Name"),
    "first_name": gettext_lazy("First names"),
    "sex": gettext_lazy("Sex"),
}


def _origins(request: HttpRequest) -> list[str]:
    """The connection's rotating hashes, this period's first (never the address: LOG-04)."""
    return actions.source_hashes(client_ip(request))


def _recent_attempts(purpose: str, origins: list[str]) -> int:
    since = timezone.now() - timedelta(hours=1)
    return PublicAttempt.objects.filter(
        purpose=purpose, source_hash__in=origins, at__gte=since
    ).count()


# --- Public -------------------------------------------------------------------------------------


class OppositionFormView(PublicView):
    """The online form (OPP-01 to OPP-07): free, no account, no reason needed."""

    template_name = "access/opposition_form.html"

    def _render(self, request, form, *, status=200, flood=None):
        return TemplateResponse(
            request,
            self.template_name,
            {"form": form, "flood": flood, "has_projects": objectable_projects().exists()},
            status=status,
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        initial = {}
        reference = request.GET.get("project", "")[:20]
        if reference:
            project = objectable_projects().filter(reference=reference).first()
            if project is not None:
                initial = {"scope": "projects", "projects": [project.pk]}
        return self._render(request, OppositionForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = OppositionForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        origins = _origins(request)
        recent = _recent_attempts(PublicAttempt.Purpose.SUBMISSION, origins)
        if recent >= settings.EDS_OPPOSITION_SUBMISSIONS_CEILING:
            # Never dropped silently: the form stays filled, the message says what to do.
            return self._render(request, form, status=429, flood="ceiling")
        if recent >= settings.EDS_OPPOSITION_SUBMISSIONS_PER_HOUR and not form.cleaned_data.get(
            "confirm_another"
        ):
            return self._render(request, form, status=429, flood="confirm")
        opposition = actions.submit_online_request(intake=form.intake(), origin=origins[0])
        request.session[SENT_KEY] = opposition.receipt_number
        return redirect("opposition_sent")


class OppositionSentView(PublicView):
    """The receipt: shown once after the form, kept in the session (not in the address)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        receipt = request.session.get(SENT_KEY)
        if not receipt:
            return redirect("opposition_form")
        opposition = OppositionRequest.objects.filter(receipt_number=receipt).first()
        if opposition is None:
            return redirect("opposition_form")
        return TemplateResponse(
            request,
            "access/opposition_sent.html",
            {
                "req": opposition,
                # What happens next, with the deadlines in force (never figures in the text).
                "window_days": settings.EDS_INFORMATION_WINDOW_DAYS,
                "deletion_days": settings.EDS_OPPOSITION_DELETION_DAYS,
            },
        )


class OppositionStatusView(PublicView):
    """Follow a request with its receipt number and the birth date; throttled, generic errors."""

    template_name = "access/opposition_status.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        # "Follow my request" from the receipt (or its e-mail) fills in the receipt number.
        receipt = request.GET.get("receipt", "").strip().upper()[:20]
        initial = {"receipt_number": receipt} if RECEIPT_SHAPE.fullmatch(receipt) else {}
        return TemplateResponse(
            request, self.template_name, {"form": StatusLookupForm(initial=initial)}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StatusLookupForm(request.POST)
        origins = _origins(request)
        failures = _recent_attempts(PublicAttempt.Purpose.STATUS_FAILURE, origins)
        if failures >= settings.EDS_OPPOSITION_STATUS_FAILURES_PER_HOUR:
            form.is_valid()
            form.add_error(
                None,
                _("Too many unsuccessful attempts from your connection. Try again in an hour."),
            )
            return TemplateResponse(request, self.template_name, {"form": form}, status=429)
        if not form.is_valid():
            return TemplateResponse(request, self.template_name, {"form": form}, status=400)
        receipt = form.cleaned_data["receipt_number"]
        check = actions.birth_date_check(receipt, form.cleaned_data["birth_date"])
        opposition = (
            OppositionRequest.objects.filter(receipt_number=receipt, kind=Kind.OBJECTION)
            .prefetch_related("projects__public_page", "answers", "withdrawals")
            .first()
        )
        if opposition is None or not constant_time_compare(opposition.birth_date_check, check):
            PublicAttempt.objects.create(
                purpose=PublicAttempt.Purpose.STATUS_FAILURE, source_hash=origins[0]
            )
            form.add_error(
                None,
                _("No request matches this receipt number and date of birth. Check both."),
            )
            return TemplateResponse(request, self.template_name, {"form": form}, status=400)
        # The projects whose datasets contained the person (matched only).
        deliveries = deliveries_for(opposition)
        record_event(
            action="opposition.status_viewed",
            target=opposition,
            after={
                "receipt": opposition.receipt_number,
                "deliveries": [entry["project"].reference for entry in deliveries],
            },
        )
        return TemplateResponse(
            request,
            "access/opposition_status_detail.html",
            {
                "req": opposition,
                "answers": list(opposition.answers.all()),
                "withdrawal": opposition.withdrawals.first(),
                "deliveries": deliveries,
            },
        )


class PaperFormView(PublicView):
    """The form to print and post (OPP-02: the online form is never the only route)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request,
            "access/opposition_paper_form.html",
            {"form": OppositionForm(), "projects": list(objectable_projects())},
        )


# --- Staff ---------------------------------------------------------------------------------------


def _opposition(receipt: str) -> OppositionRequest:
    return get_object_or_404(
        OppositionRequest.objects.select_related("received_by", "matched_by", "withdraws"),
        receipt_number=receipt,
    )


class OppositionListView(PermissionView):
    """Requests by due date; receipt numbers, channels, statuses, never an identity."""

    permission = Permission.VIEW_OPPOSITIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        show = request.GET.get("show", "open")
        rows = list(filtered_requests(show)[:500])
        return TemplateResponse(
            request,
            "access/opposition_list.html",
            {"rows": rows, "show": show, "today": timezone.localdate()},
        )


class StaffEntryView(PermissionView):
    """A request received by post, e-mail, phone or at an association (OPP-02)."""

    permission = Permission.RECORD_OPPOSITION
    template_name = "access/opposition_staff_entry.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(request, self.template_name, {"form": StaffOppositionForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = StaffOppositionForm(request.POST)
        if not form.is_valid():
            return TemplateResponse(request, self.template_name, {"form": form}, status=400)
        received_on = form.cleaned_data["received_on"]
        received_at = (
            timezone.now()
            if received_on == timezone.localdate()
            else timezone.make_aware(datetime.combine(received_on, time(12)))
        )
        opposition = actions.record_staff_request(
            by=request.user,
            intake=form.intake(),
            channel=form.cleaned_data["channel"],
            received_at=received_at,
            receiving_association=form.cleaned_data.get("receiving_association"),
        )
        messages.success(
            request,
            _("Request recorded with receipt number %(receipt)s.")
            % {"receipt": opposition.receipt_number},
        )
        return redirect("opposition_detail", receipt=opposition.receipt_number)


class OppositionDetailView(PermissionView):
    permission = Permission.VIEW_OPPOSITIONS

    def get(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        user = request.user
        return TemplateResponse(
            request,
            "access/opposition_detail.html",
            {
                "req": opposition,
                "projects": list(opposition.projects.all()),
                "answers": list(opposition.answers.select_related("sent_by")),
                "withdrawals": list(opposition.withdrawals.all()),
                "association": association_names().get(opposition.receiving_association),
                "may_match": has_permission(user, Permission.MATCH_IDENTITIES),
                "may_manage": has_permission(user, Permission.MANAGE_OPPOSITIONS),
                "may_record": has_permission(user, Permission.RECORD_OPPOSITION),
                "may_override": has_permission(user, Permission.MANAGE_OPPOSITIONS)
                and opposition.kind == Kind.OBJECTION
                and opposition.status in TO_MATCH_STATUSES,
                "extension_form": ExtensionForm(),
                "answer_form": AnswerForm(),
                "withdrawal_form": WithdrawalForm(initial={"received_on": timezone.localdate()}),
            },
        )


class WithdrawalView(PermissionView):
    """The person withdraws their objection (OPP-13): a new entry."""

    permission = Permission.RECORD_OPPOSITION

    def post(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        form = WithdrawalForm(request.POST)
        if form.is_valid():
            received_on = form.cleaned_data["received_on"]
            try:
                withdrawal = actions.record_withdrawal(
                    by=request.user,
                    objection=opposition,
                    channel=form.cleaned_data["channel"],
                    received_at=timezone.make_aware(datetime.combine(received_on, time(12))),
                )
            except actions.RefusedAction as refused:
                messages.error(request, str(refused))
            else:
                messages.success(
                    request,
                    _("Withdrawal recorded with receipt number %(receipt)s.")
                    % {"receipt": withdrawal.receipt_number},
                )
                return redirect("opposition_detail", receipt=withdrawal.receipt_number)
        else:
            messages.error(request, _("Give the channel and the date the withdrawal arrived."))
        return redirect("opposition_detail", receipt=receipt)


class MatchView(PermissionView):
    """The identity officer's page: the identity, the candidates and the fields that agree."""

    permission = Permission.MATCH_IDENTITIES
    template_name = "access/opposition_match.html"

    def _context(self, request, opposition, form=None):
        identity = vault.read_opposition_identity(
            by=request.user, receipt_number=opposition.receipt_number
        )
        candidates = []
        if opposition.kind == Kind.OBJECTION and opposition.status in {
            RequestStatus.RECEIVED,
            RequestStatus.ID_REQUESTED,
            RequestStatus.NOT_MATCHED,
        }:
            candidates = vault.opposition_candidates(by=request.user, identity=identity)
        names = association_names()
        return {
            "req": opposition,
            "identity": identity,
            "identity_associations": [names.get(pk, pk) for pk in identity.associations],
            "candidates": candidates,
            "candidate_rows": [
                (c, [str(AGREEING_FIELDS.get(code, code)) for code in c.agreeing])
                for c in candidates
            ],
            "form": form or MatchForm(candidates=candidates),
            "doubt_form": IdCopyRequestForm(),
            "upload_form": IdCopyUploadForm(),
        }

    def get(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        return TemplateResponse(request, self.template_name, self._context(request, opposition))

    def post(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        identity = vault.read_opposition_identity(by=request.user, receipt_number=receipt)
        candidates = vault.opposition_candidates(by=request.user, identity=identity)
        form = MatchForm(request.POST, candidates=candidates)
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == "match":
                    actions.confirm_match(
                        by=request.user,
                        request=opposition,
                        person_key=form.cleaned_data["person_key"],
                        method=form.cleaned_data["method"],
                    )
                    messages.success(request, _("Match confirmed: the objection is in force."))
                else:
                    actions.mark_not_matched(
                        by=request.user, request=opposition, method=form.cleaned_data["method"]
                    )
                    messages.success(
                        request, _("Recorded: the objection will be matched again with new data.")
                    )
            except actions.RefusedAction as refused:
                form.add_error(None, str(refused))
            else:
                return redirect("opposition_detail", receipt=receipt)
        return TemplateResponse(
            request, self.template_name, self._context(request, opposition, form), status=400
        )


class IdCopyView(PermissionView):
    """Reasonable doubt: ask for an ID copy, or file the copy that arrived (OPP-05, RET-05)."""

    permission = Permission.MATCH_IDENTITIES

    def post(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        try:
            if "copy" in request.FILES:
                form = IdCopyUploadForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise actions.RefusedAction(" ".join(form.errors.get("copy", [])))
                actions.receive_id_copy(
                    by=request.user, request=opposition, upload=form.cleaned_data["copy"]
                )
                messages.success(request, _("Copy filed; the deadline runs again."))
            else:
                form = IdCopyRequestForm(request.POST)
                if not form.is_valid():
                    raise actions.RefusedAction(_("Say why there is a reasonable doubt."))
                actions.request_id_copy(
                    by=request.user, request=opposition, reason=form.cleaned_data["reason"]
                )
                messages.success(
                    request, _("Copy requested; the deadline is suspended until it arrives.")
                )
        except actions.RefusedAction as refused:
            messages.error(request, str(refused))
        return redirect("opposition_match", receipt=receipt)


class ExtensionView(PermissionView):
    permission = Permission.MANAGE_OPPOSITIONS

    def post(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        form = ExtensionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the extension and give its reason."))
        else:
            try:
                actions.extend_deadline(by=request.user, request=opposition, **form.cleaned_data)
            except actions.RefusedAction as refused:
                messages.error(request, str(refused))
            else:
                messages.success(request, _("Deadline extended; the requester is told why."))
        return redirect("opposition_detail", receipt=receipt)


class AnswerView(PermissionView):
    permission = Permission.MANAGE_OPPOSITIONS

    def post(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        form = AnswerForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the answer and how it is sent."))
        else:
            try:
                actions.send_answer(by=request.user, request=opposition, **form.cleaned_data)
            except actions.RefusedAction as refused:
                messages.error(request, str(refused))
            else:
                messages.success(request, _("Answer recorded."))
        return redirect("opposition_detail", receipt=receipt)


class _LetterMixin:
    # The DPO and the identity officer (who posts paper letters, with the address).
    def _answer(self, request, receipt, pk) -> Answer:
        user = request.user
        if not (
            has_permission(user, Permission.MANAGE_OPPOSITIONS)
            or has_permission(user, Permission.MATCH_IDENTITIES)
        ):
            raise PermissionDenied
        return get_object_or_404(
            Answer.objects.select_related("request"), pk=pk, request__receipt_number=receipt
        )


class LetterView(_LetterMixin, PermissionView):
    permission = Permission.VIEW_OPPOSITIONS

    def get(self, request: HttpRequest, receipt: str, pk: int) -> HttpResponse:
        answer = self._answer(request, receipt, pk)
        context = letter_context(answer, addressee=addressee_for(answer, by=request.user))
        return TemplateResponse(request, "access/letter_page.html", context)


class LetterPdfView(_LetterMixin, PermissionView):
    permission = Permission.VIEW_OPPOSITIONS

    def get(self, request: HttpRequest, receipt: str, pk: int) -> HttpResponse:
        answer = self._answer(request, receipt, pk)
        pdf = letter_pdf(answer, addressee=addressee_for(answer, by=request.user))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{receipt}-{answer.pk}.pdf"'
        return response


class DeadlinesView(PermissionView):
    """The DPO's page (OPP-04): overdue, due within the reminder window, suspended; and the
    objections not matched yet that hold up a project's provisioning (OPP-09, OPP-10)."""

    permission = Permission.MANAGE_OPPOSITIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request,
            "access/opposition_deadlines.html",
            {
                **due_and_overdue(),
                "holding_up": objections_holding_up_provisioning(),
                "today": timezone.localdate(),
                "days": settings.EDS_OPPOSITION_REMINDER_DAYS,
            },
        )


class ObjectionOverrideView(PermissionView):
    """The DPO lets a project be provisioned although this objection is not matched yet."""

    permission = Permission.MANAGE_OPPOSITIONS
    template_name = "access/opposition_override.html"

    def _render(self, request, opposition, form=None, *, status=200):
        held_up = projects_held_up_by(opposition)
        return TemplateResponse(
            request,
            self.template_name,
            {
                "req": opposition,
                "held_up": held_up,
                "overrides": list(
                    opposition.overrides.select_related("project", "by").order_by("at", "pk")
                ),
                "form": form or ObjectionOverrideForm(projects=held_up),
            },
            status=status,
        )

    def get(self, request: HttpRequest, receipt: str) -> HttpResponse:
        return self._render(request, _opposition(receipt))

    def post(self, request: HttpRequest, receipt: str) -> HttpResponse:
        opposition = _opposition(receipt)
        form = ObjectionOverrideForm(request.POST, projects=projects_held_up_by(opposition))
        if form.is_valid():
            project = form.cleaned_data["project"]
            try:
                actions.record_objection_override(
                    by=request.user,
                    request=opposition,
                    project=project,
                    reason=form.cleaned_data["reason"],
                )
            except actions.RefusedAction as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(
                    request,
                    _("Override recorded: %(receipt)s no longer holds up %(project)s.")
                    % {"receipt": opposition.receipt_number, "project": project.reference},
                )
                return redirect("opposition_override", receipt=receipt)
        return self._render(request, opposition, form, status=400)


class RegisterView(PermissionView):
    """The register's entries (OPP-14); reading it is audited. Keys shown as export ids."""

    permission = Permission.MANAGE_OPPOSITIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = exports.register_rows(by=request.user, purpose="register page")
        return TemplateResponse(
            request, "access/opposition_register.html", {"rows": rows[-500:][::-1]}
        )


class RegisterCsvView(PermissionView):
    permission = Permission.MANAGE_OPPOSITIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = exports.register_rows(by=request.user, purpose="register CSV export")
        return table_response(
            request,
            exports.csv_lines(rows),
            filename="opposition-register",
            streaming=True,
            sheet_title="register",
        )


class FhirExportView(PermissionView):
    permission = Permission.MANAGE_OPPOSITIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        bundle = exports.fhir_bundle(by=request.user)
        response = HttpResponse(
            json.dumps(bundle, ensure_ascii=False, indent=1),
            content_type="application/fhir+json; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="oppositions-consent.json"'
        return response


class OppositionStatisticsView(PermissionView):
    """Counts for the activity report (OPP-15): by scope, channel, and deadline met."""

    permission = Permission.MANAGE_OPPOSITIONS

    def get(self, request: HttpRequest) -> HttpResponse:
        from access.opposition.statistics import opposition_statistics

        this_year = timezone.localdate().year
        raw = request.GET.get("year", "")
        # ASCII digits only: "²" and "٣" are digits to Python, not a year.
        if raw and strict_int(raw) is None:
            return HttpResponseBadRequest(_("The year is not a number."))
        year = strict_int(raw, minimum=2000, maximum=this_year) or this_year
        return TemplateResponse(
            request,
            "access/opposition_statistics.html",
            {
                "stats": opposition_statistics(year),
                "years": list(range(this_year, this_year - 5, -1)),
            },
        )
