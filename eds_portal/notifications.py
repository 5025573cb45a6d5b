"""Notifications: a message on the recipient's home page and the same by e-mail.

Call ``notify`` inside the action's transaction: the rows are written with the change they
announce, and the e-mails leave after the commit (never for a change that was rolled back).
Subjects and bodies are rendered in each recipient's language (``User.language``): pass lazy
translations, or a ``Message`` (a lazy translation with its parameters, formatted when read;
dates in it are written the reader's way). A text built with ``%`` is rendered when it is built,
in one language for everybody: at least build it inside ``in_portal_language()``.
Never put patient-level data in them: they leave by e-mail. Messages people write to each
other (the commission's questions and the answers) stay in the portal; the notification says
that there is one and links to it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme

from eds_portal.mail import queue_mail
from eds_portal.models import Notification

logger = logging.getLogger(__name__)

# What the home panel and the header show at most; the notifications page lists them all.
PANEL_SIZE = 10


def absolute(url: str) -> str:
    return settings.EDS_PUBLIC_URL + url if url.startswith("/") else url


def in_portal_language():
    """Context manager: texts built inside it are in the portal's language, not the actor's."""
    return translation.override(settings.LANGUAGE_CODE)


def readable(value: Any) -> Any:
    """A parameter of a message as the reader reads it: dates in the active language's format,
    numbers as numbers (a plural message chooses its form with them), the rest as text."""
    if isinstance(value, datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(moment, "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, int | float):
        return value
    return str(value)


class Message:
    """A translatable text and its parameters, formatted when read (``str``): in the language
    active then, so ``notify`` writes it in each recipient's language. The text may be a plural
    (``ngettext_lazy`` naming its number parameter); parameters may be lazy translations, dates
    or other messages."""

    def __init__(self, template: Any, /, **params: Any) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        if not self.params:
            return str(self.template)
        # ``%`` on the lazy text itself: a lazy plural picks its form from the parameters.
        return str(self.template % {key: readable(value) for key, value in self.params.items()})


class Paragraphs:
    """Texts (messages, lazy translations) read one after the other; empty ones are left out."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return "\n\n".join(text for text in (readable(part) for part in self.parts) if text)


def language_of(user: Any) -> str:
    """The language the user reads their notifications in (the portal's when unknown)."""
    code = getattr(user, "language", "") or ""
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def notify(recipients: Iterable[Any], *, subject: Any, body: Any, url: str = "") -> list[int]:
    """Stores one notification per active recipient (deduplicated) and e-mails it after commit.

    The subject and body are rendered in each recipient's language. ``url`` is a path of the
    portal (``reverse(...)``); the e-mail carries it as an absolute link on ``EDS_PUBLIC_URL``.
    Returns the ids of the notifications created.
    """
    texts: dict[str, tuple[str, str]] = {}

    def rendered(language: str) -> tuple[str, str]:
        if language not in texts:
            with translation.override(language):
                texts[language] = (" ".join(str(subject).split())[:300], str(body))
        return texts[language]

    seen: set[int] = set()
    created: list[Notification] = []
    now = timezone.now()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        subject_text, body_text = rendered(language_of(user))
        created.append(
            Notification(
                recipient=user, subject=subject_text, body=body_text, url=url, created_at=now
            )
        )
    if not created:
        return []
    Notification.objects.bulk_create(created)
    ids = [n.pk for n in created if n.pk is not None]

    link = f"\n\n{absolute(url)}" if url else ""
    for notification in created:
        # One message per recipient: nobody learns who else was told. It leaves after the
        # commit through the mail queue (eds_portal.mail), which retries a failing server and
        # marks the notification "emailed" once sent; the home page shows it meanwhile.
        queue_mail(
            kind="notification",
            reference=str(notification.pk or ""),
            to=[notification.recipient.email],
            subject=f"[{settings.EDS_PORTAL_NAME}] {notification.subject}",
            body=notification.body + link,
            recipient=notification.recipient,
            language=language_of(notification.recipient),
        )
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
