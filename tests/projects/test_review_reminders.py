"""Reminders to rapporteurs: once before the due date, once after it; each only once."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail

from eds_portal.celery import app
from eds_portal.models import AuditEvent
from projects import workflow
from projects.models import RapporteurAssignment
from projects.review.actions import save_review, send_review_reminders, submit_review
from projects.review.tasks import send_review_reminders_task
from tests.projects.review_helpers import COMPLETE_REVIEW, assign, project_in_review

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def assignment(researcher, secretariat, rapporteur):
    project = project_in_review(researcher, secretariat)
    return assign(project, rapporteur, secretariat, days=10)


def _days(assignment, n: int) -> datetime.date:
    return assignment.due_date + datetime.timedelta(days=n)


def test_one_reminder_before_and_one_after(
    assignment, rapporteur, settings, django_capture_on_commit_callbacks
):
    settings.EDS_REVIEW_REMINDER_DAYS = 3
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_review_reminders(today=_days(assignment, -4)) == {"before": 0, "after": 0}
        assert send_review_reminders(today=_days(assignment, -3)) == {"before": 1, "after": 0}
        assert send_review_reminders(today=_days(assignment, -1)) == {"before": 0, "after": 0}
        assert send_review_reminders(today=_days(assignment, 0)) == {"before": 0, "after": 0}
        assert send_review_reminders(today=_days(assignment, 1)) == {"before": 0, "after": 1}
        assert send_review_reminders(today=_days(assignment, 5)) == {"before": 0, "after": 0}
    assert [m.to for m in mail.outbox] == [[rapporteur.email], [rapporteur.email]]
    assignment.refresh_from_db()
    assert assignment.reminded_before_at is not None
    assert assignment.reminded_after_at is not None
    kinds = [
        e.after["kind"]
        for e in AuditEvent.objects.filter(action="review.reminder_sent").order_by("seq")
    ]
    assert kinds == ["before", "after"]


def test_a_late_assignment_gets_only_the_overdue_reminder(assignment):
    assert send_review_reminders(today=_days(assignment, 2)) == {"before": 0, "after": 1}
    assert send_review_reminders(today=_days(assignment, 3)) == {"before": 0, "after": 0}


def test_no_reminder_for_a_submitted_review_or_a_removed_assignment(
    assignment, rapporteur, secretariat, make_user
):
    save_review(project=assignment.project, by=rapporteur, data=COMPLETE_REVIEW)
    submit_review(project=assignment.project, by=rapporteur)
    assert send_review_reminders(today=_days(assignment, 1)) == {"before": 0, "after": 0}
    from eds_portal.roles import Role
    from projects.review.actions import remove_rapporteur

    other = make_user(Role.COMMISSION_MEMBER)
    second = assign(assignment.project, other, secretariat, days=10)
    remove_rapporteur(assignment=second, by=secretariat)
    assert send_review_reminders(today=_days(second, 1)) == {"before": 0, "after": 0}


def test_no_reminder_while_the_file_is_not_in_review(assignment, chair):
    workflow.fire(assignment.project, "request_changes", by=chair)
    assert send_review_reminders(today=_days(assignment, 1)) == {"before": 0, "after": 0}


def test_the_task_runs_on_today_and_beat_runs_it_daily(assignment):
    RapporteurAssignment.objects.filter(pk=assignment.pk).update(
        due_date=datetime.date.today() - datetime.timedelta(days=1)
    )
    assert send_review_reminders_task.delay().get() == {"before": 0, "after": 1}
    entries = [e["task"] for e in app.conf.beat_schedule.values()]
    assert "projects.review.tasks.send_review_reminders_task" in entries
    assert "projects.review.tasks.send_review_reminders_task" in app.tasks
