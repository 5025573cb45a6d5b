"""OPP-15: counts of objections by scope, channel and deadline met, for the activity report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import Channel, Scope
from access.opposition import actions
from access.opposition.statistics import opposition_statistics
from tests.access.helpers import DBS, online_request, staff_request
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=DBS)


@pytest.fixture
def requests(secretariat, dpo):
    today = timezone.now()
    met = staff_request(secretariat, channel=Channel.POST, birth_name="Alpha")
    late = staff_request(
        secretariat, channel=Channel.EMAIL, received_at=today - timedelta(days=40), birth_name="B"
    )
    overdue = staff_request(
        secretariat, channel=Channel.POST, received_at=today - timedelta(days=40), birth_name="C"
    )
    pending = online_request(birth_name="Delta")
    for request in (met, late):
        actions.send_answer(
            by=dpo, request=request, outcome="refused", reasons="Pas de données.", channel="post"
        )
    actions.record_withdrawal(by=dpo, objection=pending, channel="email", received_at=today)
    return {"met": met, "late": late, "overdue": overdue, "pending": pending}


def test_opp15_counts_by_scope_channel_and_deadline(requests):
    year = timezone.localdate().year
    if any(r.received_at.year != year for r in requests.values()):
        pytest.skip("the fixture's requests straddle a new year")
    stats = opposition_statistics(year)
    assert stats.total == 4
    assert stats.withdrawals == 1
    assert dict(stats.by_scope)[Scope.ALL.label] == 4
    assert dict(stats.by_scope)[Scope.PROJECTS.label] == 0
    channels = dict(stats.by_channel)
    assert channels[Channel.POST.label] == 2
    assert channels[Channel.EMAIL.label] == 1
    assert channels[Channel.ONLINE.label] == 1
    assert (stats.delay.met, stats.delay.missed) == (1, 1)
    assert (stats.delay.pending, stats.delay.overdue) == (1, 1)
    assert opposition_statistics(year - 1).total == 0


def test_opp15_the_dpo_reads_the_figures_and_nobody_else(
    client, requests, dpo, secretariat, identity_officer, researcher, auditor, settings
):
    settings.LANGUAGE_CODE = "en"
    url = "/registers/oppositions/statistics/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (secretariat, identity_officer, researcher, auditor):
        login(client, user)
        assert client.get(url).status_code == 403, user
    login(client, dpo)
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Answered within the deadline" in html
    assert requests["met"].receipt_number not in html  # counts only
    # A year that is not a number is a clear 400 (eds_portal.hostile_input), never a 500.
    assert client.get(url + "?year=abc").status_code == 400
