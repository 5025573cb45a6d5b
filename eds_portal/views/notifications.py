"""The signed-in user's notifications: the page, the header's unread count, the home panel.

A user only ever sees their own notifications: every query starts from
``eds_portal.notifications.of(user)``; someone else's notification answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from eds_portal import notifications
from eds_portal.views.base import AuthenticatedView

PAGE_SIZE = 50


class NotificationListView(AuthenticatedView):
    """All of my notifications, newest first; marking them all read."""

    template_name = "notifications/list.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(notifications.of(request.user), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return TemplateResponse(
            request,
            self.template_name,
            {
                "page": page,
                "rows": list(page.object_list),
                "unread": notifications.unread_count(request.user),
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        count = notifications.mark_read(request.user)
        if count:
            messages.success(request, _("All your notifications are marked as read."))
        return redirect("notifications")


class NotificationOpenView(AuthenticatedView):
    """One of my notifications: GET shows it and changes nothing (a third-party page could
    make the browser open it); POST marks it read and follows its link."""

    template_name = "notifications/detail.html"

    def _notification(self, request: HttpRequest, pk: int):
        notification = notifications.of(request.user).filter(pk=pk).first()
        if notification is None:
            raise Http404
        return notification

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        notification = self._notification(request, pk)
        return TemplateResponse(
            request,
            self.template_name,
            {"notification": notification, "link": notifications.safe_link(notification)},
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        notification = self._notification(request, pk)
        notifications.mark_read(request.user, [notification.pk])
        return redirect(notifications.safe_link(notification) or "notifications")


class NotificationBadgeView(AuthenticatedView):
    """The header's "Notifications (3)", loaded by htmx after the page: no query on every page.

    An expired session answers 403 (htmx then leaves the link as it is) rather than the login
    page, which would be swapped into the header.
    """

    template_name = "notifications/_badge.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request, self.template_name, {"unread": notifications.unread_count(request.user)}
        )


def home_panel_context(request: HttpRequest) -> dict:
    rows, count = notifications.unread_summary(request.user)
    return {"rows": rows, "count": count}
