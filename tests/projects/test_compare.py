"""Two versions compared field by field and variable by variable (GOV-12, GOV-13)."""

from __future__ import annotations

import html as html_module
import re

import pytest
from django.utils import timezone, translation

from eds_portal.roles import Role
from projects.actions import create_project, save_section, submit_project
from projects.diff import ChangeStatus, Segment, SegmentKind, compare_versions, substantial_changes
from projects.models import (
    Attachment,
    AttachmentKind,
    Project,
    ProjectStatus,
    ProtocolVersion,
    TeamMembership,
)
from projects.sections import BY_KEY
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft
from warehouse import catalogue

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

SCRIPT = "<script>alert(1)</script>"
OLD_OBJECTIVES = "Décrire l'incidence des bronchiolites en hiver"
NEW_OBJECTIVES = "Décrire l'incidence et la gravité des bronchiolites chaque hiver"


def _label(section: str, name: str) -> str:
    form = BY_KEY[section].form_class()
    fields = {**form.fields, **getattr(form, "criteria_form", form).fields}
    return str(fields[name].label)


@pytest.fixture
def analyst(make_user):
    return make_user(Role.RESEARCHER, full_name="Ana Analyst", email="ana@inserm.example")


@pytest.fixture
def two_versions(researcher, analyst):
    """Version 1 as helpers make it; version 2 after the commission asked for changes."""
    project = create_project(by=researcher, title="Bronchiolites")
    fill_draft(project, researcher)
    save_section(
        project=project,
        section_key="purpose",
        by=researcher,
        raw={**VALID_SECTIONS["purpose"], "objectives": OLD_OBJECTIVES},
    )
    attach_required(project, researcher)
    TeamMembership.objects.create(project=project, user=analyst, role="co_investigator")
    submit_project(project=project, by=researcher)
    # The commission's transition is not under test here: simulate it.
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.CHANGES_REQUESTED)
    project.refresh_from_db()

    save_section(
        project=project,
        section_key="purpose",
        by=researcher,
        raw={**VALID_SECTIONS["purpose"], "objectives": NEW_OBJECTIVES},
    )
    save_section(
        project=project,
        section_key="methodology",
        by=researcher,
        raw={
            **VALID_SECTIONS["methodology"],
            "methodology": f"Étude rétrospective {SCRIPT} descriptive.",
        },
    )
    request = {
        key: value
        for key, value in VALID_SECTIONS["data_request"].items()
        if not key.endswith("diagnosis.icpc2")  # a variable removed
    }
    request.update(
        {
            "var__visit.kind": "on",  # a variable added
            "just__visit.kind": "Distinguer visites et consultations.",
            "gen__visit.kind": "exact",
            "gen__person.birth_date": "five_year_band",  # a generalisation changed
            "just__person.sex": "Décrire la population par sexe.",  # a justification changed
            "access_months": "36",
        }
    )
    save_section(project=project, section_key="data_request", raw=request, by=researcher)
    TeamMembership.objects.filter(project=project, user=analyst).update(role="analyst")
    old_protocol = project.attachments.get(kind=AttachmentKind.PROTOCOL)
    Attachment.objects.filter(pk=old_protocol.pk).update(removed_at=timezone.now())
    Attachment.objects.create(
        project=project,
        kind=AttachmentKind.PROTOCOL,
        original_name="protocole-v2.pdf",
        file=old_protocol.file.name,
        content_type="application/pdf",
        size=9,
        sha256="1" * 64,
        uploaded_by=researcher,
    )
    submit_project(project=project, by=researcher)
    first, second = project.versions.order_by("number")
    return project, first, second


def _url(project, query=""):
    return f"/projects/{project.pk}/compare/{query}"


# --- The comparison itself ------------------------------------------------------------------


def test_each_kind_of_change_has_its_status_and_label(two_versions):
    _project, first, second = two_versions
    with translation.override("fr"):
        comparison = compare_versions(first, second)
        request = comparison.section("data_request")
        variables = {v.code: v for v in request.variables}

        objectives = comparison.section("purpose").field("objectives")
        assert objectives.status == ChangeStatus.CHANGED
        assert objectives.label == _label("purpose", "objectives")
        assert (objectives.old, objectives.new) == (OLD_OBJECTIVES, NEW_OBJECTIVES)

        added = variables["visit.kind"]
        assert added.status == ChangeStatus.ADDED
        assert added.label == catalogue.BY_CODE["visit.kind"].label_fr
        assert added.generalisation.new == str(catalogue.Generalisation.EXACT.label)

        removed = variables["diagnosis.icpc2"]
        assert removed.status == ChangeStatus.REMOVED
        assert removed.justification.old == "Identifier les bronchiolites."

        birth = variables["person.birth_date"]
        assert birth.status == ChangeStatus.CHANGED
        assert birth.generalisation_changed
        assert not birth.justification_changed
        assert birth.generalisation.old == str(catalogue.Generalisation.YEAR.label)
        assert birth.generalisation.new == str(catalogue.Generalisation.FIVE_YEAR_BAND.label)

        sex = variables["person.sex"]
        assert sex.justification_changed
        assert not sex.generalisation_changed
        assert sex.status == ChangeStatus.CHANGED

        duration = request.field("access_months")
        assert duration.status == ChangeStatus.CHANGED
        assert (duration.old, duration.new) == ("24", "36")
        assert duration.label == _label("data_request", "access_months")

        # Choices show their labels, booleans Yes/No, and unchanged stays unchanged.
        controller = comparison.section("actors").field("controller_type")
        public = dict(BY_KEY["actors"].form_class().fields["controller_type"].choices)["public"]
        assert (controller.old, controller.status) == (str(public), ChangeStatus.UNCHANGED)
        attested = comparison.section("purpose").field("prohibited_purposes")
        assert attested.status == ChangeStatus.UNCHANGED
        assert attested.old == attested.new == translation.gettext("Yes")
        assert request.field("age_max").status == ChangeStatus.UNCHANGED

        # Team: a role changed; attachments: the protocol replaced (another SHA-256).
        roles = {m.email: m for m in comparison.team}
        assert roles["ana@inserm.example"].status == ChangeStatus.CHANGED
        assert roles["rita@inserm.example"].status == ChangeStatus.UNCHANGED
        files = {a.kind: a for a in comparison.attachments}
        assert files[AttachmentKind.PROTOCOL].status == ChangeStatus.REPLACED
        assert files[AttachmentKind.PROTOCOL].file.new == "protocole-v2.pdf"
        assert files[AttachmentKind.INFORMATION_NOTE].status == ChangeStatus.UNCHANGED

        summary = {row.key: row for row in comparison.summary}
        assert comparison.has_changes
        assert (summary["data_request"].added, summary["data_request"].removed) == (1, 1)
        # access duration, the generalisation and the justification
        assert summary["data_request"].changed == 3
        assert summary["purpose"].changed == 1
        assert summary["identification"].total == 0
        assert summary["team"].changed == 1
        assert summary["attachments"].changed == 1


def test_long_texts_come_with_a_word_diff(two_versions):
    _project, first, second = two_versions
    objectives = compare_versions(first, second).section("purpose").field("objectives")
    assert objectives.word_diff == (
        Segment(SegmentKind.EQUAL, "Décrire l'incidence"),
        Segment(SegmentKind.INSERTED, "et la gravité"),
        Segment(SegmentKind.EQUAL, "des bronchiolites"),
        Segment(SegmentKind.DELETED, "en"),
        Segment(SegmentKind.INSERTED, "chaque"),
        Segment(SegmentKind.EQUAL, "hiver"),
    )
    assert SegmentKind.INSERTED not in {s.kind for s in objectives.old_segments}
    assert SegmentKind.DELETED not in {s.kind for s in objectives.new_segments}


def test_a_version_compared_with_itself_has_no_change(two_versions):
    _project, first, _second = two_versions
    comparison = compare_versions(first, first)
    assert not comparison.has_changes
    assert substantial_changes(first, first) == []


def test_substantial_changes_name_the_new_variable_and_the_duration(two_versions):
    _project, first, second = two_versions
    with translation.override("en"):
        changes = substantial_changes(first, second)
    label = catalogue.BY_CODE["visit.kind"].label_en
    assert f"New variable: {label} (visit.kind)" in changes
    assert "Access duration (months): 24 → 36" in changes
    # A removed variable, a coarser generalisation or a new wording are not substantial.
    assert not any("diagnosis.icpc2" in change for change in changes)
    assert len(changes) == 2


def test_substantial_changes_cover_population_cohort_linkage_and_recipients(researcher):
    base = {key: dict(value) for key, value in VALID_SECTIONS.items()}
    changed = {key: dict(value) for key, value in VALID_SECTIONS.items()}
    changed["methodology"]["population"] = "Enfants de moins de 3 ans."
    changed["data_request"]["age_max"] = "3"
    changed["route"]["linkage_other_sources"] = "yes"
    changed["actors"]["data_recipients"] = "Claire Chercheuse, Inserm\nAna Analyst, Inserm"
    old = ProtocolVersion(number=1, content=base)
    new = ProtocolVersion(number=2, content=changed)
    with translation.override("en"):
        changes = substantial_changes(old, new)
    assert changes == [
        "Population studied changed",
        "Cohort criteria changed: Maximum age (years)",
        "Linkage with other sources: No → Yes",
        "Data recipients changed",
    ]


def test_fields_of_a_missing_section_are_added(researcher):
    old = ProtocolVersion(number=1, content={})
    new = ProtocolVersion(number=2, content={"purpose": dict(VALID_SECTIONS["purpose"])})
    purpose = compare_versions(old, new).section("purpose")
    assert {f.status for f in purpose.fields} == {ChangeStatus.ADDED}


# --- The page -------------------------------------------------------------------------------


def _rows(html: str) -> dict[str, str]:
    """The <tr> of each row header, by the header's text."""
    rows = {}
    for row in re.findall(r"<tr class=\"diff-row.*?</tr>", html, flags=re.S):
        header = re.search(r"<th scope=\"row\">(.*?)</th>", row, flags=re.S).group(1)
        rows[html_module.unescape(re.sub(r"<.*?>", "", header).strip())] = row
    return rows


def test_the_page_shows_only_the_changes_by_default(client, researcher, two_versions):
    project, _first, _second = two_versions
    login(client, researcher)
    response = client.get(_url(project))  # defaults: the last two versions
    assert response.status_code == 200
    html = response.content.decode()
    rows = _rows(html)
    objectives = _label("purpose", "objectives")
    assert "diff-row--changed" in rows[objectives]
    assert "<ins>" in rows[objectives]
    assert "<del>" in rows[objectives]
    assert re.search(r"<ins>.*?et la gravité</ins>", rows[objectives])
    assert re.search(r"<del>.*?en</del>", rows[objectives])
    assert "diff-row--added" in rows[f"{catalogue.BY_CODE['visit.kind'].label_fr} visit.kind"]
    assert (
        "diff-row--removed"
        in rows[f"{catalogue.BY_CODE['diagnosis.icpc2'].label_fr} diagnosis.icpc2"]
    )
    assert "diff-row--changed" in rows[_label("data_request", "access_months")]
    # Unchanged fields are hidden...
    assert _label("identification", "acronym") not in rows
    assert _label("purpose", "medical_domains") not in rows
    assert "all=1" in html
    # ... and shown with all=1.
    everything = client.get(_url(project, "?old=1&new=2&all=1")).content.decode()
    all_rows = _rows(everything)
    assert "diff-row--unchanged" in all_rows[_label("identification", "acronym")]
    assert "diff-row--unchanged" in all_rows[_label("purpose", "medical_domains")]


def test_user_text_is_escaped(client, researcher, two_versions):
    project, _first, _second = two_versions
    login(client, researcher)
    html = client.get(_url(project)).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html.split("<main", 1)[1]


def test_the_version_page_links_to_the_comparison(client, researcher, two_versions):
    project, _first, _second = two_versions
    login(client, researcher)
    second_page = client.get(f"/projects/{project.pk}/versions/2/").content.decode()
    assert f"/projects/{project.pk}/compare/?old=1&amp;new=2" in second_page
    first_page = client.get(f"/projects/{project.pk}/versions/1/").content.decode()
    assert f"/projects/{project.pk}/compare/" not in first_page


@pytest.mark.parametrize(
    "query", ["?old=1&new=9", "?old=abc&new=2", "?old=2&new=2", "?old=0", "?new=1"]
)
def test_invalid_version_numbers_give_a_400_with_the_form(client, researcher, two_versions, query):
    project, _first, _second = two_versions
    login(client, researcher)
    response = client.get(_url(project, query))
    assert response.status_code == 400
    html = response.content.decode()
    assert "error-summary" in html
    assert 'name="old"' in html
    assert 'name="new"' in html
    assert "diff-row" not in html


def test_fewer_than_two_versions_is_explained(client, researcher):
    project = create_project(by=researcher, title="Seule")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    login(client, researcher)
    response = client.get(_url(project))
    assert response.status_code == 200
    assert "card--empty" in response.content.decode()
    submit_project(project=project, by=researcher)
    response = client.get(_url(project, "?old=1&new=2"))
    assert response.status_code == 200
    assert f"/projects/{project.pk}/versions/1/" in response.content.decode()


# --- Who may see it -------------------------------------------------------------------------


def test_a_researcher_outside_the_team_gets_404(client, make_user, two_versions):
    project, _first, _second = two_versions
    login(client, make_user(Role.RESEARCHER))
    assert client.get(_url(project)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, two_versions):
    project, _first, _second = two_versions
    response = client.get(_url(project, "?old=1&new=2"))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["secretariat"], indirect=True)
def test_the_secretariat_sees_the_comparison(client, persona, two_versions):
    project, _first, _second = two_versions
    login(client, persona)
    response = client.get(_url(project))
    assert response.status_code == 200
    assert "diff-row--added" in response.content.decode()


def test_query_count_is_pinned(client, researcher, two_versions, django_assert_num_queries):
    project, _first, _second = two_versions
    login(client, researcher)
    client.get(_url(project))
    # Measured. Portal: session, user, the user's roles, the project with its draft, the team
    # (object rule), every version with its submitter in one query, and the session's save
    # (savepoint, update, release). Warehouse: the kinds of care that label the cohort criteria.
    with django_assert_num_queries(9), django_assert_num_queries(1, using="warehouse"):
        response = client.get(_url(project, "?all=1"))
    assert response.status_code == 200


def test_team_and_attachments_are_paired_by_person_and_by_file(researcher):
    lead = {"user": 1, "email": "a@x.example", "name": "Alice", "role": "lead"}
    old = ProtocolVersion(
        number=1,
        content={
            "_team": [lead, {"user": 2, "email": "b@x.example", "name": "Bob", "role": "analyst"}],
            "_attachments": [
                {"id": 1, "kind": "protocol", "name": "p.pdf", "sha256": "a" * 64},
                {"id": 2, "kind": "cv", "name": "cv-bob.pdf", "sha256": "b" * 64},
            ],
        },
    )
    new = ProtocolVersion(
        number=2,
        content={
            "_team": [lead, {"user": 3, "email": "c@x.example", "name": "Cleo", "role": "analyst"}],
            "_attachments": [
                # Renamed but the same bytes: unchanged.
                {"id": 1, "kind": "protocol", "name": "protocole.pdf", "sha256": "a" * 64},
                {"id": 3, "kind": "information_note", "name": "note.pdf", "sha256": "c" * 64},
            ],
        },
    )
    comparison = compare_versions(old, new)
    team = {m.name: m.status for m in comparison.team}
    assert team == {
        "Alice": ChangeStatus.UNCHANGED,
        "Bob": ChangeStatus.REMOVED,
        "Cleo": ChangeStatus.ADDED,
    }
    files = {a.kind: a.status for a in comparison.attachments}
    assert files == {
        "protocol": ChangeStatus.UNCHANGED,
        "cv": ChangeStatus.REMOVED,
        "information_note": ChangeStatus.ADDED,
    }
    summary = {row.key: row for row in comparison.summary}
    assert (summary["team"].added, summary["team"].removed) == (1, 1)
    assert (summary["attachments"].added, summary["attachments"].removed) == (1, 1)
