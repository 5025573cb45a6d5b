"""A researcher writes a protocol through the pages, attaches its documents and submits it.

Every page of the flow goes through axe-core and the CSP console check. Fields are found by their
French labels, as a user would find them.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, Page, expect

from projects.actions import create_project
from projects.models import Project, ProtocolVersion
from tests.e2e.helpers import labelled_field, sign_in
from tests.projects.pdf_text import normalised, pdf_objects, pdf_text
from tests.warehouse import factories as wf

# The data request page reads the warehouse's concept table (loaded by a migration): it takes
# part, and its rows are put back afterwards.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]

# The smallest PDF the content check accepts: the header, one page, the end marker.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

SAVED_AND_COMPLETE = "Section enregistrée et complète."
SAVE = "Enregistrer"
SAVE_AND_NEXT = "Enregistrer et passer à la section suivante"


@pytest.fixture
def check(assert_accessible, assert_no_csp_violation):
    """axe-core and the CSP console check on the page as it is now."""

    def run(page: Page) -> None:
        assert_no_csp_violation(page)
        assert_accessible(page)

    return run


def _button(page: Page, name: str) -> Locator:
    return page.get_by_role("button", name=name, exact=True)


def _in_french_or_english(french: str, english: str) -> re.Pattern[str]:
    """A text in French, or in English while its translation is not compiled yet."""
    return re.compile(f"^(?:{re.escape(french)}|{re.escape(english)})$")


PREVIEW_LINK = _in_french_or_english(
    "Prévisualiser le protocole tel que la commission le lira",
    "Preview the protocol as the commission will read it",
)


def _expect_cohort(page: Page) -> None:
    """The cohort as typed below: bronchiolitis (R78), two years old at most, at home."""
    cohort = page.get_by_role("table", name="Critères de la cohorte")
    expect(cohort.get_by_role("row").filter(has_text="Codes CISP-2")).to_contain_text(
        "R78 — Bronchite aiguë/bronchiolite"
    )
    expect(cohort.get_by_role("row").filter(has_text="Types de prise en charge")).to_contain_text(
        "Visite à domicile"
    )
    expect(cohort).to_contain_text(re.compile("2 ans ou moins|2 years old or less"))


def _messages(page: Page) -> Locator:
    return page.locator(".messages")


def _expect_section(page: Page, title: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(
        page.get_by_role("navigation", name="Sections du protocole").get_by_role("link", name=title)
    ).to_have_attribute("aria-current", "page")


def _answer(page: Page, question: str, answer: str) -> None:
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def _either(french: str, english: str) -> re.Pattern[str]:
    """A message in French, or in English while its translation is not compiled yet."""
    return re.compile(f"{re.escape(french)}|{re.escape(english)}")


def _open_group(page: Page, group: str) -> Locator:
    """A group of the variable picker, by clinical meaning (warehouse/catalogue_groups.py)."""
    details = page.locator(f'details.variable-group[data-variable-group="{group}"]')
    details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return details


def _request_variable(group: Locator, label: str, justification: str, generalisation: str) -> None:
    group.get_by_role("checkbox", name=re.compile(f"^{re.escape(label)} \\(")).check()
    labelled_field(group, f"Justification pour « {label} »").fill(justification)
    labelled_field(group, f"Généralisation pour « {label} »").select_option(label=generalisation)


def _upload(page: Page, kind: str, name: str) -> None:
    labelled_field(page, "Type de document").select_option(label=kind)
    labelled_field(page, "Fichier").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": PDF}
    )
    _button(page, "Ajouter le document").click()
    expect(_messages(page)).to_contain_text(f"« {name} » a été ajouté ({kind}, PDF)")
    section = page.get_by_role("region", name=kind, exact=True)
    expect(section.get_by_role("rowheader", name=name)).to_be_visible()


@pytest.fixture
def bronchiolitis_warehouse():
    """Bronchiolitis (R78) in the warehouse: 12 infants seen at home, 11 infants seen at a centre
    and 15 adults seen at home, all in January 2025."""
    for number, (born, kind) in enumerate(
        [(2024, "VIS_HOME")] * 12 + [(2024, "VIS_CENTRE")] * 11 + [(1960, "VIS_HOME")] * 15
    ):
        person = wf.person(sex="F", born=born)
        wf.visit(person, on=date(2025, 1, 1 + number % 28), kind=kind, icpc2="R78")


def test_researcher_writes_and_submits_a_protocol(
    page: Page, live_server, researcher, bronchiolitis_warehouse, check
):
    page.goto(reverse("login"))
    sign_in(page, researcher.email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Projets"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Projets")
    check(page)

    # A new draft.
    page.get_by_role("link", name="Nouveau projet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouveau projet")
    check(page)
    labelled_field(page, "Titre provisoire").fill("Bronchiolites du nourrisson")
    _button(page, "Créer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bronchiolites du nourrisson")
    project = Project.objects.get(created_by=researcher)
    expect(page).to_have_url(live_server.url + reverse("project_detail", args=[project.pk]))
    expect(_messages(page)).to_contain_text(f"Projet {project.reference} créé.")
    before_submission = page.get_by_role("region", name="Avant la soumission")
    expect(before_submission).not_to_contain_text("Le protocole est complet.")
    check(page)

    # Identification: the working title is already there as the public title.
    page.get_by_role("region", name="Protocole").get_by_role("link", name="Identification").click()
    _expect_section(page, "Identification")
    expect(labelled_field(page, "Titre public")).to_have_value("Bronchiolites du nourrisson")
    check(page)
    labelled_field(page, "Titre public").fill("Bronchiolites vues en visite à domicile")
    labelled_field(page, "Acronyme").fill("BRONCHIO-DOM")
    labelled_field(page, "Résumé").fill(
        "Décrire les bronchiolites du nourrisson vues par SOS Médecins."
    )
    labelled_field(page, "Responsable scientifique").fill("Dr Claire Chercheuse, Inserm U1234")
    _button(page, SAVE_AND_NEXT).click()

    # Purpose.
    _expect_section(page, "Finalité et intérêt public")
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    check(page)
    labelled_field(page, "Objectifs").fill(
        "Décrire l'incidence et l'orientation des bronchiolites."
    )
    labelled_field(page, "Domaines médicaux étudiés").fill("Pédiatrie, pneumologie")
    labelled_field(page, "Justification de l'intérêt public").fill(
        "Améliorer l'orientation des nourrissons en hiver."
    )
    labelled_field(page, "Bénéfices attendus").fill("Des recommandations de régulation.")
    page.get_by_label("J'atteste que le projet ne poursuit aucune finalité interdite").check()
    _button(page, SAVE_AND_NEXT).click()

    # Methodology.
    _expect_section(page, "Méthodologie, population et calendrier")
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    check(page)
    labelled_field(page, "Méthodologie").fill("Étude rétrospective descriptive.")
    labelled_field(page, "Population étudiée").fill(
        "Enfants de moins de 2 ans vus entre 2023 et 2025."
    )
    labelled_field(page, "Début prévu").fill("2026-01-01")
    labelled_field(page, "Fin prévue").fill("2026-12-31")
    _button(page, SAVE_AND_NEXT).click()

    # Controllers, processors, funders and platform.
    _expect_section(page, "Responsables de traitement, sous-traitants, financeurs et plateforme")
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    check(page)
    labelled_field(page, "Responsable de traitement").fill("Inserm")
    labelled_field(page, "Type de responsable de traitement").select_option(
        label="Organisme public"
    )
    labelled_field(page, "Adresse du responsable de traitement").fill(
        "101 rue de Tolbiac, 75013 Paris"
    )
    labelled_field(page, "Représentant du responsable de traitement").fill(
        "Le président-directeur général"
    )
    labelled_field(page, "Financeurs").fill("Aucun")
    labelled_field(page, "Plateforme d'analyse").fill("Plateforme HDS de l'Inserm")
    labelled_field(page, "Destinataires des données").fill("Rita Researcher, Inserm")
    page.get_by_label("La plateforme d'analyse est située dans l'Union européenne").check()
    _button(page, SAVE_AND_NEXT).click()

    # Information of the persons and interests.
    _expect_section(page, "Information des personnes et intérêts")
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    check(page)
    labelled_field(page, "Information des personnes").select_option(
        label="Exception de l'article 14, paragraphe 5, point b), du RGPD : "
        "efforts disproportionnés"
    )
    labelled_field(page, "Motif de l’exception").fill(
        "Données anciennes, personnes non joignables."
    )
    labelled_field(page, "Déclarations d'intérêts").fill("Aucun lien d'intérêt.")
    _button(page, SAVE_AND_NEXT).click()

    # Regulatory route: the answers propose a route, which the researcher then confirms.
    _expect_section(page, "Voie réglementaire")
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    check(page)
    _answer(page, "La recherche implique-t-elle la personne humaine", "Non")
    _answer(
        page,
        "S'agit-il de l'un des usages internes de l'entrepôt ?",
        "Non : il s'agit d'une recherche, d'une étude ou d'une évaluation",
    )
    _answer(page, "Les données seront-elles appariées avec d'autres sources", "Non")
    _answer(page, "Le projet nécessite-t-il des données hors des catégories", "Non")
    _answer(page, "Un traitement aura-t-il lieu hors de l'Union européenne ?", "Non")
    _answer(page, "L'étude nécessite-t-elle le consentement des personnes ?", "Non")
    _button(page, SAVE).click()
    proposal = page.get_by_role("region", name=re.compile("^Voie proposée"))
    expect(proposal).to_be_visible()
    # The confirmation box appears now: no error about it before the researcher could see it.
    expect(_messages(page)).to_contain_text(
        _either("Lisez la voie proposée ci-dessous", "Read the proposed route below")
    )
    expect(page.locator(".error-summary")).to_have_count(0)
    check(page)
    proposal.get_by_label("Je confirme la voie réglementaire proposée.").check()
    _button(page, SAVE_AND_NEXT).click()

    # Data request: variables from the catalogue, the cohort with its live count, the size.
    _expect_section(page, "Demande de données")
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    check(page)
    person = _open_group(page, "patient")
    _request_variable(person, "Sexe", "Décrire la population.", "Valeur exacte")
    _request_variable(person, "Date de naissance", "Âge des nourrissons.", "Année seule")
    conditions = _open_group(page, "diagnosis")
    _request_variable(
        conditions, "Diagnostic (CISP-2)", "Identifier les bronchiolites.", "Valeur exacte"
    )

    # The cohort: each change sends the criteria, and htmx swaps the count inside the live
    # region (which stays in place, so that screen readers announce the new count).
    count = page.get_by_role("region", name="Résultat")
    expect(count).to_have_attribute("aria-live", "polite")
    # No "Count" button here: the count follows the criteria.
    expect(count).to_contain_text(
        _either("dès que vous modifiez un critère", "as soon as you change a criterion")
    )
    expect(count).not_to_contain_text("Compter")
    live_region = count.element_handle()
    persons = count.locator("dl div", has=page.locator("dt", has_text="Personnes")).locator("dd")
    codes = labelled_field(page, "Codes CISP-2")
    codes.fill("ZZ9")
    codes.press("Tab")
    # Not an ICPC-2 code at all: said beside the field, which is flagged, and in the result.
    not_a_code = _either("Code CISP-2 non valide : ZZ9", "Not a valid ICPC-2 code: ZZ9")
    expect(count).to_contain_text(not_a_code)
    expect(codes).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_icpc2_codes_error")).to_contain_text(not_a_code)
    expect(codes).to_have_attribute("aria-describedby", re.compile(r"\bid_icpc2_codes_error\b"))
    check(page)
    # Counts are perturbed by their persons' record keys (at most 3) and rounded to 5, never
    # below 15 (warehouse.disclosure): 38 true persons show 35 or 40, 23 show 20 or 25, 12 show 15.
    codes.fill("R78")
    codes.press("Tab")
    expect(persons).to_have_text(re.compile(r"^(35|40)$"))
    expect(codes).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_icpc2_codes_error")).to_be_empty()
    maximum_age = labelled_field(page, "Âge maximum (ans)")
    maximum_age.fill("2")
    maximum_age.press("Tab")
    expect(persons).to_have_text(re.compile(r"^(20|25)$"))
    page.get_by_role("group", name="Types de prise en charge").get_by_label(
        "Visite à domicile", exact=True
    ).check()
    expect(persons).to_have_text("15")
    assert live_region.evaluate("region => region.isConnected")
    check(page)

    labelled_field(page, "Nombre de personnes attendu").fill("5000")
    labelled_field(page, "Durée d'accès (mois)").fill("24")
    _button(page, SAVE).click()
    expect(page).to_have_url(live_server.url + reverse("project_detail", args=[project.pk]))
    expect(_messages(page)).to_contain_text(SAVED_AND_COMPLETE)
    sections = page.get_by_role("region", name="Protocole")
    expect(sections.locator(".tag--done")).to_have_count(7)
    # Only the three documents are missing now.
    expect(before_submission.get_by_role("listitem")).to_have_count(3)
    check(page)

    # The three required documents, as small PDF files.
    before_submission.get_by_role("link", name="Pièces jointes — Protocole complet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Pièces jointes du projet {project.reference}"
    )
    check(page)
    _upload(page, "Protocole complet", "protocole.pdf")
    _upload(page, "Note d'information", "note-information.pdf")
    _upload(page, "Déclaration d'intérêts", "declaration-interets.pdf")
    check(page)

    # The team: the researcher leads it.
    page.get_by_role("link", name=project.reference, exact=True).click()
    sections.get_by_role("link", name="Équipe", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Équipe du projet {project.reference}"
    )
    expect(page.get_by_role("row", name=re.compile("^Rita Researcher"))).to_contain_text(
        "Porteur de projet"
    )
    check(page)

    # Complete: the project page says so and offers to submit.
    page.get_by_role("link", name=project.reference, exact=True).click()
    expect(before_submission).to_contain_text("Le protocole est complet.")
    expect(before_submission.get_by_role("listitem")).to_have_count(0)
    check(page)
    # The preview: the draft as the commission will read it, the cohort included.
    before_submission.get_by_role("link", name=PREVIEW_LINK).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        _in_french_or_english(
            "Bronchiolites vues en visite à domicile — aperçu du brouillon",
            "Bronchiolites vues en visite à domicile — preview of the draft",
        )
    )
    expect(page.get_by_role("table", name="Variables demandées").get_by_role("row")).to_have_count(
        4
    )
    _expect_cohort(page)
    check(page)
    page.go_back()
    before_submission.get_by_role("link", name="Soumettre", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Soumettre le protocole")
    expect(page.get_by_role("link", name=PREVIEW_LINK)).to_be_visible()
    check(page)
    _button(page, "Soumettre cette version").click()

    # The confirmation: the frozen version 1, with its documents.
    expect(page).to_have_url(live_server.url + reverse("project_version", args=[project.pk, 1]))
    expect(_messages(page)).to_contain_text("Version 1 soumise.")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bronchiolites vues en visite à domicile — version 1"
    )
    requested = page.get_by_role("table", name="Variables demandées")
    expect(requested.get_by_role("row")).to_have_count(4)  # the header and three variables
    expect(requested).to_contain_text("Année seule")
    attachments = page.get_by_role("region", name="Pièces jointes soumises avec cette version")
    expect(attachments.get_by_role("listitem")).to_have_count(3)
    check(page)
    # The version is the complete reading view: the cohort too, and a tagged PDF of it.
    _expect_cohort(page)
    pdf = page.request.get(
        page.get_by_role(
            "link",
            name=_in_french_or_english(
                "Télécharger la version 1 en PDF", "Download version 1 as a PDF"
            ),
        ).get_attribute("href")
    )
    assert pdf.headers["content-type"] == "application/pdf"
    assert "pdfuaid:part" in pdf_objects(pdf.body())
    assert "R78 — Bronchite aiguë/bronchiolite" in normalised(pdf_text(pdf.body()))

    version = ProtocolVersion.objects.get(project=project)
    assert version.number == 1
    request = version.content["data_request"]
    assert request["icpc2_codes"] == "R78"
    assert request["age_max"] == "2"
    assert request["visit_kinds"] == ["VIS_HOME"]
    assert request["gen__person.birth_date"] == "year"
    assert version.attachments.count() == 3


def test_a_section_saved_with_an_error_keeps_the_text_and_the_project_lists_what_is_missing(
    page: Page, live_server, researcher, check
):
    project = create_project(by=researcher, title="Otites moyennes aiguës de l'enfant")
    section_url = reverse("project_section", args=[project.pk, "methodology"])

    page.goto(reverse("login"))
    sign_in(page, researcher.email)
    page.goto(reverse("project_detail", args=[project.pk]))
    page.get_by_role("region", name="Protocole").get_by_role(
        "link", name="Méthodologie, population et calendrier"
    ).click()
    _expect_section(page, "Méthodologie, population et calendrier")
    labelled_field(page, "Méthodologie").fill("Étude rétrospective sur trois hivers.")
    labelled_field(page, "Population étudiée").fill("Enfants de moins de 6 ans.")
    labelled_field(page, "Début prévu").fill("2026-06-30")
    labelled_field(page, "Fin prévue").fill("2026-01-01")
    _button(page, SAVE).click()

    # Saved as a draft: what was typed is shown back, the error sits next to its field.
    expect(page).to_have_url(live_server.url + section_url)
    expect(_messages(page)).to_contain_text("Enregistré comme brouillon.")
    expect(page.get_by_role("alert")).to_contain_text("Veuillez corriger les champs signalés")
    expect(labelled_field(page, "Méthodologie")).to_have_value(
        "Étude rétrospective sur trois hivers."
    )
    expect(labelled_field(page, "Population étudiée")).to_have_value("Enfants de moins de 6 ans.")
    expect(labelled_field(page, "Début prévu")).to_have_value("2026-06-30")
    end = labelled_field(page, "Fin prévue")
    expect(end).to_have_value("2026-01-01")
    expect(end).to_have_attribute("aria-invalid", "true")
    expect(end).to_have_accessible_description("La fin doit être postérieure au début.")
    expect(page.locator(".field--error")).to_have_count(1)
    expect(page.locator(".field--error")).to_contain_text("La fin doit être postérieure au début.")
    check(page)

    # The project page lists what is missing, each item a link to it.
    page.get_by_role("link", name="Retour au projet").click()
    before_submission = page.get_by_role("region", name="Avant la soumission")
    expect(before_submission).not_to_contain_text("Le protocole est complet.")
    expect(before_submission.get_by_role("link", name="Soumettre", exact=True)).to_be_visible()
    check(page)
    end_link = before_submission.get_by_role(
        "link", name="Méthodologie, population et calendrier — Fin prévue"
    )
    expect(end_link.locator("xpath=..")).to_contain_text("La fin doit être postérieure au début.")
    expect(
        before_submission.get_by_role(
            "link", name="Finalité et intérêt public — Finalité et intérêt public"
        )
    ).to_have_attribute("href", reverse("project_section", args=[project.pk, "purpose"]))
    expect(
        before_submission.get_by_role("link", name="Pièces jointes — Protocole complet")
    ).to_have_attribute("href", reverse("project_attachments", args=[project.pk]))

    end_link.click()
    expect(page).to_have_url(live_server.url + section_url + "#id_planned_end")
    expect(labelled_field(page, "Fin prévue")).to_have_value("2026-01-01")
    expect(labelled_field(page, "Fin prévue")).to_be_in_viewport()
    check(page)
