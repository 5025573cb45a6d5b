"""The review's periodic task: reminders to rapporteurs (run daily by beat)."""

from __future__ import annotations

from celery import shared_task

from projects.review.actions import send_review_reminders


@shared_task(ignore_result=True)
def send_review_reminders_task() -> dict[str, int]:
    """Each open assignment gets one reminder before its due date and one once it is overdue."""
    return send_review_reminders()
