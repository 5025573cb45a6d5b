"""Fixtures of the sessions and decisions tests: a session, an agenda item, a vote."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from projects.sessions import actions
from tests.projects.sessions_helpers import declare, open_session_with, project_in_review


@pytest.fixture
def in_review(researcher, secretariat):
    return project_in_review(researcher, secretariat)


@pytest.fixture
def planned(secretariat):
    return actions.create_session(
        by=secretariat, date=timezone.now() + timedelta(days=7), place="Salle du conseil"
    )


@pytest.fixture
def item(planned, in_review, secretariat):
    return actions.add_to_agenda(session=planned, project=in_review, by=secretariat)


@pytest.fixture
def voting(item, secretariat, chair, commission_member, patient_representative):
    """An open session with the quorum, the item's project declared by the three present."""
    declare(item.project, chair, commission_member, patient_representative)
    open_session_with(
        item.session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    item.refresh_from_db()
    item.session.refresh_from_db()
    return item
