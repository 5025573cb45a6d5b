"""Counts agree with their noun ("1 membre", "2 membres"): ngettext and blocktranslate count,
never "membre(s)"."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import translation

from projects.models import TeamMembership, TeamRole
from projects.sessions import actions
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _convene(client, item, secretariat, language):
    login(client, secretariat)
    return client.post(
        f"/commission/sessions/{item.session_id}/convene/",
        follow=True,
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_the_convocation_message_counts_one_member_in_the_singular(
    client, item, secretariat, chair
):
    with translation.override("en"):
        response = _convene(client, item, secretariat, "en")
    assert "Convocation sent to 1 commission member." in _messages(response)


def test_the_convocation_message_counts_members_in_the_plural(
    client, item, secretariat, chair, commission_member
):
    with translation.override("en"):
        response = _convene(client, item, secretariat, "en")
    assert "Convocation sent to 2 commission members." in _messages(response)


def test_the_convocation_says_1_membre_and_2_membres_in_french(
    client, item, secretariat, chair, commission_member, django_capture_on_commit_callbacks
):
    """Needs the French catalogue with this change's messages (locale/pending) compiled."""
    response = _convene(client, item, secretariat, "fr")
    assert "Convocation envoyée à 2 membres de la commission." in _messages(response)
    commission_member.is_active = False
    commission_member.save(update_fields=["is_active"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        count = actions.convene_session(session=item.session, by=secretariat)
    assert count == 1
    (message,) = mail.outbox
    assert "1 dossier à l\u2019ordre du jour" in message.body
    assert "(s)" not in message.body


def test_the_team_page_says_1_membre_then_2_membres(client, researcher, make_user):
    from projects.actions import create_project

    project = create_project(by=researcher, title="Bronchiolites")
    login(client, researcher)
    text = " ".join(client.get(f"/projects/{project.pk}/team/").content.decode().split())
    assert re.search(r"\b1 membre\b", text)
    assert "1 membres" not in text
    analyst = make_user(full_name="Ana Analyst")
    TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    text = " ".join(client.get(f"/projects/{project.pk}/team/").content.decode().split())
    assert re.search(r"\b2 membres\b", text)
