"""A project's public page says who may be concerned (the approved cohort's period, area and
ages), so that a person can tell whether to object; its dates are written the language's way."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from access.formalities.actions import publish_project
from projects import workflow
from projects.actions import check_admissibility, create_project, submit_project
from tests.access.transparency_helpers import SPECIFICATION, record_mr004
from tests.factories import DecisionFactory
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


def _published(researcher, secretariat, chair, criteria):
    project = create_project(by=researcher, title="Bronchiolites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    version = submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    DecisionFactory(
        project=project,
        version=version,
        approved_specification={**SPECIFICATION, "criteria": criteria},
        signed_by=chair,
    )
    workflow.fire(project, "approve", by=chair)
    record_mr004(project, secretariat)
    publish_project(project=project, by=secretariat)
    project.refresh_from_db()
    return project


def _text(response) -> str:
    html = re.search(r"<main.*</main>", response.content.decode(), re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_states_the_period_area_and_ages_of_the_approved_cohort(
    client, researcher, secretariat, chair
):
    project = _published(
        researcher,
        secretariat,
        chair,
        {
            "period_start": "2025-10-01",
            "period_end": "2025-12-31",
            "departements": ["75", "92", "69"],
            "associations": [],
            "age_min": None,
            "age_max": 5,
            "icpc2_codes": ["R78"],
        },
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        text = _text(client.get(f"/transparency/projects/{project.reference}/"))
    assert "Who may be concerned" in text
    assert "Period of care From 1 Oct 2025 to 31 Dec 2025" in text
    assert "Île-de-France: Paris (75), Hauts-de-Seine (92)" in text
    assert "Auvergne-Rhône-Alpes: Rhône (69)" in text
    assert "Up to 5 years old" in text


def test_a_cohort_without_period_or_area_says_so(client, researcher, secretariat, chair):
    project = _published(researcher, secretariat, chair, {"icpc2_codes": ["R78"]})
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        text = _text(client.get(f"/transparency/projects/{project.reference}/"))
    assert "The whole period covered by the warehouse" in text
    assert "All of France: every SOS Médecins association" in text
    assert "Age at the time of care" not in text


def test_associations_of_the_cohort_are_named_with_their_departement(
    client, researcher, secretariat, chair
):
    project = _published(
        researcher, secretariat, chair, {"associations": [2], "period_start": "2025-01-01"}
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        text = _text(client.get(f"/transparency/projects/{project.reference}/"))
    assert "Since 1 Jan 2025" in text
    assert "Associations: SOS Médecins Lyon (Rhône)" in text


@pytest.mark.parametrize(
    ("language", "expected", "refused"),
    [
        ("fr", ["31 décembre 2026", "1 octobre 2025"], ["2026-12-31", "31/12/2026", "12/31/2026"]),
        ("en", ["31 Dec 2026", "1 Oct 2025"], ["2026-12-31", "12/31/2026", "Dec. 31"]),
    ],
)
def test_public_dates_are_written_the_languages_way(
    client, researcher, secretariat, chair, language, expected, refused
):
    project = _published(
        researcher, secretariat, chair, {"period_start": "2025-10-01", "period_end": "2025-12-31"}
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    with translation.override(language):
        text = _text(client.get(f"/transparency/projects/{project.reference}/"))
        listing = _text(client.get("/transparency/projects/"))
    for day in expected:
        assert day in text, day
    for form in refused:
        assert form not in text, form
        assert form not in listing, form
    # Every date of the page is in the one format (no ISO text left from the snapshot).
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)
    assert not re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", text)
