"""Account commands for operators: each goes through the audited action, and bad input changes
nothing and exits with a clear message (CommandError: status 1)."""

from __future__ import annotations

import io
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.models import AuditEvent, User
from eds_portal.roles import Role

pytestmark = pytest.mark.django_db

STRONG = "Correct-Horse-Battery-77"
# Who validated a staff role and until when (SEC-04): the commands ask for both.
NEXT_YEAR = (timezone.localdate() + timedelta(days=365)).isoformat()
GRANT = ["--validated-by", "Marie Manager", "--until", NEXT_YEAR]


def _run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- create_staff_account ---------------------------------------------------------------------


def test_create_staff_account_writes_its_audit_events(monkeypatch, dpo):
    output = _run(
        "create_staff_account",
        "Ivan.Identity@SOS.example",
        "--name",
        "Ivan  Identity",
        "--role",
        "identity_officer",
        "--role",
        "secretariat",
        *GRANT,
        "--password-stdin",
        "--by",
        dpo.email,
        stdin=STRONG + "\n",
        monkeypatch=monkeypatch,
    )
    user = User.objects.get(email="ivan.identity@sos.example")
    assert user.full_name == "Ivan Identity"
    assert user.roles == {Role.IDENTITY_OFFICER, Role.SECRETARIAT}
    assert user.check_password(STRONG)
    assert user.requires_two_factor
    [created] = _events("account.created")
    assert (created.actor, created.target_id) == (dpo, str(user.pk))
    granted = [e for e in _events("role.granted") if e.target_id == str(user.pk)]
    assert {e.after["role"] for e in granted} == {"identity_officer", "secretariat"}
    assert all(e.actor == dpo for e in granted)
    assert STRONG not in str([(e.before, e.after) for e in AuditEvent.objects.all()])
    assert "second factor" in output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["new@sos.example", "--name", "N", "--role", "wizard"], STRONG, "Unknown role"),
        (["new@sos.example", "--name", "N"], STRONG, "at least one role"),
        (["not-an-address", "--name", "N", "--role", "dpo"], STRONG, "not a valid e-mail"),
        (["new@sos.example", "--name", "  ", "--role", "dpo"], STRONG, "full name"),
        (["new@sos.example", "--name", "N", "--role", "dpo"], "short", "Password refused"),
        (["new@sos.example", "--name", "N", "--role", "dpo"], "", "may not be empty"),
        (["dpo@sos.example", "--name", "N", "--role", "dpo"], STRONG, "already exists"),
        (
            ["new@sos.example", "--name", "N", "--role", "dpo", "--by", "ghost@sos.example"],
            STRONG,
            "No account",
        ),
    ],
)
def test_create_staff_account_refuses_bad_input_and_creates_nothing(
    monkeypatch, dpo, args, stdin, message
):
    users, events = User.objects.count(), AuditEvent.objects.count()
    with pytest.raises(CommandError, match=message):
        _run(
            "create_staff_account",
            *args,
            *GRANT,
            "--password-stdin",
            stdin=stdin + "\n",
            monkeypatch=monkeypatch,
        )
    assert User.objects.count() == users
    assert AuditEvent.objects.count() == events


def test_without_a_terminal_the_password_must_come_on_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command(
            "create_staff_account", "new@sos.example", "--name", "N", "--role", "dpo", *GRANT
        )
    assert not User.objects.filter(email="new@sos.example").exists()


def test_a_refusal_exits_with_status_1(monkeypatch, capsys):
    from django.core.management import ManagementUtility

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "grant_role", "ghost@sos.example", "dpo"]).execute()
    assert exit_info.value.code == 1
    assert "No account has the e-mail address" in capsys.readouterr().err


# --- grant_role and revoke_role ----------------------------------------------------------------


def test_grant_role_writes_role_granted(researcher, dpo):
    before = len(_events("role.granted"))
    output = _run(
        "grant_role", researcher.email.upper(), "data_steward", "dpo", *GRANT, "--by", dpo.email
    )
    researcher.forget_roles()
    assert researcher.roles == {Role.RESEARCHER, Role.DATA_STEWARD, Role.DPO}
    new = _events("role.granted")[before:]
    assert [(e.after["role"], e.actor, e.target_id) for e in new] == [
        ("data_steward", dpo, str(researcher.pk)),
        ("dpo", dpo, str(researcher.pk)),
    ]
    assert "data_steward granted" in output
    # Granting a role already held changes and writes nothing.
    assert "already held" in _run("grant_role", researcher.email, "dpo", *GRANT)
    assert len(_events("role.granted")) == before + 2


def test_grant_role_with_one_unknown_role_grants_none(researcher):
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match=r"Unknown role.*wizard"):
        _run("grant_role", researcher.email, "dpo", "wizard", *GRANT)
    researcher.forget_roles()
    assert researcher.roles == {Role.RESEARCHER}
    assert AuditEvent.objects.count() == events


def test_grant_role_refuses_an_unknown_or_deactivated_account(researcher):
    with pytest.raises(CommandError, match="No account"):
        _run("grant_role", "ghost@sos.example", "dpo", *GRANT)
    User.objects.filter(pk=researcher.pk).update(is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        _run("grant_role", researcher.email, "dpo", *GRANT)
    assert not _events("role.granted")[-1:] or _events("role.granted")[-1].after["role"] != "dpo"


def test_revoke_role_writes_role_revoked(chair, dpo):
    output = _run("revoke_role", chair.email, "chair", "--by", dpo.email)
    chair.forget_roles()
    assert chair.roles == {Role.COMMISSION_MEMBER}
    [event] = _events("role.revoked")
    assert (event.before, event.actor, event.target_id) == ({"role": "chair"}, dpo, str(chair.pk))
    assert "chair revoked" in output
    assert "was not held" in _run("revoke_role", chair.email, "chair")
    assert len(_events("role.revoked")) == 1


def test_revoke_role_refuses_bad_input_and_revokes_nothing(chair):
    with pytest.raises(CommandError, match="Unknown role"):
        _run("revoke_role", chair.email, "chair", "emperor")
    with pytest.raises(CommandError, match="No account"):
        _run("revoke_role", "ghost@sos.example", "chair")
    chair.forget_roles()
    assert chair.roles == {Role.CHAIR, Role.COMMISSION_MEMBER}
    assert _events("role.revoked") == []


# --- reset_two_factor --------------------------------------------------------------------------


def test_reset_two_factor_writes_auth_otp_reset(secretariat, dpo):
    assert TOTPDevice.objects.filter(user=secretariat).exists()
    output = _run("reset_two_factor", secretariat.email, "--by", dpo.email)
    assert not TOTPDevice.objects.filter(user=secretariat).exists()
    [event] = _events("auth.otp_reset")
    assert (event.actor, event.target_id, event.after) == (
        dpo,
        str(secretariat.pk),
        {"devices_removed": 1},
    )
    assert "1 device(s) removed" in output


def test_reset_two_factor_refuses_bad_input_and_removes_nothing(secretariat):
    with pytest.raises(CommandError, match="No account"):
        _run("reset_two_factor", "ghost@sos.example")
    with pytest.raises(CommandError, match="their own"):
        _run("reset_two_factor", secretariat.email, "--by", secretariat.email)
    with pytest.raises(CommandError, match="No account"):
        _run("reset_two_factor", secretariat.email, "--by", "ghost@sos.example")
    assert TOTPDevice.objects.filter(user=secretariat).count() == 1
    assert _events("auth.otp_reset") == []
