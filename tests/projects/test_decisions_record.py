"""Decisions (GOV-11, GOV-12): numbering, opinions, per-variable verdicts, the frozen
specification, immutability, corrections and the written procedure."""

from __future__ import annotations

import itertools

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from eds_portal.models import AuditEvent, Notification
from projects.actions import submit_project
from projects.models import Decision, ProjectStatus, Vote
from projects.sessions import actions
from projects.sessions.decisions import (
    DecisionRefused,
    approved_specification,
    build_specification,
    check_variable_decisions,
    coarser_than,
    next_decision_number,
    open_written_procedure,
    prefilled_verdicts,
    record_decision,
    record_written_opinion,
)
from projects.workflow import open_amendment
from tests.projects.sessions_helpers import (
    approve_all,
    assign,
    decide,
    declare,
    open_session_with,
    project_in_review,
)
from warehouse import catalogue

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

YEAR = timezone.localdate().year


def _voted(item, *members, choice="favourable"):
    for member in members:
        actions.cast_vote(item=item, by=member, choice=choice)
    return item


def test_a_favourable_decision_approves_and_freezes_the_specification(
    voting, chair, commission_member, researcher, django_capture_on_commit_callbacks
):
    _voted(voting, commission_member)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(voting, chair)
    assert decision.number == f"CSE-{YEAR}-001"
    assert decision.version == voting.version
    assert decision.signed_by == chair
    assert decision.tally["counts"]["favourable"] == 1
    assert decision.tally["eligible"] == 3
    voting.refresh_from_db()
    assert voting.decided_at == decision.decided_at
    project = voting.project
    project.refresh_from_db()
    assert project.status == ProjectStatus.APPROVED
    spec = approved_specification(project)
    assert {v["code"] for v in spec["variables"]} == {
        "person.sex",
        "person.birth_date",
        "diagnosis.icpc2",
    }
    assert spec["version"] == 1
    assert spec["content_sha256"] == voting.version.content_sha256
    assert spec["access_months"] == 24
    assert spec["expected_persons"] == 5000
    assert spec["recipients"][0]["email"] == researcher.email
    assert spec["recipients"][0]["user_id"] == researcher.pk
    assert spec["criteria"]
    event = AuditEvent.objects.get(action="decision.recorded")
    assert event.after["number"] == decision.number
    assert event.after["opinion"] == "favourable"
    assert event.after["specification_sha256"] == decision.specification_sha256
    # The team is told once: the new status, with the decision and its letter.
    assert [m.to for m in mail.outbox] == [[researcher.email]]
    (message,) = mail.outbox
    assert decision.number in message.body
    assert f"/projects/{project.pk}/decisions/{decision.pk}/" in message.body
    assert (
        Notification.objects.filter(recipient=researcher, body__contains=decision.number).count()
        == 1
    )


def test_numbers_are_consecutive_per_year(
    voting, chair, commission_member, researcher, secretariat, patient_representative
):
    _voted(voting, commission_member)
    first = decide(voting, chair)
    other = project_in_review(researcher, secretariat, "Autre")
    session = actions.create_session(by=secretariat, date=timezone.now())
    item = actions.add_to_agenda(session=session, project=other, by=secretariat)
    declare(other, chair, commission_member, patient_representative)
    open_session_with(
        session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    _voted(item, commission_member)
    second = decide(item, chair, opinion="unfavourable")
    assert (first.number, second.number) == (f"CSE-{YEAR}-001", f"CSE-{YEAR}-002")
    with transaction.atomic():
        assert next_decision_number() == f"CSE-{YEAR}-003"


def test_no_decision_without_a_vote_or_the_quorum(
    voting, chair, commission_member, secretariat, english
):
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair)
    assert "no_vote_reason" in refused.value.field_errors
    assert any(r.startswith("No vote has been cast on this item") for r in refused.value.reasons)
    _voted(voting, commission_member)
    actions.record_attendance(
        session=voting.session, by=secretariat, presence={commission_member.pk: False}
    )
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair)
    assert any("quorum" in r for r in refused.value.reasons)
    assert not Decision.objects.exists()


def test_only_the_chair_decides(voting, commission_member, secretariat):
    _voted(voting, commission_member)
    for user in (commission_member, secretariat):
        with pytest.raises(DecisionRefused):
            decide(voting, user)


def test_gov12_texts_are_required(voting, chair, commission_member, english):
    _voted(voting, commission_member)
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair, opinion="favourable_recommendations")
    assert refused.value.field_errors["recommendations"] == ["Write the recommendations."]
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair, opinion="changes_requested", reasons="  ")
    assert refused.value.field_errors["reasons"] == ["List the changes the team must make."]


def test_changes_requested_delivers_no_variable(voting, chair, commission_member):
    _voted(voting, commission_member, choice="changes_requested")
    decision = decide(voting, chair, opinion="changes_requested", reasons="1. Réduire la période.")
    assert decision.approved_specification["variables"] == []
    project = voting.project
    project.refresh_from_db()
    assert project.status == ProjectStatus.CHANGES_REQUESTED
    assert approved_specification(project) is None


def test_every_requested_variable_needs_a_valid_verdict(voting, chair, commission_member, english):
    _voted(voting, commission_member)
    given = approve_all(voting.version)
    del given["person.sex"]
    given["person.birth_date"] = {"verdict": "coarser", "generalisation": "year"}
    given["diagnosis.icpc2"] = {"verdict": "refuse"}
    given["note.text"] = {"verdict": "approve"}
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair, variable_decisions=given)
    errors = refused.value.field_errors
    assert errors["person.sex"] == ["Give a verdict for this variable."]
    assert errors["person.birth_date"][0].startswith("Choose a generalisation coarser")
    assert "Give the reason for this verdict." in errors["person.birth_date"]
    assert errors["diagnosis.icpc2"] == ["Give the reason for this verdict."]
    assert any("not requested" in r for r in refused.value.general)


def test_coarser_follows_each_family_order():
    by_code = catalogue.BY_CODE
    assert coarser_than(by_code["person.birth_date"], "year") == ["five_year_band"]
    assert coarser_than(by_code["person.sex"], "exact") == []
    timestamps = [v for v in catalogue.exportable_variables() if "month" in v.generalisations]
    if timestamps:
        assert "month" in coarser_than(timestamps[0], "shifted_date")
        assert coarser_than(timestamps[0], "month") == []
    texts = [v for v in catalogue.exportable_variables() if "scrubbed" in v.generalisations]
    if texts:
        assert coarser_than(texts[0], "scrubbed") == ["excluded"]


@pytest.mark.parametrize("opinion", ["favourable", "favourable_recommendations"])
def test_the_approved_specification_equals_the_variable_decisions(in_review, opinion):
    """Property over every combination of verdicts on the three requested variables."""
    version = in_review.versions.get()
    choices = {
        "person.sex": [{"verdict": "approve"}, {"verdict": "refuse", "reason": "Inutile."}],
        "person.birth_date": [
            {"verdict": "approve"},
            {"verdict": "coarser", "generalisation": "five_year_band", "reason": "Petits."},
            {"verdict": "refuse", "reason": "Identifiant."},
        ],
        "diagnosis.icpc2": [{"verdict": "approve"}, {"verdict": "refuse", "reason": "Non."}],
    }
    requested = {"person.sex": "exact", "person.birth_date": "year", "diagnosis.icpc2": "exact"}
    for combination in itertools.product(*choices.values()):
        given = dict(zip(choices, combination, strict=True))
        decided, errors = check_variable_decisions(version, given)
        assert errors == {}
        spec = build_specification(version, opinion, decided)
        delivered = {v["code"]: v["generalisation"] for v in spec["variables"]}
        expected = {
            code: (
                requested[code] if verdict["verdict"] == "approve" else verdict["generalisation"]
            )
            for code, verdict in given.items()
            if verdict["verdict"] != "refuse"
        }
        assert delivered == expected
        assert {r["code"]: r["reason"] for r in spec["refused"]} == {
            code: v["reason"] for code, v in given.items() if v["verdict"] == "refuse"
        }
        for entry in spec["variables"]:
            variable = catalogue.BY_CODE[entry["code"]]
            assert (entry["table"], entry["column"]) == (variable.table, variable.column)
            assert entry["sensitivity"] == variable.sensitivity.value
        unfavourable = build_specification(version, "unfavourable", decided)
        assert unfavourable["variables"] == []


def test_a_decision_is_immutable_in_the_model_and_in_postgresql(voting, chair, commission_member):
    _voted(voting, commission_member)
    decision = decide(voting, chair)
    decision.reasons = "Autre chose"
    with pytest.raises(PermissionError):
        decision.save()
    with pytest.raises(PermissionError):
        decision.delete()
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE projects_decision SET reasons = 'x' WHERE id = %s", [decision.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM projects_decision WHERE id = %s", [decision.pk])
    assert Decision.objects.get(pk=decision.pk).reasons != "x"


def test_a_correction_supersedes_and_moves_the_project(
    voting, chair, commission_member, secretariat, english
):
    _voted(voting, commission_member)
    first = decide(voting, chair)
    project = voting.project
    with pytest.raises(DecisionRefused):
        record_decision(
            project=project,
            by=secretariat,
            opinion="unfavourable",
            reasons="Erreur matérielle.",
            variable_decisions=approve_all(first.version),
            supersedes=first,
        )
    with pytest.raises(DecisionRefused) as refused:
        record_decision(
            project=project,
            by=chair,
            opinion="changes_requested",
            reasons="",
            variable_decisions=approve_all(first.version),
            supersedes=first,
        )
    assert "reasons" in refused.value.field_errors
    correction = record_decision(
        project=project,
        by=chair,
        opinion="changes_requested",
        reasons="Erreur matérielle : la période doit être réduite.",
        variable_decisions=approve_all(first.version),
        supersedes=first,
    )
    assert correction.supersedes == first
    assert correction.version == first.version
    assert correction.number == f"CSE-{YEAR}-002"
    project.refresh_from_db()
    assert project.status == ProjectStatus.CHANGES_REQUESTED
    assert approved_specification(project) is None
    # Only the current decision can be corrected.
    with pytest.raises(DecisionRefused):
        record_decision(
            project=project,
            by=chair,
            opinion="favourable",
            reasons="Encore.",
            variable_decisions=approve_all(first.version),
            supersedes=first,
        )
    assert AuditEvent.objects.filter(action="decision.recorded").order_by("seq").last().after[
        "supersedes"
    ] == (first.number)


def test_a_conflicted_chair_cannot_sign(voting, chair, commission_member, english):
    _voted(voting, commission_member)
    declare(voting.project, chair, interest=True)
    with pytest.raises(DecisionRefused) as refused:
        decide(voting, chair)
    assert any("conflicted" in r for r in refused.value.reasons)


def test_the_form_is_prefilled_from_the_rapporteurs(in_review, rapporteur):
    from projects.models import Review, VariableReview

    version = in_review.versions.get()
    review = Review.objects.create(
        project=in_review,
        version=version,
        reviewer=rapporteur,
        recommendation="favourable",
        submitted_at=timezone.now(),
    )
    VariableReview.objects.create(
        review=review,
        variable="person.birth_date",
        verdict="coarser",
        generalisation="five_year_band",
        reason="Effectifs faibles.",
    )
    prefilled = prefilled_verdicts(version)
    assert prefilled == {
        "person.birth_date": {
            "verdict": "coarser",
            "generalisation": "five_year_band",
            "reason": "Effectifs faibles.",
        }
    }


# --- Written procedure ------------------------------------------------------------------------


@pytest.fixture
def amendment(voting, chair, commission_member, rapporteur, researcher, secretariat, make_user):
    """An approved project whose minor amendment is under review, with two rapporteurs."""
    from projects.actions import save_section
    from tests.projects.helpers import VALID_SECTIONS

    _voted(voting, commission_member)
    decide(voting, chair)
    project = voting.project
    open_amendment(project, by=researcher)
    save_section(
        project=project,
        section_key="methodology",
        raw={**VALID_SECTIONS["methodology"], "planned_end": "2027-06-30"},
        by=researcher,
    )
    submit_project(project=project, by=researcher)
    project.refresh_from_db()
    # GOV-13: the amendment is under review; the project stays approved meanwhile.
    assert project.status == ProjectStatus.APPROVED
    assert project.review_status == ProjectStatus.UNDER_REVIEW
    assign(project, commission_member, secretariat)
    assign(project, rapporteur, secretariat)
    declare(project, rapporteur)
    return project


def test_the_written_procedure_decides_a_minor_amendment(
    amendment, chair, commission_member, rapporteur, english
):
    procedure = open_written_procedure(project=amendment, by=chair)
    assert procedure.version.is_amendment
    for member in (chair, commission_member, rapporteur):
        record_written_opinion(procedure=procedure, by=member, choice="favourable")
    decision = record_decision(
        project=amendment,
        by=chair,
        opinion="favourable",
        reasons="Modification mineure de calendrier.",
        variable_decisions=approve_all(procedure.version),
        written_procedure=procedure,
    )
    assert decision.version.number == 2
    assert decision.tally == {"procedure": "written", "opinions": {"favourable": 3}}
    procedure.refresh_from_db()
    assert procedure.closed_at is not None
    amendment.refresh_from_db()
    assert amendment.status == ProjectStatus.APPROVED
    assert approved_specification(amendment)["version"] == 2
    assert not Vote.objects.filter(item__project=amendment, item__version__number=2).exists()


def test_the_written_procedure_needs_two_concurring_rapporteurs(
    amendment, chair, commission_member, rapporteur, english
):
    procedure = open_written_procedure(project=amendment, by=chair)
    record_written_opinion(procedure=procedure, by=chair, choice="favourable")
    record_written_opinion(procedure=procedure, by=commission_member, choice="favourable")
    with pytest.raises(DecisionRefused) as refused:
        record_decision(
            project=amendment,
            by=chair,
            opinion="favourable",
            reasons="Mineur.",
            variable_decisions=approve_all(procedure.version),
            written_procedure=procedure,
        )
    assert "1 of the two rapporteurs' opinions needed so far." in refused.value.reasons
    record_written_opinion(procedure=procedure, by=rapporteur, choice="unfavourable")
    with pytest.raises(DecisionRefused) as refused:
        record_decision(
            project=amendment,
            by=chair,
            opinion="favourable",
            reasons="Mineur.",
            variable_decisions=approve_all(procedure.version),
            written_procedure=procedure,
        )
    assert any("differ" in r for r in refused.value.reasons)


def test_a_conflicted_rapporteur_gives_no_written_opinion(
    amendment, chair, rapporteur, secretariat, make_user, english
):
    from projects.sessions.actions import Refused

    procedure = open_written_procedure(project=amendment, by=chair)
    declare(amendment, rapporteur, interest=True)
    with pytest.raises(Refused) as refused:
        record_written_opinion(procedure=procedure, by=rapporteur, choice="favourable")
    assert any("conflicted" in r for r in refused.value.reasons)


def test_the_written_procedure_is_for_amendments_only(in_review, chair, english):
    from projects.sessions.actions import Refused

    with pytest.raises(Refused) as refused:
        open_written_procedure(project=in_review, by=chair)
    assert "The written procedure is for amendments only." in refused.value.reasons


@pytest.mark.django_db(
    transaction=True, databases=["default", "warehouse"], serialized_rollback=True
)
def test_concurrent_decisions_get_distinct_consecutive_numbers(
    researcher, secretariat, chair, commission_member, patient_representative
):
    """Two chairs' clicks at the same moment (PostgreSQL: threads, advisory lock)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    session = actions.create_session(by=secretariat, date=timezone.now())
    items = []
    for title in ("Premier", "Second"):
        project = project_in_review(researcher, secretariat, title)
        items.append(actions.add_to_agenda(session=session, project=project, by=secretariat))
        declare(project, chair, commission_member, patient_representative)
    open_session_with(
        session,
        by=secretariat,
        chair=chair,
        present=[chair, commission_member, patient_representative],
    )
    for item in items:
        _voted(item, commission_member)

    def record(item):
        try:
            return decide(item, chair).number
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        numbers = sorted(pool.map(record, items))
    assert numbers == [f"CSE-{YEAR}-001", f"CSE-{YEAR}-002"]
