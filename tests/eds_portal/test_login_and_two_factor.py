"""Login, throttling, the mandatory second factor for staff and session expiry (SEC-03)."""

from __future__ import annotations

from base64 import b32decode

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from eds_portal.actions import reset_two_factor
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from tests.conftest import current_code, login
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _post_login(client, email, password=TEST_PASSWORD):
    return client.post(LOGIN, {"username": email, "password": password})


def test_login_is_case_insensitive_and_audited(client, researcher):
    response = _post_login(client, researcher.email.upper())
    assert response.status_code == 302
    assert response.url == reverse("home")
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == researcher
    assert event.target_id == str(researcher.pk)


def test_failed_login_is_audited_without_the_typed_address(client, researcher):
    response = _post_login(client, researcher.email, "wrong-password-123")
    assert response.status_code == 200
    assert "auth.login_failed" in AuditEvent.objects.values_list("action", flat=True)
    known = AuditEvent.objects.get(action="auth.login_failed")
    assert known.target_id == str(researcher.pk)
    assert known.after == {"known_account": True}
    _post_login(client, "nobody@example.org", "wrong-password-123")
    unknown = AuditEvent.objects.filter(action="auth.login_failed").order_by("-seq").first()
    assert unknown.target_id == ""
    assert "nobody@example.org" not in str(unknown.after)


def test_login_form_error_keeps_the_email(client, researcher):
    response = _post_login(client, researcher.email, "wrong-password-123")
    assert researcher.email in response.content.decode()


def test_failed_logins_are_throttled(client, researcher):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, researcher.email, "wrong-password-123")
    # Even the right password is refused during the cool-off.
    response = _post_login(client, researcher.email)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked (lockout is per account and address).


def test_throttling_is_per_account(client, researcher, make_user):
    other = make_user(Role.RESEARCHER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, researcher.email, "wrong-password-123")
    assert _post_login(client, other.email).status_code == 302


def test_researcher_is_not_forced_to_enrol(client, researcher):
    _post_login(client, researcher.email)
    assert client.get("/").status_code == 200


def test_staff_without_device_is_sent_to_enrolment(client, make_user):
    staff = make_user(Role.SECRETARIAT, device=False)
    _post_login(client, staff.email)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_setup"))
    page = client.get(response.url)
    html = page.content.decode()
    assert "<svg" in html
    assert 'class="secret"' in html


def test_enrolment_confirms_the_device_with_a_valid_code(client, make_user):
    staff = make_user(Role.SECRETARIAT, device=False)
    _post_login(client, staff.email)
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    right = current_code(device)
    bad = client.post(reverse("two_factor_setup"), {"token": f"{(int(right) + 1) % 10**6:06d}"})
    assert bad.status_code == 400
    assert AuditEvent.objects.filter(action="auth.otp_failed", actor=staff).exists()
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()  # as if the user waited the second the throttle asks for

    response = client.post(
        reverse("two_factor_setup"), {"token": current_code(device), "next": "/audit/"}
    )
    assert response.status_code == 302
    assert response.url == "/audit/"
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="auth.otp_enrolled", actor=staff).exists()
    assert client.get("/").status_code == 200


def test_enrolment_key_shown_matches_the_device(client, make_user):
    staff = make_user(Role.DPO, device=False)
    _post_login(client, staff.email)
    html = client.get(reverse("two_factor_setup")).content.decode()
    shown = html.split('class="secret">')[1].split("<")[0]
    key = b32decode(shown + "=" * (-len(shown) % 8))
    device = TOTPDevice.objects.get(user=staff)
    assert key == device.bin_key
    assert totp(key) == totp(device.bin_key)


def test_staff_with_device_must_verify_after_password(client, secretariat):
    _post_login(client, secretariat.email)
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    device = secretariat.totpdevice_set.get()
    wrong = client.post(reverse("two_factor_verify"), {"token": "12345a"})
    assert wrong.status_code == 400
    ok = client.post(reverse("two_factor_verify"), {"token": current_code(device), "next": "/"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.otp_verified", actor=secretariat).exists()


def test_verify_refuses_an_external_next_url(client, secretariat):
    _post_login(client, secretariat.email)
    device = secretariat.totpdevice_set.get()
    response = client.post(
        reverse("two_factor_verify"),
        {"token": current_code(device), "next": "https://evil.example/"},
    )
    assert response.url == "/"


def test_wrong_codes_are_throttled(client, secretariat):
    _post_login(client, secretariat.email)
    device = secretariat.totpdevice_set.get()
    right = current_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    client.post(reverse("two_factor_verify"), {"token": wrong})
    # django-otp's throttle: after a failure, even the right code waits a moment.
    response = client.post(reverse("two_factor_verify"), {"token": right})
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="auth.otp_failed").latest("seq").after == {
        "stage": "login",
        "throttled": True,
    }


def test_an_unverified_staff_session_cannot_reach_another_device_enrolment(client, secretariat):
    """A stolen password alone must not let someone enrol their own authenticator."""
    _post_login(client, secretariat.email)
    response = client.get(reverse("two_factor_setup"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("two_factor_verify"))
    response = client.post(reverse("two_factor_setup"), {"token": "123456"})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=secretariat).count() == 1


def test_api_refuses_unverified_staff(client, secretariat):
    _post_login(client, secretariat.email)
    response = client.get("/api/v1/me/")
    assert response.status_code == 403


def test_reset_two_factor_is_audited(secretariat, dpo):
    assert reset_two_factor(user=secretariat, by=dpo) == 1
    assert not secretariat.totpdevice_set.exists()
    assert AuditEvent.objects.get(action="auth.otp_reset").actor == dpo


def test_logout_is_post_only_and_audited(client, researcher):
    login(client, researcher)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.logout", actor=researcher).exists()
    assert client.get("/").status_code == 302


def test_sessions_expire_after_inactivity(client, researcher):
    login(client, researcher)
    client.get("/")
    assert client.session.get_expiry_age() == settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST  # each request pushes the expiry forward
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_expired_session_sends_back_to_login(client, researcher):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    login(client, researcher)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith(LOGIN)


@pytest.mark.parametrize("password", ["short-pw-1", "123456789012345", "password1234"])
def test_weak_passwords_are_refused(password, researcher):
    with pytest.raises(ValidationError):
        validate_password(password, researcher)


def test_a_twelve_character_password_is_accepted(researcher):
    validate_password("Vq7#mule-ski", researcher)


def test_changing_the_case_of_the_address_does_not_reset_the_throttle(client, researcher):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_login(client, researcher.email, "wrong-password-123")
    assert _post_login(client, researcher.email.upper()).status_code == 429
    assert _post_login(client, researcher.email.title()).status_code == 429
