"""Processing-time statistics: medians by month of first decision, admissibility, chart."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone

from eds_portal.roles import Role
from projects.actions import create_project
from projects.dashboards.charts import durations_chart
from projects.dashboards.selectors import processing_stats
from projects.models import (
    AdmissibilityCheck,
    AdmissibilityDecision,
    Project,
    ProjectStatus,
    Recommendation,
)
from tests.conftest import login
from tests.factories import DecisionFactory, ProtocolVersionFactory

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
D = dt.date


def paris(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=PARIS)


NOW = paris(2026, 3, 20, 12)


@pytest.fixture
def chair_user(make_user):
    return make_user(Role.CHAIR)


def _submitted(researcher, submitted_at: dt.datetime, status=ProjectStatus.UNDER_REVIEW):
    project = create_project(by=researcher, title="Statistiques")
    Project.objects.filter(pk=project.pk).update(status=status)
    ProtocolVersionFactory(project=project, submitted_at=submitted_at, submitted_by=researcher)
    project.refresh_from_db()
    return project


def _decide(project, chair, decided_at, *, supersedes=None, opinion=Recommendation.FAVOURABLE):
    return DecisionFactory(
        project=project,
        version=project.versions.get(number=1),
        opinion=opinion,
        reasons="Avis motivé.",
        signed_by=chair,
        decided_at=decided_at,
        supersedes=supersedes,
    )


def _accept(project, secretariat, decided_at):
    return AdmissibilityCheck.objects.create(
        project=project,
        version=project.versions.get(number=1),
        decision=AdmissibilityDecision.ACCEPTED,
        decided_by=secretariat,
        decided_at=decided_at,
    )


@pytest.fixture
def decided(researcher, secretariat, chair_user):
    """Two first decisions in February 2026, a correction in March, one before the period."""
    first = _submitted(researcher, paris(2026, 1, 5))  # Monday
    _accept(first, secretariat, paris(2026, 1, 7))
    original = _decide(first, chair_user, paris(2026, 2, 2))  # 28 days, 20 working days
    _decide(first, chair_user, paris(2026, 3, 2), supersedes=original)  # a correction
    second = _submitted(researcher, paris(2026, 1, 12))
    _accept(second, secretariat, paris(2026, 1, 19))
    _decide(second, chair_user, paris(2026, 2, 16), opinion=Recommendation.UNFAVOURABLE)
    old = _submitted(researcher, paris(2025, 9, 1))
    _accept(old, secretariat, paris(2025, 9, 2))
    _decide(old, chair_user, paris(2025, 10, 1))
    return first, second, old


def test_medians_by_month_of_the_first_decision(decided):
    stats = processing_stats(months=3, now=NOW)
    assert (stats.first_month, stats.last_month) == (D(2026, 1, 1), D(2026, 3, 1))
    january, february, march = stats.decisions_by_month
    assert (january.month, january.count, january.median_working_days) == (
        D(2026, 1, 1),
        0,
        None,
    )
    assert february.count == 2
    # 28 and 35 calendar days; 20 and 25 working days.
    assert february.median_calendar_days == 31.5
    assert february.median_working_days == 22.5
    # The correction of March is not a first decision.
    assert march.count == 0
    assert stats.decisions.count == 2


def test_a_first_decision_before_the_period_is_left_out(decided):
    # The old file's first decision was on 1 October 2025.
    assert processing_stats(months=5, now=NOW).decisions.count == 2
    assert processing_stats(months=6, now=NOW).decisions.count == 3


def test_time_to_admissibility(decided):
    stats = processing_stats(months=3, now=NOW)
    # 5 -> 7 January (2 days, 2 working days); 12 -> 19 January (7 days, 5 working days).
    assert stats.admissibility.count == 2
    assert stats.admissibility.median_calendar_days == 4.5
    assert stats.admissibility.median_working_days == 3.5


def test_files_per_status(decided, researcher):
    create_project(by=researcher, title="Brouillon")
    counts = processing_stats(months=3, now=NOW).files_per_status
    assert ProjectStatus.DRAFT not in counts
    assert counts[ProjectStatus.UNDER_REVIEW] == 3
    assert counts[ProjectStatus.APPROVED] == 0


def test_the_chart_draws_no_bar_for_an_empty_month(decided):
    chart = durations_chart(processing_stats(months=3, now=NOW).decisions_by_month)
    assert [len(slot.bars) for slot in chart.slots] == [0, 2, 0]
    assert [slot.empty for slot in chart.slots] == [True, False, True]
    calendar_bar, working_bar = chart.slots[1].bars
    assert calendar_bar.height > working_bar.height > 0
    # The axis goes a little above the highest median, in whole numbers.
    assert chart.ticks[-1].value == 50
    assert all(isinstance(tick.value, int) for tick in chart.ticks)


def test_an_empty_period_still_has_its_months():
    stats = processing_stats(months=6, now=NOW)
    assert [m.month for m in stats.decisions_by_month] == [
        D(2025, 10, 1),
        D(2025, 11, 1),
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
        D(2026, 3, 1),
    ]
    assert stats.decisions.median_working_days is None
    chart = durations_chart(stats.decisions_by_month)
    assert all(not slot.bars for slot in chart.slots)


# --- The page ----------------------------------------------------------------------------------


@pytest.fixture
def recent(researcher, secretariat, chair_user):
    """A first decision this month, 30 days after the first submission."""
    now = timezone.now()
    project = _submitted(researcher, now - dt.timedelta(days=30))
    _accept(project, secretariat, now - dt.timedelta(days=25))
    _decide(project, chair_user, now)
    return project


@pytest.mark.parametrize("persona", ["secretariat", "chair", "dpo"], indirect=True)
def test_the_statistics_page(client, persona, recent):
    login(client, persona)
    response = client.get("/commission/statistics/")
    assert response.status_code == 200
    page = response.content.decode()
    # An accessible chart: an image with a title and a description, the figures in a table.
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    assert 'aria-labelledby="chart-title chart-desc"' in page
    assert '<title id="chart-title">' in page
    assert '<desc id="chart-desc">' in page
    assert "<script" not in page.split("<main", 1)[1]
    assert ' style="' not in page
    months = response.context["stats"].decisions_by_month
    assert len(months) == 12
    assert months[-1].count == 1
    assert months[-1].median_calendar_days == 30
    assert page.count("<time datetime=") == 12
    assert "—" in page  # months without a decision


def test_the_statistics_page_takes_a_period(client, secretariat, recent):
    login(client, secretariat)
    response = client.get("/commission/statistics/", {"months": "24"})
    assert response.status_code == 200
    assert len(response.context["stats"].decisions_by_month) == 24
    refused = client.get("/commission/statistics/", {"months": "7"})
    assert refused.status_code == 400
    assert "months" in refused.context["form"].errors


def test_the_chart_numbers_are_not_localised(client, secretariat, recent):
    """French writes 12,5: SVG coordinates need 12.5 whatever the language."""
    login(client, secretariat)
    page = client.get("/commission/statistics/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    coordinates = re.findall(r' (?:x|y|width|height|x1|x2|y1|y2)="([^"]*)"', svg)
    assert coordinates
    assert all("," not in value for value in coordinates)
