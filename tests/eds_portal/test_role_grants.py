"""Staff role grants record who validated them and until when (SEC-04): the audited action, the
admin, the commands, the facade (an ended grant gives nothing), the nightly expiry and the DPO's
access review."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from eds_portal.actions import GrantRefused, expire_role_grants, grant_role
from eds_portal.authz import Permission, has_permission
from eds_portal.celery import app
from eds_portal.models import AuditEvent, RoleGrant, User
from eds_portal.roles import Role
from eds_portal.tasks import expire_role_grants_task
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases="__all__")


def _today():
    return timezone.localdate()


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_grant_role_stores_the_validator_and_end_date_in_the_grant_and_the_trail(outsider, dpo):
    until = _today() + timedelta(days=200)
    assert grant_role(
        user=outsider,
        role=Role.AUDITOR,
        by=dpo,
        validated_by="  Marie   Manager ",
        valid_until=until,
    )
    grant = RoleGrant.objects.get(user=outsider, role="auditor")
    assert (grant.validated_by, grant.valid_until, grant.granted_by) == (
        "Marie Manager",
        until,
        dpo,
    )
    event = AuditEvent.objects.get(action="role.granted", target_id=str(outsider.pk))
    assert event.after == {
        "role": "auditor",
        "validated_by": "Marie Manager",
        "valid_until": until.isoformat(),
    }
    assert has_permission(_fresh(outsider), Permission.VIEW_AUDIT_TRAIL)


@pytest.mark.parametrize(
    ("validated_by", "valid_until", "message"),
    [
        ("", 30, "validated"),
        ("   ", 30, "validated"),
        ("Marie Manager", None, "end date"),
        ("Marie Manager", -1, "past"),
    ],
)
def test_a_staff_role_without_validator_or_with_no_or_a_past_end_date_is_refused(
    outsider, dpo, validated_by, valid_until, message, english
):
    events = AuditEvent.objects.count()
    until = None if valid_until is None else _today() + timedelta(days=valid_until)
    with pytest.raises(GrantRefused, match=message):
        grant_role(
            user=outsider, role=Role.DPO, by=dpo, validated_by=validated_by, valid_until=until
        )
    assert _fresh(outsider).roles == frozenset()
    assert not RoleGrant.objects.filter(user=outsider).exists()
    assert AuditEvent.objects.count() == events


def test_the_researcher_role_needs_no_validator(outsider):
    assert grant_role(user=outsider, role=Role.RESEARCHER)
    assert _fresh(outsider).roles == {Role.RESEARCHER}


def test_a_grant_past_its_end_date_gives_nothing_through_the_facade(outsider, dpo):
    grant_role(
        user=outsider,
        role=Role.AUDITOR,
        by=dpo,
        validated_by="Marie Manager",
        valid_until=_today() + timedelta(days=10),
    )
    # The last day still counts...
    RoleGrant.objects.filter(user=outsider).update(valid_until=_today())
    assert has_permission(_fresh(outsider), Permission.VIEW_AUDIT_TRAIL)
    # ...the day after, nothing, before any nightly task ran.
    RoleGrant.objects.filter(user=outsider).update(valid_until=_today() - timedelta(days=1))
    user = _fresh(outsider)
    assert user.groups.filter(name="auditor").exists()
    assert user.roles == frozenset()
    assert not has_permission(user, Permission.VIEW_AUDIT_TRAIL)
    assert not user.requires_two_factor


def test_an_ended_grant_refuses_the_pages_too(make_user):
    auditor = make_user(Role.AUDITOR)
    client = login(Client(), auditor)
    assert client.get("/audit/").status_code == 200
    RoleGrant.objects.filter(user=auditor).update(valid_until=_today() - timedelta(days=1))
    assert client.get("/audit/").status_code == 403


def test_the_nightly_task_revokes_ended_grants_with_an_audit_event(make_user):
    ended = make_user(Role.SECRETARIAT, Role.RESEARCHER)
    current = make_user(Role.SECRETARIAT)
    RoleGrant.objects.filter(user=ended, role="secretariat").update(
        valid_until=_today() - timedelta(days=1)
    )
    assert expire_role_grants_task() == 1
    assert _fresh(ended).roles == {Role.RESEARCHER}
    assert not _fresh(ended).groups.filter(name="secretariat").exists()
    assert not RoleGrant.objects.filter(user=ended, role="secretariat").exists()
    assert _fresh(current).roles == {Role.SECRETARIAT}
    event = AuditEvent.objects.get(action="role.expired")
    assert (event.actor, event.target_id, event.before["role"], event.before["validated_by"]) == (
        None,
        str(ended.pk),
        "secretariat",
        "Marie Manager",
    )
    # Nothing more the next night.
    assert expire_role_grants() == 0


def test_beat_runs_the_expiry_every_night():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "eds_portal.tasks.expire_role_grants_task" in tasks


def test_a_new_end_date_renews_the_grant_audited(make_user, dpo):
    chair = make_user(Role.CHAIR)
    later = _today() + timedelta(days=700)
    assert grant_role(
        user=chair, role=Role.CHAIR, by=dpo, validated_by="Paul Boss", valid_until=later
    )
    grant = RoleGrant.objects.get(user=chair, role="chair")
    assert (grant.validated_by, grant.valid_until) == ("Paul Boss", later)
    event = AuditEvent.objects.get(action="role.renewed")
    assert event.before["validated_by"] == "Marie Manager"
    assert event.after == {
        "role": "chair",
        "validated_by": "Paul Boss",
        "valid_until": later.isoformat(),
    }
    # The same again changes and writes nothing.
    assert not grant_role(user=chair, role=Role.CHAIR, validated_by="Paul Boss", valid_until=later)
    assert AuditEvent.objects.filter(action="role.renewed").count() == 1


def test_revoking_a_role_removes_its_grant(make_user, dpo):
    from eds_portal.actions import revoke_role

    steward = make_user(Role.DATA_STEWARD)
    assert revoke_role(user=steward, role=Role.DATA_STEWARD, by=dpo)
    assert not RoleGrant.objects.filter(user=steward).exists()


# --- The commands ----------------------------------------------------------------------------


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_grant_role_command_asks_for_validator_and_end_date(outsider, dpo, english):
    until = (_today() + timedelta(days=90)).isoformat()
    for args, message in (
        ([], "validated"),
        (["--validated-by", "Marie Manager"], "end date"),
        (["--validated-by", "Marie Manager", "--until", "31/12/2030"], "not a date"),
        (["--validated-by", "Marie Manager", "--until", "2001-01-01"], "past"),
    ):
        with pytest.raises(CommandError, match=message):
            _run("grant_role", outsider.email, "dpo", *args)
    assert not RoleGrant.objects.filter(user=outsider).exists()
    _run("grant_role", outsider.email, "dpo", "--validated-by", "Marie Manager", "--until", until)
    grant = RoleGrant.objects.get(user=outsider)
    assert (grant.role, grant.validated_by, grant.valid_until.isoformat()) == (
        "dpo",
        "Marie Manager",
        until,
    )


def test_create_staff_account_refuses_a_staff_role_without_validator(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("Correct-Horse-Battery-77\n"))
    with pytest.raises(CommandError, match="validated"):
        _run(
            "create_staff_account",
            "n@sos.example",
            "--name",
            "N",
            "--role",
            "dpo",
            "--password-stdin",
        )
    assert not User.objects.filter(email="n@sos.example").exists()


# --- The admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_client(make_user):
    admin = make_user(is_staff=True, is_superuser=True, device=True)
    return admin, login(Client(), admin)


def test_the_admin_action_asks_for_validator_and_end_date(admin_client, outsider):
    admin, client = admin_client
    for extra in ({}, {"validated_by": "Marie Manager"}, {"valid_until": "2099-01-01"}):
        response = client.post(
            "/admin/eds_portal/user/",
            {"action": "grant_auditor", "_selected_action": [outsider.pk], **extra},
            follow=True,
        )
        assert response.status_code == 200
        assert _fresh(outsider).roles == frozenset()
    assert not AuditEvent.objects.filter(action="role.granted", target_id=str(outsider.pk)).exists()
    client.post(
        "/admin/eds_portal/user/",
        {
            "action": "grant_auditor",
            "_selected_action": [outsider.pk],
            "validated_by": "Marie Manager",
            "valid_until": "2099-01-01",
        },
    )
    assert _fresh(outsider).roles == {Role.AUDITOR}
    grant = RoleGrant.objects.get(user=outsider)
    assert (grant.validated_by, grant.valid_until.isoformat(), grant.granted_by) == (
        "Marie Manager",
        "2099-01-01",
        admin,
    )
    page = client.get(f"/admin/eds_portal/user/{outsider.pk}/change/").content.decode()
    assert "Marie Manager" in page


# --- The DPO's access review -----------------------------------------------------------------


def test_the_access_review_shows_who_validated_each_role_and_until_when(dpo, make_user):
    steward = make_user(Role.DATA_STEWARD)
    RoleGrant.objects.filter(user=steward).update(
        validated_by="Paul Boss", valid_until=_today() + timedelta(days=42)
    )
    ended = make_user(Role.AUDITOR)
    RoleGrant.objects.filter(user=ended).update(valid_until=_today() - timedelta(days=2))
    html = login(Client(), dpo).get("/projects/access-review/").content.decode()
    assert "Paul Boss" in html
    assert f'data-valid-until="{(_today() + timedelta(days=42)).isoformat()}"' in html
    assert f'data-valid-until="{(_today() - timedelta(days=2)).isoformat()}"' in html


def test_a_renewal_is_a_role_change_for_the_log_review(make_user, dpo):
    from eds_portal import log_review
    from eds_portal.models import AlertRule, LogAlert

    chair = make_user(Role.CHAIR)
    LogAlert.objects.all().delete()
    grant_role(
        user=chair,
        role=Role.CHAIR,
        by=dpo,
        validated_by="Paul Boss",
        valid_until=_today() + timedelta(days=30),
    )
    renewed = AuditEvent.objects.get(action="role.renewed")
    alerts = log_review.review(now=timezone.now() + timedelta(minutes=5))
    assert any(
        alert.rule == AlertRule.ROLE_CHANGE and alert.key == f"role_change:{renewed.seq}"
        for alert in alerts
    )
