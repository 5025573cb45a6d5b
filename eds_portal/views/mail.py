"""E-mails that could not be sent, for the data office and the DPO: the list and "send again".

Patients' mails show their receipt number, never an address (it stays in the vault).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from eds_portal import mail
from eds_portal.authz import Permission
from eds_portal.models import OutgoingMail
from eds_portal.views.base import PermissionView

PAGE_SIZE = 50


def _rows(mails) -> list[dict]:
    return [
        {
            "mail": item,
            "kind": mail.kind_label(item.kind),
            # Patients' mails keep no address: they are named by what they are about.
            "to": ", ".join(item.to),
        }
        for item in mails
    ]


class FailedMailListView(PermissionView):
    """The mails that failed for good, and those still being retried."""

    permission = Permission.MANAGE_OUTGOING_MAIL
    template_name = "eds_portal/failed_mails.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(mail.failed_mails().order_by("-failed_at", "-pk"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        retrying = mail.retrying_mails().order_by("next_attempt_at", "pk")[:PAGE_SIZE]
        return TemplateResponse(
            request,
            self.template_name,
            {
                "page": page,
                "failed": _rows(page.object_list),
                "retrying": _rows(retrying),
            },
        )


class MailRetryView(PermissionView):
    """Sends a failed mail again (audited)."""

    permission = Permission.MANAGE_OUTGOING_MAIL
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = OutgoingMail.objects.filter(pk=pk).first()
        if item is None:
            raise Http404
        try:
            mail.retry_mail(mail=item, by=request.user)
        except mail.MailRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("The e-mail is queued to be sent again."))
        return redirect("failed_mails")
