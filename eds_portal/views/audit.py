"""The audit trail for the DPO and the auditor: filters, pages and a CSV export."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.authz import Permission
from eds_portal.exports import table_response
from eds_portal.selectors import AuditFilters, audit_action_names, audit_events
from eds_portal.views.base import PermissionView

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action"),
        required=False,
        max_length=80,
        help_text=_("“auth” matches every auth.* action; “auth.login” only that one."),
    )
    actor = forms.EmailField(label=_("Actor's e-mail address"), required=False)
    target_type = forms.CharField(label=_("Target type"), required=False, max_length=80)
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=120)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor=data.get("actor") or "",
            target_type=data.get("target_type") or "",
            target_id=data.get("target_id") or "",
            since=data.get("since"),
            until=data.get("until"),
        )


class AuditTrailView(PermissionView):
    permission = Permission.VIEW_AUDIT_TRAIL
    template_name = "eds_portal/audit_trail.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return TemplateResponse(
                request,
                self.template_name,
                {"form": form, "page": None, "actions": audit_action_names()},
                status=400,
            )
        filters = form.filters() if form.is_bound else AuditFilters()
        paginator = Paginator(audit_events(filters), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        # Reading the trail is itself traced (LOG-05).
        record_event(
            action="audit.viewed",
            actor=request.user,
            after={"filters": filters.as_dict(), "page": page.number},
        )
        query = request.GET.copy()
        query.pop("page", None)
        response = TemplateResponse(
            request,
            self.template_name,
            {
                "form": form,
                "page": page,
                "actions": audit_action_names(),
                "querystring": query.urlencode(),
            },
        )
        # Audit data: never kept by a browser or a proxy.
        patch_cache_control(response, no_store=True, private=True)
        return response


CSV_COLUMNS = [
    "seq",
    "occurred_at",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "before",
    "after",
    "ip",
    "client_hash",
    "prev_hash",
    "hash",
    "request_id",
]


def _csv_rows(filters: AuditFilters) -> Iterator[list]:
    yield CSV_COLUMNS
    events = audit_events(filters).order_by("seq")
    for event in events.iterator(chunk_size=2000):
        yield [
            event.seq,
            event.occurred_at.isoformat(),
            event.actor_id or "",
            event.actor.email if event.actor else "",
            event.action,
            event.target_type,
            event.target_id,
            _json(event.before),
            _json(event.after),
            event.ip or "",
            event.client_hash,
            event.prev_hash,
            event.hash,
            event.request_id,
        ]


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


class AuditExportView(PermissionView):
    permission = Permission.EXPORT_AUDIT_TRAIL

    def get(self, request: HttpRequest) -> HttpResponseBase:
        form = AuditFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return HttpResponse(
                "\n".join(
                    f"{field}: {' '.join(str(error) for error in errors)}"
                    for field, errors in form.errors.items()
                ),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        filters = form.filters() if form.is_bound else AuditFilters()
        record_event(
            action="audit.exported", actor=request.user, after={"filters": filters.as_dict()}
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        # Formula-looking values (anyone's typing ends up in before/after) are neutralised.
        return table_response(
            request,
            _csv_rows(filters),
            filename=f"audit-{stamp}",
            streaming=True,
            sheet_title="audit",
        )
