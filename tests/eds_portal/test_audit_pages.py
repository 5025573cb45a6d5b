"""The DPO's and auditor's audit trail page, its CSV export and its API (LOG-05, LOG-06)."""

from __future__ import annotations

import pytest
from django.db import connection

from eds_portal.audit import record_event
from eds_portal.models import AuditEvent
from tests.conftest import login
from tests.csv_exports import read_csv

pytestmark = pytest.mark.django_db

REFUSED_PERSONAS = [
    "researcher",
    "secretariat",
    "commission_member",
    "patient_representative",
    "chair",
    "identity_officer",
    "data_steward",
    "outsider",
]


@pytest.fixture
def trail(researcher):
    for i in range(60):
        record_event(action="test.bulk", target_type="test.thing", target_id=str(i))
    record_event(
        action="project.submitted",
        actor=researcher,
        target_type="projects.project",
        target_id="42",
        after={"version": 1},
    )
    record_event(action="project.formula", target_type="test.thing", target_id="=HYPERLINK()")


@pytest.mark.parametrize("persona", ["dpo", "auditor"], indirect=True)
def test_dpo_and_auditor_see_the_trail_newest_first(client, persona, trail):
    login(client, persona)
    response = client.get("/audit/")
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == AuditEvent.objects.count() - 1  # not counting this viewing
    seqs = [event.seq for event in page.object_list]
    assert seqs == sorted(seqs, reverse=True)
    assert len(seqs) == 50


@pytest.mark.parametrize("persona", REFUSED_PERSONAS, indirect=True)
def test_other_roles_are_refused(client, persona, trail):
    login(client, persona)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.get("/api/v1/audit-events/").status_code == 403
    assert not AuditEvent.objects.filter(action__in=["audit.viewed", "audit.exported"]).exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_filters(client, dpo, researcher, trail):
    login(client, dpo)
    response = client.get("/audit/", {"action": "project", "actor": researcher.email.upper()})
    events = list(response.context["page"].object_list)
    assert [event.action for event in events] == ["project.submitted"]
    response = client.get("/audit/", {"target_type": "test.thing", "target_id": "7"})
    assert [event.target_id for event in response.context["page"].object_list] == ["7"]


def test_date_filters_include_the_end_day(client, dpo, trail):
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    login(client, dpo)
    response = client.get("/audit/", {"since": today, "until": today, "action": "test.bulk"})
    assert response.context["page"].paginator.count == 60
    response = client.get("/audit/", {"until": "2000-01-01"})
    assert response.context["page"].paginator.count == 0


def test_invalid_filters_get_a_clear_error_and_keep_the_input(client, dpo):
    login(client, dpo)
    response = client.get(
        "/audit/", {"since": "2026-05-02", "until": "2026-05-01", "action": "auth"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="auth"' in html
    assert "field--error" in html


def test_viewing_the_trail_is_itself_audited(client, dpo, trail):
    login(client, dpo)
    client.get("/audit/", {"action": "project"})
    event = AuditEvent.objects.filter(action="audit.viewed").get()
    assert event.actor == dpo
    assert event.after["filters"] == {"action": "project"}


def test_list_query_count_is_pinned(client, dpo, trail, django_assert_num_queries):
    login(client, dpo)
    client.get("/audit/")
    # Session, user, OTP device, roles, count, audit write (savepoint, lock, last, insert,
    # release), action names, the page with its actors, session save (3): independent of the
    # number of events shown.
    advisory_lock = 1 if connection.vendor == "postgresql" else 0
    with django_assert_num_queries(14 + advisory_lock):
        client.get("/audit/", {"page": 2})


def test_csv_export_streams_every_matching_event_and_is_audited(client, auditor, trail):
    login(client, auditor)
    response = client.get("/audit/export.csv", {"target_type": "test.thing"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:5] == ["seq", "occurred_at", "actor_id", "actor_email", "action"]
    assert len(rows) == 1 + 61
    seqs = [int(row[0]) for row in rows[1:]]
    assert seqs == sorted(seqs)
    # A value that a spreadsheet would run as a formula is neutralised.
    assert [row[6] for row in rows[1:] if row[6].endswith("HYPERLINK()")] == ["'=HYPERLINK()"]
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.actor == auditor
    assert exported.after == {"filters": {"target_type": "test.thing"}}


def test_api_lists_events_for_the_dpo(client, dpo, trail):
    login(client, dpo)
    response = client.get("/api/v1/audit-events/", {"action": "project"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {item["action"] for item in body["results"]} == {"project.submitted", "project.formula"}
    assert len(body["results"][0]["hash"]) == 64


def test_api_rejects_bad_filters(client, dpo):
    login(client, dpo)
    response = client.get("/api/v1/audit-events/", {"since": "not-a-date"})
    assert response.status_code == 400
    assert "since" in response.json()


def test_action_filter_is_exact_below_a_family(client, dpo):
    for action in ("auth.login", "auth.login_failed", "auth.logout"):
        record_event(action=action)
    login(client, dpo)  # writes its own auth events? force_login does not send the signal
    family = client.get("/audit/", {"action": "auth"}).context["page"].object_list
    assert {e.action for e in family} >= {"auth.login", "auth.login_failed", "auth.logout"}
    exact = client.get("/audit/", {"action": "auth.login"}).context["page"].object_list
    assert {e.action for e in exact} == {"auth.login"}


def test_building_the_api_schema_reads_no_audit_event(client, researcher):
    login(client, researcher)
    assert client.get("/api/v1/schema/").status_code == 200
    assert not AuditEvent.objects.filter(action="audit.viewed").exists()
