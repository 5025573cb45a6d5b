"""Notifications: a message on the recipient's home page and the same by e-mail.

Call ``notify`` inside the action's transaction: the rows are written with the change they
announce, and the e-mails leave after the commit (never for a change that was rolled back).
Subjects and bodies may be lazy translations; they are rendered in the portal's language.
Never put patient-level data in them: they leave by e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from eds_portal.models import Notification


def absolute(url: str) -> str:
    return settings.EDS_PUBLIC_URL + url if url.startswith("/") else url


def notify(recipients: Iterable[Any], *, subject: Any, body: Any, url: str = "") -> list[int]:
    """Stores one notification per active recipient (deduplicated) and e-mails it after commit."""
    with translation.override(settings.LANGUAGE_CODE):
        subject_text = str(subject)[:300]
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
    Notification.objects.bulk_create(created)
    ids = [n.pk for n in created if n.pk is not None]

    def send() -> None:
        link = f"\n\n{absolute(url)}" if url else ""
        for notification in created:
            send_mail(
                f"[{settings.EDS_PORTAL_NAME}] {subject_text}",
                body_text + link,
                None,
                [notification.recipient.email],
            )
        if ids:
            Notification.objects.filter(pk__in=ids).update(emailed=True)

    transaction.on_commit(send)
    return ids


def unread_for(user: Any) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at")[
            :20
        ]
    )


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Marks the user's own notifications read (all of them without ``ids``)."""
    queryset = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())
