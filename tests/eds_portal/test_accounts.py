"""Accounts (issue 13): an invitation creates the account, the charter (SEC-05), password reset
and change, e-mail change with confirmation, roles changed in the admin only through the
audited actions. Mails go through the queue (eds_portal.mail) and are read from the outbox after
the task ran eagerly at commit."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.accounts.actions import (
    EMAIL_CHANGE_SALT,
    email_change_token,
    publish_charter,
    request_email_change,
)
from eds_portal.models import AuditEvent, CharterAcceptance, User
from eds_portal.roles import Role
from projects.actions import create_project
from projects.models import TeamMembership, TeamRole
from projects.team_actions import invite_member, revoke_invitation
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases="__all__")

NEWCOMER = "nina.newcomer@chu.example"
STRONG = "Correct-Horse-Battery-77"


def _actions(**filters) -> list[str]:
    return list(
        AuditEvent.objects.filter(**filters).order_by("seq").values_list("action", flat=True)
    )


def _link(message) -> str:
    [link] = re.findall(r"https?://\S+", message.body)
    assert link.startswith(settings.EDS_PUBLIC_URL)
    return link.removeprefix(settings.EDS_PUBLIC_URL)


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites à domicile")


@pytest.fixture
def charter(dpo):
    return publish_charter(
        text_fr="Je respecte le secret professionnel.",
        text_en="I keep professional secrecy.",
        by=dpo,
    )


@pytest.fixture
def invitation_link(researcher, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite_member(project=project, email=NEWCOMER, role=TeamRole.ANALYST, by=researcher)
    [message] = mail.outbox
    mail.outbox.clear()
    return _link(message)


# --- Accounts from an invitation ----------------------------------------------------------


def test_an_invitee_with_no_account_sets_a_password_accepts_the_charter_and_lands_in_the_project(
    client, invitation_link, project, charter
):
    followed = client.get(invitation_link)
    assert followed.status_code == 302
    signup_url = followed.url
    assert signup_url == invitation_link + "new-account/"

    page = client.get(signup_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert NEWCOMER in html
    assert project.reference in html
    assert "professional secrecy" in html or "secret professionnel" in html

    response = client.post(
        signup_url,
        {
            "full_name": "Nina  Newcomer",
            "password1": STRONG,
            "password2": STRONG,
            "accept_charter": "on",
        },
    )
    assert response.status_code == 302
    assert response.url == f"/projects/{project.pk}/"
    user = User.objects.get(email=NEWCOMER)
    assert user.full_name == "Nina Newcomer"
    assert user.check_password(STRONG)
    assert user.roles == {Role.RESEARCHER}
    assert TeamMembership.objects.get(project=project, user=user).role == TeamRole.ANALYST
    assert CharterAcceptance.objects.filter(user=user, charter=charter).exists()
    # Signed in, charter accepted: the project opens.
    assert client.get(response.url).status_code == 200
    trail = _actions(actor=user)
    for action in (
        "account.created_from_invitation",
        "role.granted",
        "charter.accepted",
        "project.member_joined",
        "auth.login",
    ):
        assert action in trail
    assert NEWCOMER not in str(list(AuditEvent.objects.values("before", "after")))


def test_the_charter_must_be_accepted_and_the_password_strong_nothing_created_otherwise(
    client, invitation_link, charter
):
    signup_url = invitation_link + "new-account/"
    refused = client.post(
        signup_url, {"full_name": "Nina", "password1": STRONG, "password2": STRONG}
    )
    assert refused.status_code == 400
    weak = client.post(
        signup_url,
        {"full_name": "Nina", "password1": "123", "password2": "123", "accept_charter": "on"},
    )
    assert weak.status_code == 400
    differ = client.post(
        signup_url,
        {
            "full_name": "Nina",
            "password1": STRONG,
            "password2": STRONG + "x",
            "accept_charter": "on",
        },
    )
    assert differ.status_code == 400
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_a_revoked_invitation_creates_no_account(client, invitation_link, researcher):
    from projects.models import Invitation

    revoke_invitation(invitation=Invitation.objects.get(email=NEWCOMER), by=researcher)
    signup_url = invitation_link + "new-account/"
    assert client.get(signup_url).status_code == 410
    response = client.post(
        signup_url, {"full_name": "Nina", "password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 409
    assert not User.objects.filter(email=NEWCOMER).exists()


def test_an_existing_account_signs_in_instead_and_a_signed_in_user_goes_to_the_invitation(
    client, invitation_link, make_user, outsider
):
    signup_url = invitation_link + "new-account/"
    make_user(Role.RESEARCHER, email=NEWCOMER)
    assert client.get(invitation_link).url.startswith("/accounts/login/")
    response = client.get(signup_url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    response = client.post(signup_url, {"full_name": "X", "password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    login(client, outsider)
    assert client.get(signup_url).url == invitation_link
    assert User.objects.filter(email__iexact=NEWCOMER).count() == 1


def test_an_unknown_token_is_not_found(client):
    assert client.get("/projects/invitations/nope/new-account/").status_code == 404
    assert client.post("/projects/invitations/nope/new-account/").status_code == 404


# --- The charter (SEC-05) -------------------------------------------------------------------


def test_the_charter_is_due_at_sign_in_and_again_when_a_new_version_is_published(
    client, researcher, charter, dpo
):
    login(client, researcher)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/charter/")
    assert client.get("/api/v1/projects/").status_code == 403
    page = client.get(response.url)
    assert "I keep professional secrecy." in page.content.decode() or "secret" in (
        page.content.decode()
    )
    assert client.post("/accounts/charter/", {"version": "1"}).status_code == 400
    accepted = client.post("/accounts/charter/", {"version": "1", "accept": "on", "next": "/"})
    assert accepted.status_code == 302
    assert accepted.url == "/"
    assert client.get("/").status_code == 200
    assert _actions(action="charter.accepted", actor=researcher) == ["charter.accepted"]

    publish_charter(text_fr="v2", text_en="v2", by=dpo)
    login(client, researcher)
    assert client.get("/").url.startswith("/accounts/charter/")
    # A stale page (version 1) does not accept version 2.
    assert client.post("/accounts/charter/", {"version": "1", "accept": "on"}).status_code == 400
    client.post("/accounts/charter/", {"version": "2", "accept": "on"})
    assert client.get("/").status_code == 200


def test_staff_pass_the_second_factor_before_the_charter(client, dpo, charter):
    login(client, dpo, verified=False)
    assert client.get("/").url.startswith("/accounts/two-factor/")


def test_publish_charter_command_is_audited(tmp_path, dpo):
    from django.core.management import call_command

    fr, en = tmp_path / "fr.txt", tmp_path / "en.txt"
    fr.write_text("Charte", encoding="utf-8")
    en.write_text("Charter", encoding="utf-8")
    call_command("publish_charter", str(fr), str(en), "--by", dpo.email, stdout=None)
    event = AuditEvent.objects.get(action="charter.published")
    assert event.actor == dpo
    assert event.after == {"version": 1}


# --- Password reset -------------------------------------------------------------------------


def _reset(client, email, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/accounts/password/reset/", {"email": email})


def test_reset_gives_the_same_answer_whether_the_address_exists_or_not(
    client, researcher, django_capture_on_commit_callbacks
):
    known = _reset(client, researcher.email.upper(), django_capture_on_commit_callbacks)
    unknown = _reset(client, "nobody@nowhere.example", django_capture_on_commit_callbacks)
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert known.url == "/accounts/password/reset/sent/"

    # The same page but for the per-response secrets (CSP nonce, CSRF token).
    def page(url):
        html = client.get(url).content.decode()
        return re.sub(r'(nonce|value)="[^"]*"', "", html)

    assert page(known.url) == page(unknown.url)
    assert [message.to for message in mail.outbox] == [[researcher.email]]
    events = list(AuditEvent.objects.filter(action="auth.password_reset_requested").order_by("seq"))
    assert [(e.target_id, e.after) for e in events] == [
        (str(researcher.pk), {"known_account": True}),
        ("", {"known_account": False}),
    ]
    assert "nobody@nowhere.example" not in str(list(AuditEvent.objects.values()))


def test_the_reset_link_sets_a_new_password_once_audited_and_announced(
    client, researcher, django_capture_on_commit_callbacks
):
    _reset(client, researcher.email, django_capture_on_commit_callbacks)
    link = _link(mail.outbox[0])
    mail.outbox.clear()
    form = client.get(link, follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            set_url,
            {"new_password1": "Another-Long-Pass-88", "new_password2": "Another-Long-Pass-88"},
        )
    assert done.status_code == 302
    assert done.url == "/accounts/password/reset/complete/"
    researcher.refresh_from_db()
    assert researcher.check_password("Another-Long-Pass-88")
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert (event.target_id, event.after) == (str(researcher.pk), {"how": "reset"})
    assert [message.to for message in mail.outbox] == [[researcher.email]]
    # The link works once.
    again = Client().get(link, follow=True)
    assert "validlink" in again.context
    assert not again.context["validlink"]


def test_reset_requests_are_limited_per_account_and_per_client(
    client, researcher, settings, django_capture_on_commit_callbacks
):
    settings.EDS_PASSWORD_RESET_PER_ACCOUNT_HOUR = 2
    settings.EDS_PASSWORD_RESET_PER_CLIENT_HOUR = 4
    answers = [
        _reset(client, researcher.email, django_capture_on_commit_callbacks).status_code
        for _ in range(4)
    ]
    assert answers == [302, 302, 302, 302]  # the same answer, but no more mail
    assert len(mail.outbox) == 2
    # Beyond the client's quota, every address gets the same refusal.
    assert _reset(client, researcher.email, django_capture_on_commit_callbacks).status_code == 429
    assert _reset(client, "x@y.example", django_capture_on_commit_callbacks).status_code == 429
    assert len(mail.outbox) == 2


# --- Password change ------------------------------------------------------------------------


def test_password_change_needs_the_old_password_and_is_audited(
    client, researcher, django_capture_on_commit_callbacks
):
    assert Client().get("/accounts/password/change/").status_code == 302
    researcher.set_password(STRONG)
    researcher.save()
    login(client, researcher)
    wrong = client.post(
        "/accounts/password/change/",
        {
            "old_password": "wrong",
            "new_password1": "Brand-New-Pass-99",
            "new_password2": "Brand-New-Pass-99",
        },
    )
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            "/accounts/password/change/",
            {
                "old_password": STRONG,
                "new_password1": "Brand-New-Pass-99",
                "new_password2": "Brand-New-Pass-99",
            },
        )
    assert ok.status_code == 302
    researcher.refresh_from_db()
    assert researcher.check_password("Brand-New-Pass-99")
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert (event.actor, event.after) == (researcher, {"how": "change"})
    assert [message.to for message in mail.outbox] == [[researcher.email]]
    # Still signed in.
    assert client.get("/").status_code == 200


# --- E-mail change --------------------------------------------------------------------------


def test_email_change_is_confirmed_from_the_new_address_and_the_old_one_is_told(
    client, researcher, django_capture_on_commit_callbacks
):
    researcher.set_password(STRONG)
    researcher.save()
    old = researcher.email
    login(client, researcher)
    assert (
        client.post("/accounts/email/", {"new_email": "r@new.example", "password": "x"}).status_code
        == 400
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/accounts/email/", {"new_email": "R@New.example", "password": STRONG})
    assert sent.status_code == 200
    [message] = mail.outbox
    assert message.to == ["r@new.example"]
    mail.outbox.clear()
    researcher.refresh_from_db()
    assert researcher.email == old  # not before confirmation
    link = _link(message)
    assert client.get(link).status_code == 200
    assert User.objects.get(pk=researcher.pk).email == old  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(link)
    assert confirmed.status_code == 302
    assert User.objects.get(pk=researcher.pk).email == "r@new.example"
    assert [m.to for m in mail.outbox] == [[old]]
    assert _actions(target_id=str(researcher.pk), action__startswith="account.email") == [
        "account.email_change_requested",
        "account.email_changed",
    ]
    # Used once: the address changed, the link no longer works.
    assert client.post(link).status_code == 400


def test_email_change_to_an_address_in_use_sends_nothing_and_says_the_same(
    client, researcher, outsider, django_capture_on_commit_callbacks
):
    researcher.set_password(STRONG)
    researcher.save()
    login(client, researcher)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/accounts/email/", {"new_email": outsider.email, "password": STRONG})
    assert sent.status_code == 200
    assert outsider.email in sent.content.decode()
    assert mail.outbox == []


def test_an_email_change_link_works_only_for_its_account_and_not_forever(
    client, researcher, outsider, settings
):
    token = email_change_token(user=researcher, new_email="r@new.example")
    login(client, outsider)
    assert client.post(f"/accounts/email/confirm/{token}/").status_code == 400
    assert Client().post(f"/accounts/email/confirm/{token}/").status_code == 302  # to login
    expired = signing.dumps(
        {"u": researcher.pk, "o": researcher.email, "n": "r@new.example"}, salt=EMAIL_CHANGE_SALT
    )
    settings.EDS_EMAIL_CHANGE_HOURS = 1
    login(client, researcher)
    forged = expired[:-2] + ("AA" if not expired.endswith("AA") else "BB")
    assert client.post(f"/accounts/email/confirm/{forged}/").status_code == 400
    assert User.objects.get(pk=researcher.pk).email == researcher.email


def test_request_email_change_audits_without_addresses(researcher):
    request_email_change(user=researcher, new_email="r@new.example")
    event = AuditEvent.objects.get(action="account.email_change_requested")
    assert "r@new.example" not in str(event.after)


# --- Roles in the admin go through the audited actions ---------------------------------------


@pytest.fixture
def admin_client(make_user):
    admin = make_user(is_staff=True, is_superuser=True, device=True)
    return admin, login(Client(), admin)


@pytest.mark.django_db(databases="__all__")
def test_admin_grants_and_revokes_roles_only_through_audited_actions(admin_client, outsider):
    admin, client = admin_client
    response = client.post(
        "/admin/eds_portal/user/",
        {
            "action": "grant_dpo",
            "_selected_action": [outsider.pk],
            "validated_by": "Marie Manager",
            "valid_until": "2099-12-31",
        },
    )
    assert response.status_code == 302
    outsider.forget_roles()
    assert outsider.roles == {Role.DPO}
    granted = AuditEvent.objects.get(action="role.granted", target_id=str(outsider.pk))
    assert (granted.actor, granted.after) == (
        admin,
        {"role": "dpo", "validated_by": "Marie Manager", "valid_until": "2099-12-31"},
    )

    client.post(
        "/admin/eds_portal/user/", {"action": "revoke_dpo", "_selected_action": [outsider.pk]}
    )
    outsider.forget_roles()
    assert outsider.roles == frozenset()
    revoked = AuditEvent.objects.get(action="role.revoked", target_id=str(outsider.pk))
    assert revoked.actor == admin


@pytest.mark.django_db(databases="__all__")
def test_the_admin_form_cannot_change_roles(admin_client, outsider):
    _admin, client = admin_client
    page = client.get(f"/admin/eds_portal/user/{outsider.pk}/change/")
    assert page.status_code == 200
    assert 'name="groups"' not in page.content.decode()
    client.post(
        f"/admin/eds_portal/user/{outsider.pk}/change/",
        {
            "email": outsider.email,
            "full_name": outsider.full_name,
            "is_active": "on",
            "groups": [Group.objects.get(name=Role.CHAIR.value).pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    outsider.forget_roles()
    assert Role.CHAIR not in outsider.roles
    assert not AuditEvent.objects.filter(action="role.granted", target_id=str(outsider.pk)).exists()


@pytest.mark.django_db(databases="__all__")
def test_admin_resets_two_factor_through_the_audited_action(admin_client, make_user):
    _admin, client = admin_client
    staff = make_user(Role.SECRETARIAT)
    assert TOTPDevice.objects.filter(user=staff).exists()
    client.post(
        "/admin/eds_portal/user/", {"action": "reset_two_factor", "_selected_action": [staff.pk]}
    )
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert AuditEvent.objects.filter(action="auth.otp_reset", target_id=str(staff.pk)).exists()


@pytest.mark.django_db(databases="__all__")
def test_role_holders_who_are_not_administrators_cannot_use_the_admin_actions(
    client, dpo, outsider
):
    login(client, dpo)
    response = client.post(
        "/admin/eds_portal/user/", {"action": "grant_dpo", "_selected_action": [outsider.pk]}
    )
    assert response.status_code == 302
    assert "/admin/login/" in response.url
    outsider.forget_roles()
    assert outsider.roles == frozenset()
