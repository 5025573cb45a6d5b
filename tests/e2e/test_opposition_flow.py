"""Opposition and transparency end to end, in a real browser (axe-core, CSP).

A visitor without an account reads the transparency portal, objects to a published project with
the identity of a synthetic warehouse person, and gets a receipt; the identity officer signs in
(password and TOTP), opens the request from the matching queue and confirms the candidate; the
register takes a new snapshot; the visitor's status page then says the objection is applied.
The pages are driven in French, as the public and the staff see them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from access.formalities.actions import publish_project, record_formalities
from access.models import OppositionRequest, RequestStatus, Scope
from access.opposition import register
from eds_portal.models import AuditEvent
from eds_portal.routers import vault_access
from projects.models import Project, ProjectStatus
from projects.sessions import actions as sessions
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token
from tests.projects.sessions_helpers import decide, declare, project_in_review
from warehouse.models import Identity, OppositionIdentity, Person
from warehouse.synthetic.generator import generate

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse", "vault"], serialized_rollback=True
    ),
]

RECEIPT = re.compile(r"OPP-\d{4}-[A-Z2-9]{6}")
TITLE = "Bronchiolites vues en visite à domicile"


@pytest.fixture
def published(researcher, secretariat, chair, commission_member, patient_representative):
    """A project taken through the commission, the CNIL formalities and publication."""
    project = project_in_review(researcher, secretariat, title="Bronchiolites")
    session = sessions.create_session(
        by=secretariat, date=timezone.now() + timedelta(days=7), place="Salle du conseil"
    )
    item = sessions.add_to_agenda(session=session, project=project, by=secretariat)
    present = [chair, commission_member, patient_representative]
    declare(project, *present)
    sessions.record_attendance(
        session=session, by=secretariat, presence={member.pk: True for member in present}
    )
    sessions.open_session(session=session, by=chair)
    item.refresh_from_db()
    for member in present:
        sessions.cast_vote(item=item, by=member, choice="favourable")
    decide(item, chair)
    record_formalities(
        project=project,
        by=secretariat,
        formality_type="mr004",
        formality_reference="2226543 v 0",
        formality_date=date(2026, 1, 5),
        directory="hdh",
        directory_reference="HDH-2026-0042",
        directory_date=date(2026, 1, 6),
    )
    publish_project(project=project, by=secretariat)
    project.refresh_from_db()
    assert project.status == ProjectStatus.PUBLISHED
    return project


@pytest.fixture
def person() -> Identity:
    """A person of the synthetic warehouse, with their identity in the vault."""
    generate(size="XXS", seed=11, replace=True)
    with vault_access("test: pick a synthetic person"):
        identity = (
            Identity.objects.exclude(birth_place_name="")
            .exclude(used_name__gt="")
            .order_by("person_key")
            .first()
        )
    assert identity is not None
    assert Person.objects.filter(person_source_value=identity.person_key).exists()
    return identity


def _check(page: Page, assert_accessible, assert_no_csp_violation) -> None:
    assert_accessible(page)
    assert_no_csp_violation(page)


def _fill_identity(page: Page, person: Identity, *, email: str) -> None:
    """The form in French, as the visitor fills it for themselves."""
    page.get_by_role("radio", name="La personne concernée", exact=True).check()
    page.get_by_role("textbox", name="Nom de naissance de la personne concernée").fill(
        person.birth_name
    )
    page.get_by_role("textbox", name="Prénoms", exact=True).fill(person.first_names)
    page.get_by_role("radio", name="Femme" if person.sex == "F" else "Homme", exact=True).check()
    page.get_by_label("Date de naissance").fill(person.birth_date.isoformat())
    page.get_by_role("textbox", name="Lieu de naissance", exact=True).fill(person.birth_place_name)
    page.get_by_role("radio", name="Par courriel", exact=True).check()
    page.get_by_role("textbox", name="Adresse électronique", exact=True).fill(email)


def _look_up(page: Page, receipt: str, birth_date: date) -> None:
    page.get_by_role("textbox", name="Numéro de récépissé").fill(receipt)
    page.get_by_label("Date de naissance de la personne concernée").fill(birth_date.isoformat())
    page.get_by_role("button", name="Voir la demande").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(receipt.upper())


def test_a_visitor_objects_to_a_published_project_and_the_identity_officer_applies_it(
    page: Page,
    live_server,
    published: Project,
    person: Identity,
    identity_officer,
    console_messages: list[ConsoleMessage],
    assert_accessible,
    assert_no_csp_violation,
):
    # The transparency portal, as anyone reads it.
    page.goto(reverse("transparency_home"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vos données dans l’entrepôt de données de santé CONTACT"
    )
    _check(page, assert_accessible, assert_no_csp_violation)
    page.get_by_role("link", name="1 projet utilisant l’entrepôt").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("transparency_list")) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Projets utilisant l’entrepôt")
    _check(page, assert_accessible, assert_no_csp_violation)
    page.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(
        re.compile(re.escape(reverse("transparency_project", args=[published.reference])) + "$")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("HDH-2026-0042")).to_be_visible()
    _check(page, assert_accessible, assert_no_csp_violation)

    # "Object to this project": the form opens with this project chosen.
    page.get_by_role("link", name="M’opposer à ce projet").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "S’opposer à la réutilisation de vos données"
    )
    # Offered under its public title (the working title is the team's).
    project_box = page.get_by_label(f"{published.reference} — {TITLE}")
    expect(project_box).to_be_checked()
    expect(page.get_by_label("Projets choisis uniquement")).to_be_checked()
    _check(page, assert_accessible, assert_no_csp_violation)

    # The printable paper form, linked from the online one (visited further down).
    paper_url = page.get_by_role("link", name="Formulaire papier à imprimer").get_attribute("href")
    assert paper_url == reverse("opposition_paper_form")

    _fill_identity(page, person, email="visiteur@example.org")
    page.get_by_role("button", name="Envoyer mon opposition").click()

    # The receipt.
    expect(page).to_have_url(re.compile(re.escape(reverse("opposition_sent")) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre opposition a bien été reçue")
    receipt = page.locator(".receipt-number").inner_text().strip()
    assert RECEIPT.fullmatch(receipt), receipt
    _check(page, assert_accessible, assert_no_csp_violation)
    request = OppositionRequest.objects.get(receipt_number=receipt)
    assert request.status == RequestStatus.RECEIVED
    assert request.scope == Scope.PROJECTS
    assert list(request.projects.all()) == [published]
    with vault_access("test: check the stored identity"):
        stored = OppositionIdentity.objects.get(receipt_number=receipt)
    assert (stored.birth_name, stored.first_names, stored.birth_date) == (
        person.birth_name,
        person.first_names,
        person.birth_date,
    )
    assert stored.matched_person_key == ""

    # Before the match, the status page says the identity is being checked.
    page.get_by_role("link", name="Suivre ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Suivre une demande d’opposition")
    _check(page, assert_accessible, assert_no_csp_violation)
    _look_up(page, receipt, person.birth_date)
    expect(page.locator("dl.facts")).to_contain_text("Reçue, identité en cours de vérification")
    expect(page.get_by_text("Votre opposition est appliquée")).to_have_count(0)
    _check(page, assert_accessible, assert_no_csp_violation)

    # The paper form (public).
    page.goto(paper_url)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _check(page, assert_accessible, assert_no_csp_violation)

    # The identity officer, in another browser profile: password, then the second factor.
    number_before = register.current_number()
    staff = page.context.browser.new_context(base_url=live_server.url, locale="fr-FR")
    staff.set_default_timeout(10_000)
    officer = staff.new_page()

    # The staff pages' console goes to the same watch as the visitor's (CSP reports); a plain
    # function, as Playwright cannot wrap ``list.append``.
    def record(message: ConsoleMessage) -> None:
        console_messages.append(message)

    officer.on("console", record)
    try:
        officer.goto(reverse("login"))
        sign_in(officer, identity_officer.email)
        submit_token(
            officer,
            current_code(identity_officer.totpdevice_set.get()),
            button="Vérifier",
        )
        expect(officer.get_by_role("heading", level=1)).to_contain_text(identity_officer.full_name)
        _check(officer, assert_accessible, assert_no_csp_violation)
        officer.get_by_role("link", name="Toutes les demandes à rapprocher").click()
        expect(officer.get_by_role("heading", level=1)).to_have_text("Demandes d’opposition")
        expect(officer.get_by_role("link", name="À rapprocher")).to_have_attribute(
            "aria-current", "page"
        )
        _check(officer, assert_accessible, assert_no_csp_violation)
        officer.get_by_role("link", name=receipt).click()
        expect(officer.get_by_role("heading", level=1)).to_contain_text(receipt)
        _check(officer, assert_accessible, assert_no_csp_violation)
        officer.get_by_role("link", name="Identité et rapprochement").click()
        expect(officer.get_by_role("heading", level=1)).to_contain_text(receipt)

        # The candidate: the synthetic person, every field agreeing.
        row = (
            officer.get_by_role("row")
            .filter(has_text=person.first_names)
            .filter(has_text=person.birth_name)
        )
        expect(row).to_have_count(1)
        expect(row.get_by_role("cell").last).to_have_text("Date de naissance, Nom, Prénoms, Sexe")
        candidate = row.get_by_role("radio")
        assert candidate.get_attribute("value") == person.person_key
        _check(officer, assert_accessible, assert_no_csp_violation)

        candidate.check()
        officer.get_by_label("C’est bien la personne : confirmer le rapprochement").check()
        officer.get_by_label("Comment l’identité a été établie").fill("Tous les champs concordent.")
        officer.get_by_role("button", name="Enregistrer le résultat").click()
        expect(officer.get_by_role("status").first).to_contain_text(
            "Rapprochement confirmé : l’opposition est en vigueur."
        )
        expect(officer.get_by_role("heading", level=1)).to_contain_text(receipt)
        _check(officer, assert_accessible, assert_no_csp_violation)
    finally:
        staff.close()

    # The register took a new snapshot that holds the person for this project.
    assert register.current_number() == number_before + 1
    request.refresh_from_db()
    assert request.status == RequestStatus.APPLIED
    assert request.matched_by == identity_officer
    snapshot = register.current_snapshot(purpose="e2e test")
    assert person.person_key in snapshot.excluded_for(published.reference)
    with vault_access("test: check the match"):
        stored.refresh_from_db()
    assert stored.matched_person_key == person.person_key
    assert AuditEvent.objects.filter(action="opposition.matched").count() == 1

    # The visitor follows the request again: receipt number (as typed) and birth date.
    page.goto(reverse("opposition_status"))
    _look_up(page, receipt.lower(), person.birth_date)
    expect(page.get_by_role("heading", level=1)).to_contain_text(receipt)
    expect(page.locator("dl.facts")).to_contain_text("Appliquée")
    expect(page.get_by_text("Votre opposition est appliquée")).to_be_visible()
    expect(page.locator("main")).to_contain_text(published.reference)
    expect(page.locator("main")).not_to_contain_text(person.birth_name)
    _check(page, assert_accessible, assert_no_csp_violation)


def test_a_form_with_errors_keeps_what_was_typed(
    page: Page, live_server, assert_accessible, assert_no_csp_violation
):
    page.goto(reverse("opposition_form"))
    page.get_by_role("radio", name="Titulaire de l’autorité parentale").check()
    page.get_by_role("textbox", name="Nom de naissance de la personne concernée").fill("Lefèvre")
    page.get_by_role("textbox", name="Prénoms", exact=True).fill("Anne-Marie, Louise")
    page.get_by_role("radio", name="Femme", exact=True).check()
    future = timezone.localdate() + timedelta(days=30)
    page.get_by_label("Date de naissance").fill(future.isoformat())
    page.get_by_role("textbox", name="Lieu de naissance", exact=True).fill("Bordeaux")
    page.get_by_role("textbox", name="Dates approximatives des soins (facultatif)").fill(
        "hiver 2025"
    )
    page.get_by_role("textbox", name="Code postal au moment des soins (facultatif)").fill("75")
    page.get_by_role("radio", name="Par courrier", exact=True).check()
    page.get_by_role("textbox", name="Commentaire (facultatif)").fill("Je refuse.")
    page.get_by_role("button", name="Envoyer mon opposition").click()

    # Refused, with a message per field, in French...
    expect(page.get_by_role("alert")).to_contain_text(
        "Veuillez corriger les champs signalés ci-dessous."
    )
    errors = page.locator(".field__errors")
    for message in (
        "Indiquez votre propre nom lorsque vous agissez pour une autre personne.",
        "La date de naissance ne peut pas être dans le futur.",
        "Un code postal comporte cinq chiffres.",
        "Indiquez une adresse postale pour la réponse.",
    ):
        expect(errors.filter(has_text=message)).to_have_count(1)
    expect(errors).to_have_count(4)
    # ... and everything typed or chosen is still there.
    expect(page.get_by_role("radio", name="Titulaire de l’autorité parentale")).to_be_checked()
    expect(
        page.get_by_role("textbox", name="Nom de naissance de la personne concernée")
    ).to_have_value("Lefèvre")
    expect(page.get_by_role("textbox", name="Prénoms", exact=True)).to_have_value(
        "Anne-Marie, Louise"
    )
    expect(page.get_by_role("radio", name="Femme", exact=True)).to_be_checked()
    expect(page.get_by_label("Date de naissance")).to_have_value(future.isoformat())
    expect(page.get_by_role("textbox", name="Lieu de naissance", exact=True)).to_have_value(
        "Bordeaux"
    )
    expect(
        page.get_by_role("textbox", name="Dates approximatives des soins (facultatif)")
    ).to_have_value("hiver 2025")
    expect(
        page.get_by_role("textbox", name="Code postal au moment des soins (facultatif)")
    ).to_have_value("75")
    expect(page.get_by_role("radio", name="Par courrier", exact=True)).to_be_checked()
    expect(page.get_by_role("textbox", name="Commentaire (facultatif)")).to_have_value("Je refuse.")
    _check(page, assert_accessible, assert_no_csp_violation)
    assert not OppositionRequest.objects.exists()

    # Corrected, it goes through with what was kept.
    page.get_by_role("textbox", name="Votre nom (si vous agissez pour une autre personne)").fill(
        "Paul Lefèvre"
    )
    page.get_by_label("Date de naissance").fill("2019-03-14")
    page.get_by_role("textbox", name="Code postal au moment des soins (facultatif)").fill("33000")
    page.get_by_role("textbox", name="Adresse postale").fill(
        "1 rue Sainte-Catherine\n33000 Bordeaux"
    )
    page.get_by_role("button", name="Envoyer mon opposition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre opposition a bien été reçue")
    receipt = page.locator(".receipt-number").inner_text().strip()
    request = OppositionRequest.objects.get()
    assert request.receipt_number == receipt
    assert request.requester_role == "parent"
    assert request.reply_by_email is False
    assert request.scope == Scope.ALL
    with vault_access("test: check the stored identity"):
        stored = OppositionIdentity.objects.get(receipt_number=receipt)
    assert (stored.birth_name, stored.first_names, stored.birth_date) == (
        "Lefèvre",
        "Anne-Marie, Louise",
        date(2019, 3, 14),
    )
    assert (stored.postal_code, stored.approximate_dates, stored.comment) == (
        "33000",
        "hiver 2025",
        "Je refuse.",
    )
    assert stored.requester_name == "Paul Lefèvre"
