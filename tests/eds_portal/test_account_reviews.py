"""Habilitations (issue 13, SEC-04, RET-04): unused accounts are warned then disabled; the DPO's
access review lists every account's roles and projects, with one-click revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from eds_portal.accounts.actions import disable_inactive_accounts
from eds_portal.models import AuditEvent, User
from eds_portal.roles import Role
from eds_portal.tasks import disable_inactive_accounts_task
from projects.actions import create_project
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases="__all__")


def _idle(user: User, days: int) -> User:
    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - timedelta(days=days))
    return User.objects.get(pk=user.pk)


def test_unused_accounts_are_warned_once_then_disabled(
    make_user, settings, django_capture_on_commit_callbacks
):
    settings.EDS_ACCOUNT_INACTIVE_DAYS = 365
    settings.EDS_ACCOUNT_INACTIVE_WARNING_DAYS = 30
    fresh = _idle(make_user(Role.RESEARCHER, email="fresh@x.example"), 10)
    soon = _idle(make_user(Role.RESEARCHER, email="soon@x.example"), 340)
    gone = _idle(make_user(Role.DPO, email="gone@x.example"), 400)
    with django_capture_on_commit_callbacks(execute=True):
        assert disable_inactive_accounts_task() == {"warned": 1, "disabled": 1}
    assert [message.to for message in mail.outbox] == [["soon@x.example"]]
    for user, active in ((fresh, True), (soon, True), (gone, False)):
        user.refresh_from_db()
        assert user.is_active is active
    event = AuditEvent.objects.get(action="account.deactivated")
    assert (event.target_id, event.actor, event.after) == (
        str(gone.pk),
        None,
        {"reason": "inactive"},
    )
    # Once warned, not again the next night; a sign-in starts a new idle period.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert disable_inactive_accounts() == {"warned": 0, "disabled": 0}
    assert mail.outbox == []
    # A disabled account cannot sign in.
    gone.set_password("Correct-Horse-Battery-77")
    gone.save()
    response = Client().post(
        "/accounts/login/", {"username": gone.email, "password": "Correct-Horse-Battery-77"}
    )
    assert response.status_code == 200  # the form again, not a redirect
    assert "_auth_user_id" not in response.wsgi_request.session


def test_accounts_never_used_count_from_their_creation(make_user, settings):
    user = make_user(Role.RESEARCHER)
    User.objects.filter(pk=user.pk).update(
        last_login=None, date_joined=timezone.now() - timedelta(days=500)
    )
    assert disable_inactive_accounts()["disabled"] == 1


@pytest.fixture
def review_client(dpo):
    return login(Client(), dpo)


def test_the_dpo_sees_every_account_with_roles_projects_and_last_sign_in(
    review_client, researcher, secretariat
):
    project = create_project(by=researcher, title="Otites")
    response = review_client.get("/projects/access-review/")
    assert response.status_code == 200
    html = response.content.decode()
    assert researcher.email in html
    assert secretariat.email in html
    assert project.reference in html


def test_one_click_revokes_a_role_or_disables_an_account_audited(
    review_client, dpo, secretariat, researcher
):
    response = review_client.post(
        "/projects/access-review/",
        {"action": "revoke_role", "user": secretariat.pk, "role": "secretariat"},
    )
    assert response.status_code == 302
    secretariat.forget_roles()
    assert Role.SECRETARIAT not in secretariat.roles
    revoked = AuditEvent.objects.get(action="role.revoked", target_id=str(secretariat.pk))
    assert revoked.actor == dpo
    review_client.post("/projects/access-review/", {"action": "deactivate", "user": researcher.pk})
    researcher.refresh_from_db()
    assert not researcher.is_active
    event = AuditEvent.objects.get(action="account.deactivated")
    assert (event.actor, event.after) == (dpo, {"reason": "access_review"})
    assert (
        review_client.post(
            "/projects/access-review/", {"action": "x", "user": researcher.pk}
        ).status_code
        == 400
    )
    assert (
        review_client.post(
            "/projects/access-review/", {"action": "deactivate", "user": 0}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "secretariat",
        "commission_member",
        "chair",
        "identity_officer",
        "data_steward",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_other_roles_are_refused_the_access_review(client, persona, researcher):
    login(client, persona)
    assert client.get("/projects/access-review/").status_code == 403
    response = client.post(
        "/projects/access-review/", {"action": "deactivate", "user": researcher.pk}
    )
    assert response.status_code == 403
    researcher.refresh_from_db()
    assert researcher.is_active
