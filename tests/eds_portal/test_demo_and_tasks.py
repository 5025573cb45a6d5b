"""Demo accounts for `make run`, and the foundation's periodic tasks."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from eds_portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from eds_portal.models import AuditEvent, User
from eds_portal.roles import Role
from eds_portal.tasks import clear_expired_sessions_task, verify_audit_chain_task

pytestmark = pytest.mark.django_db


def test_demo_has_an_account_for_every_role_and_is_idempotent(capsys):
    call_command("load_demo")
    call_command("load_demo")
    out = capsys.readouterr().out
    covered = set()
    for account in DEMO_ACCOUNTS:
        user = User.objects.get(email=account.email)
        assert user.check_password(DEMO_PASSWORD)
        assert user.roles == frozenset(account.roles)
        covered |= user.roles
        assert account.email in out
        if user.requires_two_factor:
            assert user.totpdevice_set.filter(confirmed=True).count() == 1
    assert covered == set(Role)
    assert "demo_totp" in out
    assert User.objects.count() == len(DEMO_ACCOUNTS)


def test_demo_totp_prints_a_code_the_device_accepts(capsys):
    call_command("load_demo")
    capsys.readouterr()
    call_command("demo_totp", "secretariat@demo.eds")
    code = capsys.readouterr().out.strip()
    device = User.objects.get(email="secretariat@demo.eds").totpdevice_set.get()
    assert device.verify_token(code)


def test_demo_totp_gives_the_researcher_the_code_of_the_device_she_is_enrolling(capsys):
    from eds_portal.actions import pending_totp_device

    call_command("load_demo")
    researcher = User.objects.get(email="chercheuse@demo.eds")
    with pytest.raises(CommandError, match="enrolment page"):
        call_command("demo_totp", "chercheuse@demo.eds")  # nothing to enrol yet
    device = pending_totp_device(user=researcher)  # what the enrolment page makes
    capsys.readouterr()
    call_command("demo_totp", "chercheuse@demo.eds")
    assert device.verify_token(capsys.readouterr().out.strip())


def test_demo_totp_refuses_an_account_outside_the_demo(make_user):
    make_user(Role.RESEARCHER, email="someone@inserm.example")
    with pytest.raises(CommandError):
        call_command("demo_totp", "someone@inserm.example")


def test_demo_is_refused_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("load_demo")
    assert not User.objects.exists()


def test_chain_verification_task_records_its_result(dpo):
    result = verify_audit_chain_task.delay()
    assert result.get()["ok"] is True
    event = AuditEvent.objects.get(action="audit.chain_verified")
    assert event.actor is None
    assert event.after["ok"] is True
    assert mail.outbox == []


def test_broken_chain_alerts_the_dpo(dpo, django_capture_on_commit_callbacks):
    from tests.eds_portal.helpers import tamper

    tamper("UPDATE eds_portal_auditevent SET action = 'tampered' WHERE seq = 1")
    # The alert leaves through the mail queue, after the commit (eds_portal.mail).
    with django_capture_on_commit_callbacks(execute=True):
        verify_audit_chain_task.delay()
    event = AuditEvent.objects.get(action="audit.chain_verified")
    assert event.after["ok"] is False
    assert event.after["broken_seq"] == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [dpo.email]


def test_expired_sessions_are_cleared(client, researcher):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from tests.conftest import login

    login(client, researcher)
    Session.objects.update(expire_date=timezone.now() - timedelta(minutes=1))
    assert clear_expired_sessions_task.delay().get() == 1
    assert not Session.objects.exists()


def test_the_router_keeps_portal_tables_out_of_the_warehouse_and_vault():
    from eds_portal.routers import DatabaseRouter

    router = DatabaseRouter()
    assert router.db_for_read(User) == "default"
    assert router.allow_migrate("default", "eds_portal", "user", model=User)
    assert not router.allow_migrate("warehouse", "eds_portal", "user", model=User)
    assert not router.allow_migrate("vault", "eds_portal", "user", model=User)
    tables = connection.introspection.table_names()
    assert "eds_portal_auditevent" in tables
