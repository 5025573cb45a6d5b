"""Notifications: the page, the header's count, the home panel, the API; one's own only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from eds_portal.models import Notification
from eds_portal.notifications import notify
from eds_portal.roles import Role
from tests.conftest import login

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def note(user, subject, *, url="/projects/", minutes_ago=0, read=False):
    return Notification.objects.create(
        recipient=user,
        subject=subject,
        body=f"Corps de {subject}",
        url=url,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        read_at=timezone.now() if read else None,
    )


# --- notify ---------------------------------------------------------------------------------------


def test_notify_writes_rows_now_and_mails_after_commit(
    researcher, secretariat, make_user, django_capture_on_commit_callbacks
):
    inactive = make_user(Role.RESEARCHER, is_active=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ids = notify(
            [researcher, researcher, secretariat, inactive, None],
            subject="Sujet",
            body="Corps",
            url="/projects/1/",
        )
    assert len(ids) == 2  # deduplicated, inactive accounts skipped
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([researcher.email, secretariat.email])
    assert all(len(m.to) == 1 for m in mail.outbox)  # nobody learns who else was told
    assert "http://" in mail.outbox[0].body
    assert mail.outbox[0].body.endswith("/projects/1/")
    assert Notification.objects.filter(emailed=True).count() == 2


def _notify_then_fail(user) -> None:
    with transaction.atomic():
        notify([user], subject="Jamais", body="Jamais")
        raise RuntimeError


def test_a_rolled_back_change_notifies_nobody(researcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        _notify_then_fail(researcher)
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_a_failing_mail_server_keeps_the_notification(
    researcher, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.eds_portal.mail_backends.DownBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notify([researcher], subject="Sujet", body="Corps")
    notification = Notification.objects.get()
    assert notification.emailed is False
    assert notification.read_at is None


# --- The page -------------------------------------------------------------------------------------


def test_the_page_lists_my_notifications_newest_first_and_only_mine(
    client, researcher, secretariat
):
    note(researcher, "Ancienne", minutes_ago=10, read=True)
    note(researcher, "Récente", minutes_ago=1)
    note(secretariat, "Pas pour vous")
    login(client, researcher)
    response = client.get("/notifications/", **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Récente") < html.index("Ancienne")
    assert "Pas pour vous" not in html
    assert "1 unread notification." in html
    assert "Mark all as read" in html


def test_mark_all_as_read_marks_only_mine(client, researcher, secretariat):
    note(researcher, "Un")
    note(researcher, "Deux")
    theirs = note(secretariat, "Autre")
    login(client, researcher)
    response = client.post("/notifications/")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=researcher, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_one_shows_it_and_marking_it_read_is_a_post(client, researcher, secretariat):
    mine = note(researcher, "À voir", url="/projects/42/")
    theirs = note(secretariat, "Autre", url="/projects/43/")
    login(client, researcher)
    # GET never changes state: a third-party page could make the browser open the link.
    shown = client.get(f"/notifications/{mine.pk}/")
    assert shown.status_code == 200
    assert "À voir" in shown.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is None
    response = client.post(f"/notifications/{mine.pk}/")
    assert response.status_code == 302
    assert response.url == "/projects/42/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_a_notification_read_needs_the_csrf_token(researcher):
    from django.test import Client

    mine = note(researcher, "À voir", url="/projects/42/")
    client = login(Client(enforce_csrf_checks=True), researcher)
    assert client.post(f"/notifications/{mine.pk}/").status_code == 403
    mine.refresh_from_db()
    assert mine.read_at is None


def test_an_external_link_is_never_followed(client, researcher):
    odd = note(researcher, "Lien", url="//evil.example/")
    login(client, researcher)
    assert client.post(f"/notifications/{odd.pk}/").url == "/notifications/"
    assert "evil.example" not in client.get(f"/notifications/{odd.pk}/").content.decode()


def test_anonymous_is_sent_to_the_login_page(client, researcher):
    mine = note(researcher, "Privée")
    for target in ("/notifications/", f"/notifications/{mine.pk}/"):
        response = client.get(target)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    assert client.post("/notifications/").url.startswith("/accounts/login/")
    mine.refresh_from_db()
    assert mine.read_at is None
    # The badge refuses instead: htmx would swap a login page into the header.
    assert client.get("/notifications/badge/").status_code == 403


def test_the_page_query_count_is_pinned(client, researcher, django_assert_num_queries):
    for i in range(5):
        note(researcher, f"N{i}", minutes_ago=i)
    login(client, researcher)
    client.get("/notifications/")
    # Session, user, roles, the page's count, its rows, the unread count, session save (3);
    # the same for 5 notifications as for 50.
    with django_assert_num_queries(9):
        client.get("/notifications/")
    for i in range(45):
        note(researcher, f"M{i}", minutes_ago=10 + i)
    with django_assert_num_queries(9):
        client.get("/notifications/")


# --- The header and the home panel ----------------------------------------------------------------


def test_the_header_loads_the_unread_count(client, researcher):
    note(researcher, "Un")
    note(researcher, "Deux")
    note(researcher, "Lue", read=True)
    login(client, researcher)
    home = client.get("/", **EN).content.decode()
    assert 'hx-get="/notifications/badge/"' in home
    assert 'href="/notifications/"' in home
    badge = client.get("/notifications/badge/", **EN)
    assert badge.status_code == 200
    text = badge.content.decode()
    assert text.startswith("Notifications (2")
    assert '<span class="visually-hidden"> unread notifications</span>' in text
    client.post("/notifications/")
    assert client.get("/notifications/badge/", **EN).content.decode().strip() == "Notifications"


def test_staff_who_skipped_the_second_factor_get_no_badge_request(client, secretariat):
    login(client, secretariat, verified=False)
    page = client.get("/accounts/two-factor/verify/")
    assert "notifications/badge" not in page.content.decode()


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "secretariat",
        "commission_member",
        "patient_representative",
        "chair",
        "identity_officer",
        "data_steward",
        "dpo",
        "auditor",
    ],
    indirect=True,
)
def test_every_role_sees_its_unread_notifications_on_the_home_page(client, persona, make_user):
    mine = note(persona, "Pour moi", url="/projects/7/")
    note(persona, "Déjà lue", read=True)
    note(make_user(Role.RESEARCHER), "Pour un autre")
    login(client, persona)
    html = client.get("/", **EN).content.decode()
    assert "Unread notifications" in html
    assert html.count("Pour moi") == 1  # one panel, even for several roles
    assert f'href="/notifications/{mine.pk}/"' in html
    assert "Déjà lue" not in html
    assert "Pour un autre" not in html


def test_the_home_panel_counts_beyond_what_it_lists(client, researcher):
    for i in range(13):
        note(researcher, f"N{i}", minutes_ago=i)
    login(client, researcher)
    html = client.get("/", **EN).content.decode()
    assert "13 unread notifications:" in html
    assert "N9<" in html
    assert "N10<" not in html


# --- API ------------------------------------------------------------------------------------------


def test_the_api_lists_my_notifications_only(researcher, secretariat):
    note(researcher, "Lue", read=True, minutes_ago=5)
    mine = note(researcher, "Non lue", url="/projects/3/")
    note(secretariat, "Autre")
    api = login(APIClient(), researcher)
    body = api.get("/api/v1/notifications/").json()
    assert [row["subject"] for row in body["results"]] == ["Non lue", "Lue"]
    assert body["results"][0]["url"] == "http://testserver/projects/3/"
    assert body["results"][0]["read"] is False
    unread = api.get("/api/v1/notifications/?unread=true").json()
    assert [row["id"] for row in unread["results"]] == [mine.pk]


def test_the_api_marks_only_my_notifications_read(researcher, secretariat):
    one = note(researcher, "Un")
    two = note(researcher, "Deux")
    theirs = note(secretariat, "Autre")
    api = login(APIClient(), researcher)
    response = api.post("/api/v1/notifications/read/", {"ids": [one.pk, theirs.pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 1}
    theirs.refresh_from_db()
    two.refresh_from_db()
    assert theirs.read_at is None
    assert two.read_at is None
    assert api.post("/api/v1/notifications/read/", {}, format="json").json() == {"marked": 1}
    bad = api.post("/api/v1/notifications/read/", {"ids": ["x"]}, format="json")
    assert bad.status_code == 400


def test_the_api_refuses_anonymous_callers(researcher):
    note(researcher, "Privée")
    api = APIClient()
    assert api.get("/api/v1/notifications/").status_code in (401, 403)
    assert api.post("/api/v1/notifications/read/").status_code in (401, 403)
    assert Notification.objects.get().read_at is None


def test_the_schema_lists_the_notification_endpoints(researcher):
    from openapi_spec_validator import validate

    api = login(APIClient(), researcher)
    spec = api.get("/api/v1/schema/?format=json").json()
    validate(spec)
    assert "get" in spec["paths"]["/api/v1/notifications/"]
    assert "post" in spec["paths"]["/api/v1/notifications/read/"]
    assert "post" in spec["paths"]["/api/v1/projects/{id}/questions/"]
    assert "get" in spec["paths"]["/api/v1/projects/{id}/questions/"]
    assert "post" in spec["paths"]["/api/v1/projects/{id}/questions/{question_id}/answers/"]
