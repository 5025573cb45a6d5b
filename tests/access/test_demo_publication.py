"""``make run``'s demo: the decided project gets its formalities and its public page."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from eds_portal.routers import vault_access
from projects.models import Project, ProjectStatus
from warehouse.cohort import CohortCriteria, cohort_visits
from warehouse.models import Concept, Identity, OppositionIdentity, Person

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])


def test_the_decided_demo_project_is_published_on_the_portal(client):
    call_command("load_demo")
    call_command("load_demo_projects")
    decided = Project.objects.get(status=ProjectStatus.APPROVED)
    call_command("load_demo_oppositions")
    decided.refresh_from_db()
    assert decided.status == ProjectStatus.PUBLISHED
    assert decided.formality_records.count() == 1
    page = client.get(reverse("transparency_project", args=[decided.reference]))
    assert page.status_code == 200
    assert escape(decided.title) in page.content.decode()
    call_command("load_demo_oppositions")  # idempotent: nothing approved is left to publish
    assert decided.formality_records.count() == 1


def _published_demo():
    """`make demo` in order: accounts, projects, the XS warehouse of seed 1, the oppositions."""
    from warehouse.synthetic.generator import generate

    call_command("load_demo")
    call_command("load_demo_projects")
    generate(size="XS", seed=1, replace=True)
    out = io.StringIO()
    call_command("load_demo_oppositions", stdout=out)
    return Project.objects.get(status=ProjectStatus.PUBLISHED), out.getvalue()


def _criteria(project):
    from access.formalities.gates import current_decision

    raw = dict(current_decision(project).approved_specification["criteria"])
    for key in ("period_start", "period_end"):
        raw[key] = date.fromisoformat(raw[key]) if raw.get(key) else None
    return CohortCriteria(
        **{key: tuple(value) if isinstance(value, list) else value for key, value in raw.items()}
    )


def test_the_identity_printed_to_object_with_is_in_the_published_projects_dataset(settings):
    published, out = _published_demo()
    printed = re.search(
        r"birth name (?P<name>.+?), first names (?P<first>.+?), sex (?P<sex>[FM]), "
        r"born (?P<born>\d{4}-\d{2}-\d{2}) in ",
        out,
    )
    assert printed, out
    born = date.fromisoformat(printed["born"])
    with vault_access("test: find the printed demo person"):
        identity = Identity.objects.get(
            birth_name=printed["name"],
            first_names=printed["first"],
            sex=printed["sex"],
            birth_date=born,
        )
    criteria = _criteria(published)
    cohort = Person.objects.filter(person_id__in=cohort_visits(criteria).values("person_id"))
    person = cohort.filter(person_source_value=identity.person_key).first()
    assert person is not None, "the printed person is not in the published project's cohort"
    # Their class of sex and birth year survives small-cell suppression: they are delivered.
    same_class = cohort.filter(
        gender_concept_id=person.gender_concept_id, year_of_birth=person.year_of_birth
    ).count()
    assert same_class >= settings.EDS_SMALL_CELL_THRESHOLD
    # Nobody of the sample requests: those three already object.
    assert (
        not OppositionIdentity.objects.using("vault")
        .filter(birth_name=identity.birth_name, birth_date=identity.birth_date)
        .exists()
    )


def test_the_published_demo_projects_title_purpose_and_cohort_agree():
    from projects import demo

    demo_content = demo.GASTRO_SECTIONS
    call_command("load_demo")
    call_command("load_demo_projects")
    published = Project.objects.get(status=ProjectStatus.APPROVED)
    content = published.versions.get().content
    assert content["identification"] == demo_content["identification"]
    title = content["identification"]["lay_title"]
    assert published.title == title
    assert "gastro-entérite" in title.lower()
    said = " ".join(
        str(value)
        for key in ("identification", "purpose", "methodology")
        for value in content[key].values()
    ).lower()
    assert "gastro-entérite" in content["identification"]["summary"].lower()
    assert "gastro-entérite" in content["methodology"]["population"].lower()
    # Nothing of another study (the demo's other projects are about bronchiolitis).
    assert "bronchiol" not in said
    criteria = _criteria(published)
    assert criteria.icpc2_codes
    assert criteria.age_max is not None
    names = Concept.objects.filter(
        vocabulary_id="ICPC2", concept_code__in=criteria.icpc2_codes
    ).values_list("name_fr", flat=True)
    assert len(names) == len(criteria.icpc2_codes)
    assert all("gastro" in name.lower() or "digestive" in name.lower() for name in names), names
    # The population in words and the criteria: under 6, autumn and winter 2025.
    assert criteria.age_max == 5
    assert "moins de 6 ans" in content["methodology"]["population"]
    assert criteria.period_start == date(2025, 10, 1)
    assert criteria.period_end == date(2025, 12, 31)
