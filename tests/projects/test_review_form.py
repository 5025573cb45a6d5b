"""The rapporteur's review: drafts that lose nothing, complete submissions, one per version."""

from __future__ import annotations

import copy

import pytest
from django.core import mail

from eds_portal.models import AuditEvent
from projects import workflow
from projects.actions import declare_interest, save_section, submit_project
from projects.models import ProjectStatus, RapporteurAssignment, Review, VariableReview
from projects.review.actions import ReviewInvalid, ReviewRefused, save_review, submit_review
from projects.review.selectors import coarser_choices, is_coarser, requested_variables
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS
from tests.projects.review_helpers import COMPLETE_REVIEW, assign, project_in_review, review_post
from warehouse import catalogue

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def in_review(researcher, secretariat):
    return project_in_review(researcher, secretariat)


@pytest.fixture
def assigned(in_review, rapporteur, secretariat):
    assign(in_review, rapporteur, secretariat)
    return in_review


def _url(project) -> str:
    return f"/projects/{project.pk}/review/"


# --- Generalisations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proposed", "requested", "coarser"),
    [
        ("week", "shifted_date", True),
        ("month", "week", True),
        ("shifted_date", "exact", True),
        ("shifted_date", "month", False),
        ("week", "week", False),
        ("five_year_band", "year", True),
        ("year", "five_year_band", False),
        ("region", "departement", True),
        ("departement", "region", False),
        ("excluded", "scrubbed", True),
        ("scrubbed", "excluded", False),
        ("region", "year", False),
    ],
)
def test_the_order_of_generalisations(proposed, requested, coarser):
    assert is_coarser(proposed, requested) is coarser


def test_coarser_choices_are_those_the_catalogue_allows():
    birth = catalogue.BY_CODE["person.birth_date"]
    assert [g.value for g in coarser_choices(birth, "year")] == ["five_year_band"]
    assert coarser_choices(birth, "five_year_band") == []


def test_the_requested_variables_come_from_the_frozen_version(assigned):
    version = assigned.versions.get()
    codes = {item.code: item.generalisation for item in requested_variables(version)}
    assert codes == {"person.sex": "exact", "person.birth_date": "year", "diagnosis.icpc2": "exact"}


# --- The page ----------------------------------------------------------------------------------


def test_a_draft_keeps_what_was_typed_even_incomplete(client, rapporteur, assigned):
    login(client, rapporteur)
    page = client.get(_url(assigned))
    assert page.status_code == 200
    assert "verdict__person.birth_date" in page.content.decode()
    partial = {
        "scientific_quality": "Bonne question.",
        "variables": {"person.birth_date": {"verdict": "refuse", "reason": ""}},
    }
    response = client.post(_url(assigned), review_post(partial))
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.scientific_quality == "Bonne question."
    assert review.submitted_at is None
    assert VariableReview.objects.get().verdict == "refuse"
    event = AuditEvent.objects.get(action="review.saved")
    assert event.actor == rapporteur
    assert "Bonne question" not in str(event.after)
    # Shown back as typed.
    again = client.get(_url(assigned)).content.decode()
    assert "Bonne question." in again


def test_submitting_needs_everything_and_keeps_the_draft(client, rapporteur, assigned):
    login(client, rapporteur)
    incomplete = copy.deepcopy(COMPLETE_REVIEW)
    incomplete["ethics"] = ""
    incomplete["variables"]["person.sex"] = {"verdict": "refuse", "reason": ""}
    del incomplete["variables"]["diagnosis.icpc2"]
    response = client.post(_url(assigned), review_post(incomplete, "submit"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"ethics", "reason__person.sex", "verdict__diagnosis.icpc2"}
    review = Review.objects.get()
    assert review.submitted_at is None
    assert review.methodology == COMPLETE_REVIEW["methodology"]  # the draft was kept
    assert not AuditEvent.objects.filter(action="review.submitted").exists()


def test_a_coarser_generalisation_must_be_coarser(rapporteur, assigned, english):
    data = copy.deepcopy(COMPLETE_REVIEW)
    # "year" is what was requested: not coarser.
    data["variables"]["person.birth_date"]["generalisation"] = "year"
    save_review(project=assigned, by=rapporteur, data=data)
    with pytest.raises(ReviewInvalid) as invalid:
        submit_review(project=assigned, by=rapporteur)
    assert list(invalid.value.errors) == ["generalisation__person.birth_date"]
    # Sex is exact with no coarser generalisation at all.
    data = copy.deepcopy(COMPLETE_REVIEW)
    data["variables"]["person.sex"] = {"verdict": "coarser", "reason": "Moins précis."}
    save_review(project=assigned, by=rapporteur, data=data)
    with pytest.raises(ReviewInvalid) as invalid:
        submit_review(project=assigned, by=rapporteur)
    assert list(invalid.value.errors) == ["verdict__person.sex"]


def test_the_form_offers_only_coarser_generalisations(client, rapporteur, assigned):
    login(client, rapporteur)
    form = client.get(_url(assigned)).context["form"]
    choices = [value for value, _ in form.fields["generalisation__person.birth_date"].choices]
    assert choices == ["", "five_year_band"]
    assert "generalisation__person.sex" not in form.fields
    bad = review_post({**COMPLETE_REVIEW}, "submit")
    bad["generalisation__person.birth_date"] = "month"
    assert client.post(_url(assigned), bad).status_code == 400
    assert not Review.objects.filter(submitted_at__isnull=False).exists()


def test_unknown_variables_and_choices_are_refused(rapporteur, assigned):
    with pytest.raises(ReviewInvalid) as invalid:
        save_review(
            project=assigned,
            by=rapporteur,
            data={"variables": {"note.text": {"verdict": "approve"}}, "recommendation": "maybe"},
        )
    assert set(invalid.value.errors) == {"verdict__note.text", "recommendation"}
    assert not Review.objects.exists()


def test_a_complete_review_is_submitted_and_becomes_read_only(
    client, rapporteur, commission_member, secretariat, assigned, django_capture_on_commit_callbacks
):
    login(client, rapporteur)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url(assigned), review_post(COMPLETE_REVIEW, "submit"))
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.submitted_at is not None
    assert review.recommendation == "favourable_recommendations"
    birth = review.variables.get(variable="person.birth_date")
    assert (birth.verdict, birth.generalisation) == ("coarser", "five_year_band")
    assignment = RapporteurAssignment.objects.get()
    assert assignment.completed_at == review.submitted_at
    event = AuditEvent.objects.get(action="review.submitted")
    assert event.after["verdicts"] == {"approve": 2, "coarser": 1, "refuse": 0}
    assert "porteur" not in str(event.after)  # no text in the trail
    # The only rapporteur: the secretariat is told that every review is in.
    assert [secretariat.email] in [m.to for m in mail.outbox]
    page = client.get(_url(assigned))
    assert page.context["form"] is None
    assert COMPLETE_REVIEW["ethics"] in page.content.decode()
    changed = review_post({**COMPLETE_REVIEW, "ethics": "Autre avis."})
    assert client.post(_url(assigned), changed).status_code == 302
    review.refresh_from_db()
    assert review.ethics == COMPLETE_REVIEW["ethics"]
    with pytest.raises(ReviewRefused):
        submit_review(project=assigned, by=rapporteur)


def test_a_new_version_needs_a_new_review(
    client,
    researcher,
    rapporteur,
    chair,
    assigned,
    django_capture_on_commit_callbacks,
):
    save_review(project=assigned, by=rapporteur, data=COMPLETE_REVIEW)
    submit_review(project=assigned, by=rapporteur)
    workflow.fire(assigned, "request_changes", by=chair)
    assigned.refresh_from_db()
    assert assigned.status == ProjectStatus.CHANGES_REQUESTED
    save_section(
        project=assigned,
        section_key="methodology",
        by=researcher,
        raw={**VALID_SECTIONS["methodology"], "population": "Moins de 3 ans."},
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submit_project(project=assigned, by=researcher)
    assigned.refresh_from_db()
    assert assigned.status == ProjectStatus.UNDER_REVIEW
    assignment = RapporteurAssignment.objects.get()
    assert assignment.completed_at is None
    assert rapporteur.email in [address for m in mail.outbox for address in m.to]
    login(client, rapporteur)
    page = client.get(_url(assigned))
    assert page.context["version"].number == 2
    assert page.context["review"] is None
    assert page.context["form"] is not None
    assert [r.version.number for r in page.context["earlier"]] == [1]
    client.post(_url(assigned), review_post(COMPLETE_REVIEW, "submit"))
    assert Review.objects.filter(submitted_at__isnull=False).count() == 2


def test_reviewing_waits_while_changes_are_requested(client, rapporteur, chair, assigned):
    workflow.fire(assigned, "request_changes", by=chair)
    login(client, rapporteur)
    page = client.get(_url(assigned))
    assert page.status_code == 200
    assert page.context["form"] is None
    assert page.context["refusals"]
    assert client.post(_url(assigned), review_post(COMPLETE_REVIEW)).status_code == 302
    assert not Review.objects.exists()


def test_a_member_who_is_not_rapporteur_cannot_review(client, commission_member, assigned):
    declare_interest(project=assigned, by=commission_member, has_interest=False)
    login(client, commission_member)
    assert client.get(_url(assigned)).status_code == 403
    assert client.post(_url(assigned), review_post(COMPLETE_REVIEW)).status_code == 403
    with pytest.raises(ReviewRefused):
        save_review(project=assigned, by=commission_member, data=COMPLETE_REVIEW)
    assert not Review.objects.exists()


def test_a_removed_or_conflicted_rapporteur_cannot_review(
    client, rapporteur, secretariat, assigned
):
    declare_interest(
        project=assigned, by=rapporteur, has_interest=True, description="Financement reçu."
    )
    login(client, rapporteur)
    assert client.get(_url(assigned)).status_code == 404
    # The interest is withdrawn the only way there is: the secretariat accepts the request.
    from projects.interest_actions import answer_interest_withdrawal, request_interest_withdrawal

    withdrawal = request_interest_withdrawal(
        project=assigned, by=rapporteur, reason="Déclaré par erreur."
    )
    answer_interest_withdrawal(withdrawal=withdrawal, by=secretariat, accept=True)
    from projects.review.actions import remove_rapporteur

    remove_rapporteur(assignment=RapporteurAssignment.objects.get(), by=secretariat)
    assert client.get(_url(assigned)).status_code == 403
    assert client.post(_url(assigned), review_post(COMPLETE_REVIEW)).status_code == 403
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    "persona",
    ["researcher", "secretariat", "dpo", "data_steward", "identity_officer", "auditor", "outsider"],
    indirect=True,
)
def test_other_roles_never_reach_the_review_form(client, persona, assigned):
    login(client, persona)
    assert client.get(_url(assigned)).status_code in (403, 404)
    assert client.post(_url(assigned), review_post(COMPLETE_REVIEW)).status_code in (403, 404)
    assert not Review.objects.exists()
