"""Signing in through a real browser: password, then the second factor (TOTP).

The browser asks for French (the portal's default), so fields and buttons are found by their
French labels, as a user would find them.
"""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.urls import reverse
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token

pytestmark = pytest.mark.e2e


def test_staff_signs_in_with_password_then_totp(
    page: Page, live_server, secretariat, assert_accessible, assert_no_csp_violation
):
    page.goto(reverse("login"))
    assert_no_csp_violation(page)
    assert_accessible(page)

    sign_in(page, secretariat.email)
    expect(page).to_have_url(re.compile(re.escape(reverse("two_factor_verify")) + r"\?"))
    assert_no_csp_violation(page)
    assert_accessible(page)

    device = secretariat.totpdevice_set.get(confirmed=True)
    submit_token(page, current_code(device), button="Vérifier")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(secretariat.full_name)
    expect(page.get_by_role("region", name="Secrétariat (bureau des données)")).to_be_visible()
    assert_no_csp_violation(page)
    assert_accessible(page)
    assert AuditEvent.objects.filter(action="auth.otp_verified", actor=secretariat).exists()


def test_staff_without_device_enrols_at_first_sign_in(
    page: Page, live_server, make_user, assert_accessible, assert_no_csp_violation
):
    user = make_user(Role.SECRETARIAT, device=False)

    page.goto(reverse("login"))
    sign_in(page, user.email)
    expect(page).to_have_url(re.compile(re.escape(reverse("two_factor_setup")) + r"\?"))
    expect(page.locator("main svg")).to_be_visible()
    manual_key = "".join(page.locator(".secret").inner_text().split())
    assert manual_key
    assert_no_csp_violation(page)
    assert_accessible(page)

    key = b32decode(manual_key + "=" * (-len(manual_key) % 8))
    submit_token(page, f"{totp(key):06d}", button="Activer")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(user.full_name)
    assert user.totpdevice_set.filter(confirmed=True).count() == 1
    assert AuditEvent.objects.filter(action="auth.otp_verified", actor=user).exists()
