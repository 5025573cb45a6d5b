"""The breach register (SEC-08): the DPO records incidents with the 72-hour clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from eds_portal.models import AuditEvent, BreachIncident, BreachRisk
from tests.conftest import login

pytestmark = pytest.mark.django_db


# Once for the module: a form posted twice names the same minute.
DETECTED = (timezone.localtime() - timedelta(hours=100)).strftime("%Y-%m-%dT%H:%M")


def _form(**changes):
    data = {
        "detected_at": DETECTED,
        "summary": "A laptop holding an export was stolen.",
        "persons_concerned": "About 200 patients of one association",
        "data_concerned": "Pseudonymised visits",
        "measures": "Disk encrypted; access revoked.",
        "risk": BreachRisk.RISK,
        "cnil_notified_at": "",
        "late_reason": "",
        "persons_informed_at": "",
    }
    data.update(changes)
    return data


def test_sec08_dpo_records_a_breach_and_sees_the_72_hour_clock(client, dpo):
    login(client, dpo)
    response = client.post("/breaches/", _form())
    assert response.status_code == 302
    breach = BreachIncident.objects.get()
    assert breach.recorded_by == dpo
    assert breach.notification_due_at == breach.detected_at + timedelta(hours=72)
    assert breach.notification_overdue
    event = AuditEvent.objects.get(action="breach.recorded")
    assert event.actor == dpo
    # The text of the incident stays in the register, not in the trail.
    assert "laptop" not in str(event.after)
    page = client.get("/breaches/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]


def test_sec08_a_late_notification_needs_its_reasons(client, dpo):
    login(client, dpo)
    notified = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/breaches/", _form(cnil_notified_at=notified))
    assert response.status_code == 400
    response = client.post(
        "/breaches/", _form(cnil_notified_at=notified, late_reason="Found on a weekend")
    )
    assert response.status_code == 302
    breach = BreachIncident.objects.get()
    assert not breach.notification_overdue
    response = client.post(
        f"/breaches/{breach.pk}/",
        _form(cnil_notified_at=notified, late_reason="Found on a weekend", measures="More"),
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="breach.updated").after == {"fields": ["measures"]}


def test_sec08_only_the_dpo(client, researcher, auditor):
    for user in (researcher, auditor):
        login(client, user)
        assert client.get("/breaches/").status_code == 403


def test_audit_trail_page_is_not_cached(client, dpo):
    login(client, dpo)
    response = client.get("/audit/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
