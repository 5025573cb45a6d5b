"""Notifications: a message on the recipient's home page and the same by e-mail.

Call ``notify`` inside the action's transaction: the rows are written with the change they
announce, and the e-mails leave after the commit (never for a change that was rolled back).
Subjects and bodies may be lazy translations; they are rendered in the portal's language. A
text built with ``%`` is rendered when it is built: build it inside ``in_portal_language()``.
Never put patient-level data in them: they leave by e-mail. Messages people write to each
other (the commission's questions and the answers) stay in the portal; the notification says
that there is one and links to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme

from eds_portal.models import Notification

logger = logging.getLogger(__name__)

# What the home panel and the header show at most; the notifications page lists them all.
PANEL_SIZE = 10


def absolute(url: str) -> str:
    return settings.EDS_PUBLIC_URL + url if url.startswith("/") else url


def in_portal_language():
    """Context manager: texts built inside it are in the portal's language, not the actor's."""
    return translation.override(settings.LANGUAGE_CODE)


def notify(recipients: Iterable[Any], *, subject: Any, body: Any, url: str = "") -> list[int]:
    """Stores one notification per active recipient (deduplicated) and e-mails it after commit.

    ``url`` is a path of the portal (``reverse(...)``); the e-mail carries it as an absolute
    link. Returns the ids of the notifications created.
    """
    with in_portal_language():
        subject_text = " ".join(str(subject).split())[:300]
        body_text = str(body)
    seen: set[int] = set()
    created: list[Notification] = []
    now = timezone.now()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        created.append(
            Notification(
                recipient=user, subject=subject_text, body=body_text, url=url, created_at=now
            )
        )
    if not created:
        return []
    Notification.objects.bulk_create(created)
    ids = [n.pk for n in created if n.pk is not None]

    def send() -> None:
        link = f"\n\n{absolute(url)}" if url else ""
        sent: list[int] = []
        for notification in created:
            # One message per recipient: nobody learns who else was told. A failing mail server
            # must not undo what was committed: the row stays on the home page, not "emailed".
            try:
                send_mail(
                    f"[{settings.EDS_PORTAL_NAME}] {subject_text}",
                    body_text + link,
                    None,
                    [notification.recipient.email],
                )
            except Exception:
                logger.exception("notification %s could not be e-mailed", notification.pk)
            else:
                sent.append(notification.pk)
        if sent:
            Notification.objects.filter(pk__in=sent).update(emailed=True)

    transaction.on_commit(send)
    return ids


def of(user: Any):
    """The user's own notifications, newest first: nobody reads anyone else's."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def unread_summary(user: Any, limit: int = PANEL_SIZE) -> tuple[list[Notification], int]:
    """The newest unread notifications and how many there are, in one query when few."""
    rows = list(of(user).filter(read_at__isnull=True)[: limit + 1])
    if len(rows) <= limit:
        return rows, len(rows)
    return rows[:limit], of(user).filter(read_at__isnull=True).count()


def unread_count(user: Any) -> int:
    return of(user).filter(read_at__isnull=True).count()


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Marks the user's own notifications read (all of them without ``ids``)."""
    queryset = of(user).filter(read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())


def safe_link(notification: Notification) -> str | None:
    """The notification's link if it stays on this site (links are written by code, but a
    redirect is only ever to a local path)."""
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=None) and url.startswith("/"):
        return url
    return None
