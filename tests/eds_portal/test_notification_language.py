"""Notifications and their e-mails in the reader's language, with links on the configured
address; the language switch remembers a signed-in user's choice."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.utils.translation import gettext_lazy

from eds_portal.models import Notification
from eds_portal.notifications import Message, notify
from eds_portal.roles import Role
from projects.actions import create_project, submit_project
from tests.conftest import login
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


def test_each_recipient_reads_the_subject_and_dates_in_their_language(
    make_user, django_capture_on_commit_callbacks
):
    english = make_user(Role.SECRETARIAT, email="en@sos.example", language="en")
    french = make_user(Role.SECRETARIAT, email="fr@sos.example", language="fr")
    default = make_user(Role.SECRETARIAT, email="default@sos.example")  # the portal's: French
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [english, french, default],
            subject=Message(gettext_lazy("%(ref)s — version %(n)s submitted"), ref="EDS-1", n=2),
            # A date parameter is written the reader's way (the text itself is no msgid here).
            body=Message("Received on %(day)s", day=date(2026, 12, 4)),
            url="/projects/1/",
        )
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects["en@sos.example"] == "[Portail EDS CONTACT] EDS-1 — version 2 submitted"
    assert subjects["fr@sos.example"] == "[Portail EDS CONTACT] EDS-1 — version 2 soumise"
    assert subjects["default@sos.example"] == subjects["fr@sos.example"]
    rows = {n.recipient.email: n for n in Notification.objects.select_related("recipient")}
    assert rows["en@sos.example"].subject == "EDS-1 — version 2 submitted"
    assert "4 Dec 2026" in rows["en@sos.example"].body
    assert "4 décembre 2026" in rows["fr@sos.example"].body


def test_a_submission_reaches_the_secretariat_in_each_members_language(
    researcher, make_user, django_capture_on_commit_callbacks
):
    english = make_user(Role.SECRETARIAT, email="sec-en@sos.example", language="en")
    french = make_user(Role.SECRETARIAT, email="sec-fr@sos.example")
    researcher.language = "en"
    researcher.save(update_fields=["language"])
    project = create_project(by=researcher, title="Bronchiolites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    with django_capture_on_commit_callbacks(execute=True):
        submit_project(project=project, by=researcher)
    by_address = {m.to[0]: m for m in mail.outbox}
    assert by_address[english.email].subject.endswith(f"{project.reference} — version 1 submitted")
    assert by_address[french.email].subject.endswith(f"{project.reference} — version 1 soumise")
    # The team's message about the new status, in the lead's language, with the submission
    # date written the English way.
    told = by_address[researcher.email]
    assert told.subject.endswith(f"{project.reference} — Submitted")
    assert "Version 1 was submitted on" in told.body
    assert "/" not in told.body.split("submitted on")[1].split("by")[0]


def test_links_in_emails_use_the_configured_address(
    settings, researcher, django_capture_on_commit_callbacks
):
    settings.EDS_PUBLIC_URL = "https://eds-portail.example.fr"
    with django_capture_on_commit_callbacks(execute=True):
        notify([researcher], subject="Sujet", body="Corps", url="/projects/7/")
    (message,) = mail.outbox
    assert message.body.endswith("\n\nhttps://eds-portail.example.fr/projects/7/")
    assert ":8000" not in message.body


def test_an_invitation_links_to_the_configured_address(
    settings, researcher, django_capture_on_commit_callbacks
):
    from projects.team_actions import invite_member

    settings.EDS_PUBLIC_URL = "https://eds-portail.example.fr"
    project = create_project(by=researcher, title="Bronchiolites")
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = invite_member(
            project=project, email="ana@inserm.example", role="analyst", by=researcher
        )
    (message,) = mail.outbox
    assert f"https://eds-portail.example.fr/projects/invitations/{token}/" in message.body
    assert "127.0.0.1" not in message.body


def test_the_language_switch_remembers_a_signed_in_users_choice(client, researcher):
    assert researcher.language == ""
    login(client, researcher)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    researcher.refresh_from_db()
    assert researcher.language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})  # unknown: ignored
    researcher.refresh_from_db()
    assert researcher.language == "en"


def test_the_language_switch_still_works_without_an_account(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/transparency/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/transparency/").content.decode()


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("0.0.0.0:9001", "http://0.0.0.0:9001"),
        ("8002", "http://127.0.0.1:8002"),
    ],
)
def test_the_demo_sends_links_to_the_address_it_serves(addr, url):
    from eds_portal.management.commands.serve_demo import public_url_for

    assert public_url_for(addr) == url
