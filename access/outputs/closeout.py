"""Closeout (TRA-11, RET-03): the results due date, the lead's reminders and final report,
before the secretariat closes a project.

- **Due date**: the end of access of the decision in force plus ``EDS_RESULTS_DUE_MONTHS``.
  ``send_results_reminders`` (nightly, access.tasks) e-mails the lead
  ``EDS_RESULTS_REMINDER_DAYS`` before it and once after it, each reminder once per due date.
- **Final report**: the results in plain words, the publications or why there are none, and
  the confirmation that every copy of the delivered data was destroyed. The guard registered
  on "close" requires it when ``EDS_CLOSEOUT_REPORT_REQUIRED`` is on (the default), and refuses
  to close while outputs are still with the checkers.
- **Closing** is the workflow's "close" transition (projects/workflow.py). After its commit,
  provisioning's hook destroys the remaining datasets with a certificate (the one
  ``destroy_dataset`` of access/provisioning/delivery.py, reason "project closed"); the team
  holds no right on a closed project (``projects.permissions.team_access_ended``); the public
  page shows the status, the listed results and the final report.
- ``due_for_closeout`` feeds the secretariat's pipeline and the API.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.models_outputs import (
    ClosingReport,
    OutputItem,
    OutputItemStatus,
    ResultsReminder,
    ResultsReminderKind,
)
from access.outputs.actions import OutputRefused
from eds_portal.audit import record_event
from eds_portal.notifications import Message, notify
from projects.models import Project, ProjectStatus, TeamMembership, TeamRole
from projects.permissions import is_lead

CLOSABLE = frozenset({ProjectStatus.ACTIVE, ProjectStatus.SUSPENDED})


def report_required() -> bool:
    return settings.EDS_CLOSEOUT_REPORT_REQUIRED


def closing_guard(project: Project) -> list[str]:
    """The workflow's guard on "close": the reasons it is refused (none when it may go)."""
    reasons = []
    if OutputItem.objects.filter(
        request__project=project, status=OutputItemStatus.SUBMITTED
    ).exists():
        reasons.append(
            _("Outputs are still with the checkers: wait for their verdicts before closing.")
        )
    if report_required() and not ClosingReport.objects.filter(project=project).exists():
        reasons.append(
            _(
                "The project lead has not given the final report (results, publications, "
                "destruction of every copy of the data)."
            )
        )
    return reasons


# --- Results due date and reminders (RET-03) ----------------------------------------------


def access_ends_on(project: Project) -> datetime.datetime | None:
    """The end of access of the favourable decision in force, if it sets one."""
    from access.formalities.gates import access_ends_at, current_decision

    decision = current_decision(project)
    if decision is None or not decision.is_favourable:
        return None
    return access_ends_at(decision)


def results_due_on(project: Project) -> datetime.date | None:
    """The day the results are due: end of access plus ``EDS_RESULTS_DUE_MONTHS``."""
    from access.formalities.gates import add_months

    end = access_ends_on(project)
    if end is None:
        return None
    return timezone.localdate(add_months(end, settings.EDS_RESULTS_DUE_MONTHS))


@dataclass(frozen=True)
class DueForCloseout:
    project: Project
    lead_name: str
    access_ends_at: datetime.datetime | None
    due_on: datetime.date
    days_left: int
    report_given: bool

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def due_for_closeout(*, today: datetime.date | None = None) -> list[DueForCloseout]:
    """Projects that received data (active or suspended) whose results are due within
    ``EDS_RESULTS_REMINDER_DAYS`` or overdue, earliest due date first; with whether the lead
    gave the final report (then the secretariat may close them). A fixed number of queries,
    whatever the number of projects (the pipeline shows it)."""
    from access.formalities.gates import access_ends_at, add_months
    from projects.models import Decision

    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.EDS_RESULTS_REMINDER_DAYS)
    projects = {
        p.pk: p for p in Project.objects.filter(status__in=list(CLOSABLE)).order_by("reference")
    }
    if not projects:
        return []
    in_force: dict[int, Any] = {}
    for decision in Decision.objects.filter(project__in=list(projects)).in_force():
        in_force.setdefault(decision.project_id, decision)  # the first is the one in force
    due: dict[int, tuple[datetime.datetime, datetime.date]] = {}
    for project_id, decision in in_force.items():
        end = access_ends_at(decision) if decision.is_favourable else None
        if end is None:
            continue
        due_on = timezone.localdate(add_months(end, settings.EDS_RESULTS_DUE_MONTHS))
        if due_on <= horizon:
            due[project_id] = (end, due_on)
    if not due:
        return []
    reported = set(
        ClosingReport.objects.filter(project__in=list(due)).values_list("project_id", flat=True)
    )
    leads = dict(
        TeamMembership.objects.filter(project__in=list(due), role=TeamRole.LEAD).values_list(
            "project_id", "user__full_name"
        )
    )
    rows = [
        DueForCloseout(
            project=projects[project_id],
            lead_name=leads.get(project_id) or "",
            access_ends_at=end,
            due_on=due_on,
            days_left=(due_on - today).days,
            report_given=project_id in reported,
        )
        for project_id, (end, due_on) in due.items()
    ]
    rows.sort(key=lambda row: (row.due_on, row.project.reference))
    return rows


def send_results_reminders(*, today: datetime.date | None = None) -> dict[str, int]:
    """The lead of each project that received data hears of its results due date: once
    ``EDS_RESULTS_REMINDER_DAYS`` before it, once after it; never once the final report is
    given. Each reminder is recorded (one per project, kind and due date) in the transaction
    that sends it, so a second run or a second worker sends nothing twice."""
    today = today or timezone.localdate()
    sent = {ResultsReminderKind.BEFORE.value: 0, ResultsReminderKind.AFTER.value: 0}
    for row in due_for_closeout(today=today):
        if row.report_given:
            continue
        kind = ResultsReminderKind.AFTER if row.overdue else ResultsReminderKind.BEFORE
        if _remind(row.project.pk, kind=kind, due_on=row.due_on):
            sent[kind.value] += 1
    return sent


def _remind(project_id: int, *, kind: ResultsReminderKind, due_on: datetime.date) -> bool:
    try:
        with transaction.atomic():
            project = (
                Project.objects.select_for_update(skip_locked=True)
                .filter(pk=project_id, status__in=list(CLOSABLE))
                .first()
            )
            if project is None:
                return False
            if ResultsReminder.objects.filter(project=project, kind=kind, due_on=due_on).exists():
                return False
            ResultsReminder.objects.create(project=project, kind=kind, due_on=due_on)
            lead = (
                TeamMembership.objects.filter(project=project, role=TeamRole.LEAD)
                .select_related("user")
                .first()
            )
            record_event(
                action="project.results_reminder_sent",
                target=project,
                after={"kind": kind.value, "due_on": due_on.isoformat()},
            )
            if lead is not None:
                notify(
                    [lead.user],
                    subject=_reminder_subject(kind, project, due_on),
                    body=_reminder_body(kind, project, due_on),
                    url=reverse("project_closeout", args=[project.pk]),
                )
            return True
    except IntegrityError:
        return False  # another worker recorded the same reminder first


def _reminder_subject(kind: ResultsReminderKind, project: Project, due_on: datetime.date):
    if kind == ResultsReminderKind.AFTER:
        return Message(gettext_lazy("[%(ref)s] Your results are overdue"), ref=project.reference)
    return Message(
        gettext_lazy("[%(ref)s] Your results are due on %(due)s"),
        ref=project.reference,
        due=due_on,
    )


def _reminder_body(kind: ResultsReminderKind, project: Project, due_on: datetime.date):
    if kind == ResultsReminderKind.AFTER:
        text = gettext_lazy(
            "The results of %(ref)s “%(title)s” were due on %(due)s. Please give the final "
            "report (results, publications or why there are none, and the confirmation that "
            "every copy of the data was destroyed) so that the project can be closed."
        )
    else:
        text = gettext_lazy(
            "Reminder: the results of %(ref)s “%(title)s” are due on %(due)s. Give the final "
            "report (results, publications or why there are none, and the confirmation that "
            "every copy of the data was destroyed) so that the project can be closed."
        )
    return Message(text, ref=project.reference, title=project.title, due=due_on)


@transaction.atomic
def submit_closing_report(
    *,
    project: Project,
    results_summary: str,
    publications: str,
    no_results_reason: str,
    copies_destroyed: bool,
    by: Any,
) -> ClosingReport:
    locked = Project.objects.select_for_update().get(pk=project.pk)
    if not is_lead(by, locked):
        raise OutputRefused(_("Only the project lead gives the final report."))
    if locked.status not in CLOSABLE:
        raise OutputRefused(_("Only a project that received data gives a final report."))
    reasons = []
    if not results_summary.strip():
        reasons.append(_("Summarise the results in plain words."))
    if not publications.strip() and not no_results_reason.strip():
        reasons.append(_("List the publications, or say why there are none."))
    if not copies_destroyed:
        reasons.append(_("Confirm that every copy of the delivered data was destroyed."))
    if reasons:
        raise OutputRefused(reasons)
    report = ClosingReport.objects.filter(project=locked).first()
    before = (
        {"publications": report.publications, "no_results_reason": report.no_results_reason}
        if report
        else None
    )
    report = report or ClosingReport(project=locked)
    report.results_summary = results_summary.strip()
    report.publications = publications.strip()
    report.no_results_reason = no_results_reason.strip()
    report.copies_destroyed_at = timezone.now()
    report.submitted_at = timezone.now()
    report.submitted_by = by
    report.save()
    record_event(
        action="project.closing_report",
        actor=by,
        target=locked,
        before=before,
        after={
            "publications": report.publications,
            "no_results_reason": report.no_results_reason,
            "copies_destroyed": True,
        },
    )
    return report


def _publish_closeout(project_id: int) -> None:
    from access.formalities.actions import publish_closeout

    publish_closeout(project_id=project_id)


def register() -> None:
    from projects import workflow

    workflow.register_guard("close", closing_guard)
    # The public page says "completed" with the final report (the datasets are destroyed by
    # provisioning's own hook on "close").
    workflow.register_after_commit("close", _publish_closeout)
