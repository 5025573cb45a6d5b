"""The reading view of a protocol: every part of a version, its PDF, and the draft's preview.

What the commission approves is what it can read: the sections, the data request with each
variable's justification and generalisation, the cohort, the size and access, the delivery, the
team, the recipients and the attachments. Who may read it is exactly who may see the version.
"""

from __future__ import annotations

from datetime import date
from html import unescape

import pytest
from django.utils import formats, translation

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.actions import check_admissibility, create_project, save_section, submit_project
from projects.models import TeamMembership, TeamRole
from projects.reading import cohort_rows
from projects.sections import SECTIONS
from projects.sessions import actions
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft
from tests.projects.pdf_text import normalised, pdf_objects, pdf_text
from tests.projects.sessions_helpers import declare

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

# A cohort with every kind of criterion: a period, both age bounds, a sex, an ICPC-2 code, an
# ICD-10 prefix (no code is "J21" itself), a kind of care, two départements, an association.
COHORT = {
    "period_start": "2023-01-01",
    "period_end": "2025-12-31",
    "age_min": "0",
    "age_max": "2",
    "sex": "F",
    "icpc2_codes": "R78",
    "icd10_codes": "J21",
    "visit_kinds": ["VIS_HOME"],
    "departements": ["75", "13"],
    "associations": ["1"],
}
COHORT_TEXTS = (
    "R78 — Acute bronchitis/bronchiolitis",
    "J21 (every code that starts with it)",
    "from 0 to 2 years old",
    "Female",
    "Home visit",
    "75 Paris",
    "13 Bouches-du-Rhône",
    "SOS Médecins Paris",
)


def _english_day(value: date) -> str:
    with translation.override("en"):
        return formats.date_format(value, "DATE_FORMAT")


PERIOD = f"from {_english_day(date(2023, 1, 1))} to {_english_day(date(2025, 12, 31))} inclusive"


def _draft(researcher, analyst=None):
    project = create_project(by=researcher, title="Bronchiolites du nourrisson")
    if analyst is not None:
        TeamMembership.objects.create(project=project, user=analyst, role=TeamRole.ANALYST)
    fill_draft(project, researcher)
    save_section(
        project=project,
        section_key="data_request",
        raw={**VALID_SECTIONS["data_request"], **COHORT, "free_text_justification": ""},
        by=researcher,
    )
    attach_required(project, researcher)
    return project


@pytest.fixture
def analyst(make_user):
    return make_user(Role.RESEARCHER, full_name="Anna Analyst", email="anna@inserm.example")


@pytest.fixture
def submitted(researcher, secretariat, analyst):
    """A version in the commission's hands, with the whole cohort and an analyst on the team."""
    project = _draft(researcher, analyst)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    return project


def _version_url(project, number: int = 1) -> str:
    return f"/projects/{project.pk}/versions/{number}/"


def _pdf_url(project, number: int = 1) -> str:
    return _version_url(project, number) + "protocol.pdf"


def _read(client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


# --- The cohort, in words ----------------------------------------------------------------------


def test_cohort_rows_name_every_criterion_with_its_labels():
    with translation.override("en"):
        rows = {
            row["key"]: row["values"]
            for row in cohort_rows(
                {
                    "period_start": "2023-01-01",
                    "period_end": "2025-12-31",
                    "age_min": 0,
                    "age_max": 2,
                    "sex": "F",
                    "icpc2_codes": ["R78"],
                    "icd10_codes": ["J21"],
                    "visit_kinds": ["VIS_HOME"],
                    "departements": ["75", "13"],
                    "associations": [1],
                }
            )
        }
    assert rows == {
        "period": [PERIOD],
        "ages": ["from 0 to 2 years old"],
        "sex": ["Female"],
        "icpc2_codes": ["R78 — Acute bronchitis/bronchiolitis"],
        "icd10_codes": ["J21 (every code that starts with it)"],
        "visit_kinds": ["Home visit"],
        "departements": ["75 Paris", "13 Bouches-du-Rhône"],
        "associations": ["SOS Médecins Paris"],
    }


def test_cohort_rows_say_one_bound_and_no_restriction():
    with translation.override("en"):
        rows = {row["key"]: row["values"] for row in cohort_rows({"age_min": 65})}
        only_end = cohort_rows({"period_end": "2024-06-30", "age_max": 1})
    assert rows["ages"] == ["65 years old or more"]
    assert rows["period"] == rows["sex"] == rows["departements"] == []
    assert only_end[0]["values"] == [f"until {_english_day(date(2024, 6, 30))} inclusive"]
    assert only_end[1]["values"] == ["1 year old or less"]
    with translation.override("fr"):
        french = {row["key"]: row["values"] for row in cohort_rows({"icpc2_codes": ["R78"]})}
    assert french["icpc2_codes"] == ["R78 — Bronchite aiguë/bronchiolite"]


# --- The version page: everything ---------------------------------------------------------------


def test_the_version_page_shows_every_part_of_the_protocol(client, submitted, researcher, analyst):
    login(client, researcher)
    page = _read(client, _version_url(submitted))
    with translation.override("en"):
        titles = [str(section.title) for section in SECTIONS]
    for title in titles:
        assert f">{title}</h2>" in page, title
    # Sections: what was typed, choices and booleans as words, days in the house's style.
    assert "Bronchiolites vues en visite à domicile" in page  # public title
    assert "Étude rétrospective descriptive." in page  # methodology
    assert _english_day(date(2026, 12, 31)) in page  # planned end
    assert "MR-004 (research not involving the human person)" in page  # the confirmed route
    assert "Public body" in page
    # Variables, each with its justification and generalisation.
    for justification in ("Décrire la population.", "Âge des nourrissons.", "Identifier les"):
        assert justification in page
    assert "Year only" in page
    assert "Exact value" in page
    # The cohort, every criterion with its labels.
    assert PERIOD in page
    for text in COHORT_TEXTS:
        assert text in page, text
    # Size, access, delivery.
    assert "5000" in page
    assert "24" in page
    assert "Portal tables" in page
    # The team, the recipients (every member named by the specification), the attachments.
    assert researcher.full_name in page
    assert analyst.full_name in page
    assert analyst.email in page
    assert "Project lead" in page
    assert "Analyst" in page
    assert "Accounts that receive the files if the request is approved" in page
    assert f"{analyst.full_name} (Analyst)" in page
    for name in ("protocol.pdf", "information_note.pdf", "declaration_of_interests.pdf"):
        assert name in page
    assert f"/projects/{submitted.pk}/versions/1/protocol.pdf" in page


def test_a_criterion_left_empty_says_so(client, researcher, secretariat):
    project = create_project(by=researcher, title="Otites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    login(client, researcher)
    page = _read(client, _version_url(project))
    assert "R78 — Acute bronchitis/bronchiolitis" in page
    assert "2 years old or less" in page
    assert page.count("No restriction") == 6  # period, sex, ICD-10, care, départements, assoc.


# --- The PDF ---------------------------------------------------------------------------------


def test_the_pdf_is_a_tagged_pdf_ua_with_the_whole_protocol(client, submitted, researcher):
    login(client, researcher)
    response = client.get(_pdf_url(submitted), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{submitted.reference}-v1.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    declared = pdf_objects(pdf)
    assert "pdfuaid:part" in declared  # XMP: PDF/UA identification
    assert "/StructTreeRoot" in declared  # tagged
    assert "/Lang (en)" in declared
    text = normalised(pdf_text(pdf))
    assert PERIOD in text
    for expected in (
        *COHORT_TEXTS,
        "Décrire la population.",
        "Year only",
        "Accounts that receive the files if the request is approved",
        "Anna Analyst (Analyst)",
        "declaration_of_interests.pdf",
        submitted.versions.get().content_sha256,
    ):
        assert expected in text, expected
    event = AuditEvent.objects.get(action="protocol.version_pdf_downloaded")
    assert event.actor_id == researcher.pk
    assert event.after["version"] == 1


def test_the_pdf_is_in_french_by_default(client, submitted, researcher):
    login(client, researcher)
    pdf = client.get(_pdf_url(submitted)).content
    assert "/Lang (fr)" in pdf_objects(pdf)
    assert "R78 — Bronchite aiguë/bronchiolite" in normalised(pdf_text(pdf))


# --- Who reads it: exactly who sees the version -------------------------------------------------


def test_the_team_and_the_staff_who_follow_the_file_read_it(
    client, submitted, analyst, secretariat, dpo
):
    for person in (analyst, secretariat, dpo):
        login(client, person)
        assert client.get(_version_url(submitted)).status_code == 200
        assert client.get(_pdf_url(submitted)).status_code == 200


def test_a_member_who_declared_no_interest_reads_it(client, submitted, commission_member):
    declare(submitted, commission_member)
    login(client, commission_member)
    assert "R78" in _read(client, _version_url(submitted))
    assert client.get(_pdf_url(submitted)).status_code == 200


def test_anonymous_is_sent_to_the_login_page(client, submitted):
    for url in (_version_url(submitted), _pdf_url(submitted)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
    assert not AuditEvent.objects.filter(action="protocol.version_pdf_downloaded").exists()


def test_a_researcher_outside_the_team_gets_404(client, submitted, make_user):
    login(client, make_user(Role.RESEARCHER))
    assert client.get(_version_url(submitted)).status_code == 404
    assert client.get(_pdf_url(submitted)).status_code == 404


def test_a_conflicted_member_is_refused_as_on_the_file(
    client, submitted, commission_member, make_user, researcher
):
    # Declared interest: the file, the version and its PDF answer 404 alike.
    declare(submitted, commission_member, interest=True)
    login(client, commission_member)
    for url in (f"/projects/{submitted.pk}/", _version_url(submitted), _pdf_url(submitted)):
        assert client.get(url).status_code == 404, url
    # Conflicted automatically (same organisation as the team), whatever they declared.
    colleague = make_user(Role.COMMISSION_MEMBER, organisation=researcher.organisation)
    declare(submitted, colleague)
    login(client, colleague)
    for url in (f"/projects/{submitted.pk}/", _version_url(submitted), _pdf_url(submitted)):
        assert client.get(url).status_code == 404, url
    # Not declared yet: nothing either.
    login(client, make_user(Role.PATIENT_REPRESENTATIVE))
    assert client.get(_pdf_url(submitted)).status_code == 404
    assert not AuditEvent.objects.filter(action="protocol.version_pdf_downloaded").exists()


@pytest.mark.parametrize(
    "persona", ["identity_officer", "data_steward", "auditor", "outsider"], indirect=True
)
def test_roles_that_do_not_see_projects_are_refused(client, persona, submitted):
    login(client, persona)
    version = client.get(_version_url(submitted)).status_code
    assert version in (403, 404)
    assert client.get(_pdf_url(submitted)).status_code == version


def test_a_version_that_does_not_exist_is_404(client, submitted, researcher):
    login(client, researcher)
    assert client.get(_version_url(submitted, 2)).status_code == 404
    assert client.get(_pdf_url(submitted, 2)).status_code == 404


# --- The preview of the draft ---------------------------------------------------------------------


def test_the_lead_previews_the_draft_as_the_commission_will_read_it(
    client, researcher, analyst, make_user
):
    project = _draft(researcher, analyst)
    co_investigator = make_user(Role.RESEARCHER, full_name="Colin Co")
    TeamMembership.objects.create(
        project=project, user=co_investigator, role=TeamRole.CO_INVESTIGATOR
    )
    login(client, researcher)
    detail = _read(client, f"/projects/{project.pk}/")
    assert f"/projects/{project.pk}/preview/" in detail
    assert f"/projects/{project.pk}/preview/" in _read(client, f"/projects/{project.pk}/submit/")
    page = _read(client, f"/projects/{project.pk}/preview/")
    assert "preview of the draft" in page
    assert PERIOD in page
    for text in (*COHORT_TEXTS, "Décrire la population.", "Year only", "protocol.pdf"):
        assert text in page, text
    assert "Colin Co" in page
    assert "Co-investigator" in page
    login(client, co_investigator)
    assert client.get(f"/projects/{project.pk}/preview/").status_code == 200


def test_the_preview_lists_what_is_missing(client, researcher):
    project = create_project(by=researcher, title="Otites")
    fill_draft(project, researcher, except_sections=("methodology",))
    login(client, researcher)
    page = _read(client, f"/projects/{project.pk}/preview/")
    assert "Not filled in." in page
    assert "items are missing before submission" in page


def test_the_preview_is_for_those_who_write_the_draft(
    client, researcher, analyst, commission_member, secretariat, make_user
):
    project = _draft(researcher, analyst)
    url = f"/projects/{project.pk}/preview/"
    assert client.get(url).status_code == 302
    login(client, analyst)  # on the team, does not write the draft
    assert client.get(url).status_code == 403
    login(client, make_user(Role.RESEARCHER))
    assert client.get(url).status_code == 404
    login(client, commission_member)
    assert client.get(url).status_code == 404
    # Submitted: the draft is no longer the lead's to edit; the version is what is read.
    submit_project(project=project, by=researcher)
    login(client, researcher)
    assert client.get(url).status_code == 403


# --- Linked from the review, the vote and the decision ------------------------------------------


def test_the_review_page_shows_the_cohort_and_links_the_reading(
    client, submitted, rapporteur, secretariat
):
    from tests.projects.review_helpers import assign

    assign(submitted, rapporteur, secretariat)
    login(client, rapporteur)
    page = _read(client, f"/projects/{submitted.pk}/review/")
    assert PERIOD in page
    for text in COHORT_TEXTS:
        assert text in page, text
    assert _version_url(submitted) in page
    assert _pdf_url(submitted) in page
    login(client, secretariat)
    reviews = _read(client, f"/projects/{submitted.pk}/reviews/")
    assert _version_url(submitted) in reviews
    assert _pdf_url(submitted) in reviews


def test_the_vote_page_shows_the_request_to_those_who_may_read_it(
    client, submitted, secretariat, chair, commission_member, patient_representative, rapporteur
):
    session = actions.create_session(
        by=secretariat, date=submitted.created_at, place="Salle du conseil"
    )
    item = actions.add_to_agenda(session=session, project=submitted, by=secretariat)
    declare(submitted, chair, commission_member)
    url = f"/commission/sessions/{session.pk}/items/{item.pk}/"
    for reader in (commission_member, secretariat):
        login(client, reader)
        page = _read(client, url)
        assert PERIOD in page
        for text in (*COHORT_TEXTS, "Décrire la population.", "Anna Analyst (Analyst)"):
            assert text in page, text
        assert _version_url(submitted) in page
        assert _pdf_url(submitted) in page
    # Not declared yet: the item's page (if it answers) shows nothing of the file.
    login(client, patient_representative)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 404)
    assert "R78" not in response.content.decode()
