"""The hourly log review (LOG-03, LOG-05): rules over the trail raise alerts to the DPO.

The review reads a minimal projection of the trail (number, time, actor, action, target id):
never the before/after values, and it is kept apart from the dashboards. Each rule raises at
most one alert per person (or account, or event) and hour: ``LogAlert.key`` is unique, so a
review run twice over the same hour raises nothing new. The DPO sees the alerts on the
retention and review page and by e-mail, and marks them reviewed (audited).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from eds_portal.audit import record_event
from eds_portal.models import AlertRule, AuditEvent, LogAlert, User
from eds_portal.roles import Role

WINDOW = timedelta(hours=1)
DOWNLOAD_ACTIONS = ("provisioning.downloaded",)
IDENTITY_READ_ACTIONS = (
    "vault.searched",
    "vault.opposition_identity_read",
    "vault.opposition_contact_read",
)
IDENTITY_READS_PER_HOUR = 10
FAILED_LOGINS_PER_HOUR = 5
WORKING_HOURS = range(7, 20)  # local time, Monday to Friday
TRAIL_READ_ACTIONS = ("audit.viewed", "audit.exported")
ROLE_ACTIONS = ("role.granted", "role.renewed", "role.revoked")


def _events(since: datetime, until: datetime, actions: Iterable[str]) -> list[dict[str, Any]]:
    return list(
        AuditEvent.objects.filter(
            occurred_at__gte=since, occurred_at__lt=until, action__in=list(actions)
        )
        .order_by("seq")
        .values("seq", "occurred_at", "actor_id", "action", "target_id", "ip", "client_hash")
    )


def _out_of_hours(moment: datetime) -> bool:
    local = timezone.localtime(moment)
    return local.weekday() >= 5 or local.hour not in WORKING_HOURS


def _raise(
    rule: AlertRule, key: str, *, subject_id: int | None, events: list[dict[str, Any]]
) -> LogAlert | None:
    try:
        with transaction.atomic():
            alert = LogAlert.objects.create(
                rule=rule,
                key=key[:120],
                subject_id=subject_id,
                count=len(events),
                details={
                    "first_seq": events[0]["seq"],
                    "last_seq": events[-1]["seq"],
                    "actions": dict(Counter(event["action"] for event in events)),
                },
            )
            record_event(
                action="log_review.alert_raised",
                target=alert,
                after={"rule": str(rule), "count": len(events), "subject_id": subject_id},
            )
    except IntegrityError:
        return None  # already raised by an earlier run over the same hour
    return alert


def review(*, now: datetime | None = None) -> list[LogAlert]:
    """Runs every rule over the hour before ``now``; returns the alerts raised."""
    until = now or timezone.now()
    since = until - WINDOW
    hour = since.strftime("%Y%m%d%H")
    raised: list[LogAlert | None] = []

    by_actor: dict[Any, list] = defaultdict(list)
    for event in _events(since, until, DOWNLOAD_ACTIONS):
        by_actor[event["actor_id"]].append(event)
    for actor_id, events in by_actor.items():
        if len(events) > settings.EDS_REVIEW_DOWNLOAD_BURST:
            raised.append(
                _raise(
                    AlertRule.DOWNLOAD_BURST,
                    f"download_burst:{actor_id}:{hour}",
                    subject_id=actor_id,
                    events=events,
                )
            )

    by_actor = defaultdict(list)
    for event in _events(since, until, IDENTITY_READ_ACTIONS):
        by_actor[event["actor_id"]].append(event)
    for actor_id, events in by_actor.items():
        odd = [event for event in events if _out_of_hours(event["occurred_at"])]
        if odd or len(events) > IDENTITY_READS_PER_HOUR or actor_id is None:
            raised.append(
                _raise(
                    AlertRule.IDENTITY_READS,
                    f"identity_reads:{actor_id}:{hour}",
                    subject_id=actor_id,
                    events=events,
                )
            )

    by_account: dict[str, list] = defaultdict(list)
    for event in _events(since, until, ("auth.login_failed", "auth.otp_failed")):
        who = event["target_id"] or event["ip"] or event["client_hash"] or "unknown"
        by_account[who].append(event)
    for who, events in by_account.items():
        if len(events) >= FAILED_LOGINS_PER_HOUR:
            subject = int(who) if who.isdigit() else None
            raised.append(
                _raise(
                    AlertRule.FAILED_LOGINS,
                    f"failed_logins:{who}:{hour}",
                    subject_id=subject,
                    events=events,
                )
            )

    for event in _events(since, until, ROLE_ACTIONS):
        target = event["target_id"]
        raised.append(
            _raise(
                AlertRule.ROLE_CHANGE,
                f"role_change:{event['seq']}",
                subject_id=int(target) if target.isdigit() else None,
                events=[event],
            )
        )

    by_actor = defaultdict(list)
    for event in _events(since, until, TRAIL_READ_ACTIONS):
        if event["actor_id"] is not None:
            by_actor[event["actor_id"]].append(event)
    for actor_id, events in by_actor.items():
        raised.append(
            _raise(
                AlertRule.TRAIL_READ,
                f"trail_read:{actor_id}:{hour}",
                subject_id=actor_id,
                events=events,
            )
        )

    alerts = [alert for alert in raised if alert is not None]
    if alerts:
        _mail_dpos(alerts)
    return alerts


def _mail_dpos(alerts: list[LogAlert]) -> None:
    from eds_portal import mail

    recipients = list(
        User.objects.filter(groups__name=Role.DPO.value, is_active=True).values_list(
            "email", flat=True
        )
    )
    if not recipients:
        return
    lines = [
        _("%(rule)s: %(count)s events (alert %(id)s)")
        % {"rule": alert.get_rule_display(), "count": alert.count, "id": alert.pk}
        for alert in alerts
    ]
    with transaction.atomic():
        mail.queue_mail(
            kind="audit.log_alert",
            reference=",".join(str(alert.pk) for alert in alerts),
            to=recipients,
            subject=_("Log review: %(count)s alert(s)") % {"count": len(alerts)},
            body=_("The hourly log review raised these alerts; follow them up on the portal:")
            + "\n\n"
            + "\n".join(lines),
        )


def mark_reviewed(*, alert: LogAlert, by: Any) -> LogAlert:
    """The DPO followed the alert up; recorded in the trail."""
    with transaction.atomic():
        alert = LogAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.reviewed_at is None:
            alert.reviewed_at = timezone.now()
            alert.reviewed_by = by
            alert.save(update_fields=["reviewed_at", "reviewed_by"])
            record_event(action="log_review.alert_reviewed", actor=by, target=alert)
    return alert
