"""Celery tasks of the projects app (``autodiscover_tasks`` imports this module)."""

from projects.review.tasks import send_review_reminders_task

__all__ = ["send_review_reminders_task"]
