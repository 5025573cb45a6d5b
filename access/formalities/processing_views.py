"""The DPO's record of processing activities: page and CSV (GOV-16)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from access.formalities.processing import COLUMNS, processing_rows
from eds_portal.audit import record_event
from eds_portal.authz import Permission
from eds_portal.exports import table_response
from eds_portal.views.base import PermissionView


class ProcessingRecordView(PermissionView):
    permission = Permission.VIEW_PROCESSING_RECORD
    template_name = "access/formalities/processing_record.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = processing_rows()
        return TemplateResponse(request, self.template_name, {"rows": rows})


class ProcessingRecordCsvView(PermissionView):
    permission = Permission.VIEW_PROCESSING_RECORD

    def get(self, request: HttpRequest) -> HttpResponse:
        rows = processing_rows()
        record_event(
            action="processing_record.exported",
            actor=request.user,
            target_type="access.record_of_processing",
            target_id="all",
            after={"projects": len(rows)},
        )
        day = timezone.localdate().isoformat()
        # Titles and purposes are typed by researchers: formula-looking ones are neutralised.
        table = [COLUMNS, *([row.get(column, "") for column in COLUMNS] for row in rows)]
        return table_response(
            request, table, filename=f"record-of-processing-{day}", sheet_title="processing"
        )
