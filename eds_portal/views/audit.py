"""The audit trail for the DPO and the auditor: filters, pages and a CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.authz import Permission
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
        cleaned = super().clean()
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
        return TemplateResponse(
            request,
            self.template_name,
            {
                "form": form,
                "page": page,
                "actions": audit_action_names(),
                "querystring": query.urlencode(),
            },
        )


class _Echo:
    def write(self, value: str) -> str:
        return value


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
        ]


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _neutralise(cell) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ would be evaluated.
    text = str(cell)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


class AuditExportView(PermissionView):
    permission = Permission.EXPORT_AUDIT_TRAIL

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return HttpResponse(
                "\n".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        filters = form.filters() if form.is_bound else AuditFilters()
        record_event(
            action="audit.exported", actor=request.user, after={"filters": filters.as_dict()}
        )
        writer = csv.writer(_Echo())
        rows = (writer.writerow([_neutralise(cell) for cell in row]) for row in _csv_rows(filters))
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return StreamingHttpResponse(
            rows,
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )
