"""Pages of the consent register: consent-based projects, a project's register, entries.

Reading a project's register lists pseudonymous person keys: each read is audited (like the
opposition register, OPP-14). Strangers to a project get 404: only consent-based projects
have a register.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from access.consent.actions import ConsentRefused, record_consent, withdraw_consent
from access.consent.forms import ConsentForm, WithdrawalForm
from access.consent.selectors import consenting_persons, history
from eds_portal.audit import record_event
from eds_portal.authz import Permission, get_object_for_user, has_permission
from eds_portal.exports import table_response
from eds_portal.views.base import PermissionView
from projects.models import Project


class ConsentProjectsView(PermissionView):
    """Projects flagged as consent-based (CON-01), with their counts."""

    permission = Permission.VIEW_CONSENT_REGISTER
    template_name = "access/consent/projects.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        projects = (
            Project.objects.filter(requires_consent=True)
            .exclude(status="draft")
            .annotate(
                consents=Count("consent_records", distinct=True),
                withdrawals=Count("consent_withdrawals", distinct=True),
            )
            .order_by("reference")
        )
        return TemplateResponse(request, self.template_name, {"projects": projects})


class ConsentProjectView(PermissionView):
    """A page about one consent-based project's register."""

    permission = Permission.VIEW_CONSENT_REGISTER

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and has_permission(request.user, self.permission):
            self.project = get_object_for_user(
                request.user,
                Project.objects.filter(requires_consent=True),
                kwargs["pk"],
                self.permission,
            )
        return super().dispatch(request, *args, **kwargs)


class ConsentRegisterView(ConsentProjectView):
    template_name = "access/consent/register.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        person_key = request.GET.get("person", "").strip().lower()[:64]
        entries = history(self.project, person_key or None)
        valid = consenting_persons(self.project)
        record_event(
            action="consent.register_read",
            actor=request.user,
            target=self.project,
            after={"entries": len(entries), "filtered": bool(person_key)},
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": self.project,
                "entries": entries,
                "valid_count": len(valid),
                "valid": valid,
                "person_key": person_key,
                "can_record": has_permission(request.user, Permission.RECORD_CONSENT),
            },
        )


class ConsentExportView(ConsentProjectView):
    """The register of one project as CSV, for the DPO's exports."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        entries = history(self.project)
        record_event(
            action="consent.register_exported",
            actor=request.user,
            target=self.project,
            after={"entries": len(entries)},
        )
        rows = [
            [
                "entry",
                "at",
                "person_key",
                "notice_version",
                "method",
                "collector",
                "evidence",
                "subject_category",
                "representatives",
                "assent",
                "channel",
                "data_fate",
                "fate_basis",
                "recorded_at",
                "recorded_by",
            ]
        ]
        for item in entries:
            entry = item["entry"]
            consent = item["kind"] == "consent"
            rows.append(
                [
                    item["kind"],
                    item["at"].isoformat(),
                    entry.person_key,
                    entry.notice_version if consent else "",
                    entry.method if consent else "",
                    entry.collector if consent else "",
                    entry.evidence if consent else "",
                    entry.subject_category if consent else "",
                    entry.representatives if consent else "",
                    entry.assent if consent else "",
                    "" if consent else entry.channel,
                    "" if consent else entry.data_fate,
                    "" if consent else entry.fate_basis,
                    entry.recorded_at.isoformat(),
                    entry.recorded_by.email,
                ]
            )
        # Evidence and collectors are typed by staff: formula-looking ones are neutralised.
        return table_response(
            request, rows, filename=f"consents-{self.project.reference}", sheet_title="consents"
        )


class ConsentRecordView(ConsentProjectView):
    permission = Permission.RECORD_CONSENT
    template_name = "access/consent/record.html"
    form_class = ConsentForm

    def _initial(self) -> dict:
        return {"given_at": timezone.localtime().replace(second=0, microsecond=0)}

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = self.form_class(initial=self._initial())
        return TemplateResponse(
            request, self.template_name, {"project": self.project, "form": form}
        )

    def _act(self, data: dict, by) -> None:
        record_consent(
            project=self.project,
            by=by,
            person_key=data["resolved_key"],
            purposes=data["purposes"],
            notice_version=data["notice_version"],
            given_at=data["given_at"],
            method=data["method"],
            collector=data["collector"],
            evidence=data["evidence"],
            subject_category=data["subject_category"],
            representatives=data["representatives"],
            assent=data["assent"],
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self._act(form.cleaned_data, request.user)
            except ConsentRefused as refused:
                for reason in refused.reasons:
                    form.add_error(None, reason)
            else:
                messages.success(request, self.done_message())
                return redirect("consent_register", pk=self.project.pk)
        return TemplateResponse(
            request, self.template_name, {"project": self.project, "form": form}, status=400
        )

    def done_message(self) -> str:
        return _("The consent is recorded.")


class ConsentWithdrawView(ConsentRecordView):
    template_name = "access/consent/withdraw.html"
    form_class = WithdrawalForm

    def _initial(self) -> dict:
        initial = {"withdrawn_at": timezone.localtime().replace(second=0, microsecond=0)}
        person = self.request.GET.get("person", "").strip().lower()
        if len(person) == 64:
            initial["person_key"] = person
        return initial

    def _act(self, data: dict, by) -> None:
        withdraw_consent(
            project=self.project,
            by=by,
            person_key=data["resolved_key"],
            withdrawn_at=data["withdrawn_at"],
            channel=data["channel"],
            data_fate=data["data_fate"],
            fate_basis=data["fate_basis"],
        )

    def done_message(self) -> str:
        return _("The withdrawal is recorded. Deliveries from now on leave the person out.")
