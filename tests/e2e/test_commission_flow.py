"""From a submitted protocol to the commission's decision letter, in a real browser.

Each persona signs in once in a browser profile of its own (a TOTP code cannot be used twice in
the same time step): the secretariat accepts the file and assigns two rapporteurs; each
rapporteur declares no interest and submits a structured review, one refusing a variable; the
secretariat plans a session, puts the project on its agenda and records the attendance; the
chair opens the session; the members present vote; the chair records a favourable decision with
that variable refused; the researcher reads the decision and its letter. Every page of the flow
goes through axe-core and the CSP console check; the pages are in French (their typographic
apostrophe is written \\u2019 here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from eds_portal.models import AuditEvent
from projects.actions import create_project, submit_project
from projects.models import (
    AgendaItem,
    CommissionSession,
    ConflictDeclaration,
    Decision,
    ProjectStatus,
    RapporteurAssignment,
    Review,
    SessionStatus,
    Vote,
)
from tests.conftest import current_code
from tests.e2e.helpers import labelled_field, sign_in, submit_token
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft
from tests.projects.pdf_text import normalised, pdf_objects, pdf_text

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse"], serialized_rollback=True
    ),
]

# The three variables of the data request (tests/projects/helpers.py), by their French labels.
SEX, BIRTH_DATE, DIAGNOSIS = "Sexe", "Date de naissance", "Diagnostic (CISP-2)"
REQUESTED_CODES = ["person.sex", "person.birth_date", "diagnosis.icpc2"]
REFUSED_CODE = "person.birth_date"
REFUSAL_REASON = "L'âge est déjà borné par les critères de la cohorte : l'année est inutile."


@pytest.fixture
def check(assert_accessible, assert_no_csp_violation):
    """axe-core and the CSP console check on the page as it is now."""

    def run(page: Page) -> None:
        assert_no_csp_violation(page)
        assert_accessible(page)

    return run


@pytest.fixture
def sign_in_as(
    browser: Browser,
    live_server,
    django_db_serialized_rollback,
    console_messages: list[ConsoleMessage],
) -> Iterator[Callable[..., Page]]:
    """A browser profile per persona, signed in (with TOTP for staff), its console watched."""
    contexts = []

    def open_as(user) -> Page:
        context = browser.new_context(base_url=live_server.url, locale="fr-FR")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()

        def record(message: ConsoleMessage) -> None:
            console_messages.append(message)

        page.on("console", record)
        page.goto(reverse("login"))
        sign_in(page, user.email)
        if user.requires_two_factor:
            submit_token(page, current_code(user.totpdevice_set.get()), button="Vérifier")
        expect(page).to_have_url(f"{live_server.url}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(user.full_name)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _messages(page: Page):
    return page.locator(".messages")


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=name, exact=True
    ).click()


def _short(day: date) -> str:
    # As the French pages write a date (eds_portal/formats: "4 décembre 2026").
    from django.utils import formats, translation

    with translation.override("fr"):
        return formats.date_format(day, "SHORT_DATE_FORMAT")


def _declare_no_interest(page: Page, check) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration d'intérêts")
    check(page)
    page.get_by_role("group", name="Vos intérêts dans ce projet").get_by_label(
        "Je n'ai aucun intérêt dans ce projet"
    ).check()
    page.get_by_role("button", name="Déclarer", exact=True).click()
    expect(_messages(page)).to_contain_text(
        "Déclaration enregistrée : vous pouvez maintenant lire le dossier."
    )


def _verdict(page: Page, label: str, verdict: str) -> None:
    page.get_by_role("group", name=f"Appréciation sur « {label} »").get_by_label(
        verdict, exact=True
    ).check()


def _write_review(page: Page, project, check, *, refuse: bool) -> None:
    """From the project page: the rapporteur's review, submitted."""
    page.get_by_role("region", name="Examen par la commission").get_by_role(
        "link", name="Mon avis", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon avis sur la version 1")
    check(page)
    labelled_field(page, "Qualité scientifique").fill("Question claire, équipe compétente.")
    labelled_field(page, "Intérêt public").fill("Mieux orienter les nourrissons en hiver.")
    labelled_field(page, "Méthodologie").fill("Étude rétrospective adaptée à la question.")
    labelled_field(page, "Information des personnes").fill(
        "Exception justifiée : données anciennes."
    )
    labelled_field(page, "Éthique").fill("Risque faible ; pas de texte libre demandé.")
    _verdict(page, SEX, "Approuver")
    _verdict(page, DIAGNOSIS, "Approuver")
    if refuse:
        _verdict(page, BIRTH_DATE, "Refuser")
        labelled_field(page, f"Motif pour « {BIRTH_DATE} »").fill(REFUSAL_REASON)
    else:
        _verdict(page, BIRTH_DATE, "Approuver")
    page.get_by_role("group", name="Proposition d\u2019avis").get_by_label(
        "Favorable", exact=True
    ).check()
    page.get_by_role("button", name="Remettre l\u2019avis", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(reverse("project_detail", args=[project.pk]))))
    expect(_messages(page)).to_contain_text("Avis remis. Merci.")
    check(page)


def _open_agenda_item(page: Page, project, check) -> None:
    """From any page: the sessions, the session, then the project's item on its agenda."""
    _nav(page, "Séances de la commission")
    expect(page.get_by_role("heading", level=1)).to_have_text("Séances de la commission")
    check(page)
    page.get_by_role("region", name="Séances ouvertes et à venir").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Séance du")
    check(page)
    page.get_by_role("region", name="Ordre du jour").get_by_role(
        "link", name=project.reference, exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"{project.reference} — {project.title}"
    )
    check(page)


def _vote(page: Page, choice: str, check) -> None:
    page.get_by_role("group", name="Votre vote").get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Voter", exact=True).click()
    expect(_messages(page)).to_contain_text("Votre vote est enregistré.")
    expect(page.get_by_role("region", name="Votre vote")).to_contain_text(
        f"Vous avez voté « {choice} »"
    )
    check(page)


def _tally_count(page: Page, choice: str):
    return (
        page.get_by_role("table", name="Voix par choix")
        .get_by_role("row", name=re.compile(f"^{re.escape(choice)} \\d+$"))
        .get_by_role("cell")
    )


def _fr_or_en(french: str, english: str) -> re.Pattern[str]:
    """A text in French, or in English while its translation is not compiled yet."""
    return re.compile(f"{re.escape(french)}|{re.escape(english)}")


# The cohort of the request (tests/projects/helpers.py): bronchiolitis (R78), two years old at most.
COHORT_CODE = "R78 — Bronchite aiguë/bronchiolite"
AGE_LIMIT = _fr_or_en("2 ans ou moins", "2 years old or less")


def _expect_cohort(scope) -> None:
    """The cohort table in ``scope`` states each criterion of the request, with its labels."""
    cohort = scope.get_by_role("table", name="Critères de la cohorte")
    expect(cohort.get_by_role("row").filter(has_text="Codes CISP-2")).to_contain_text(COHORT_CODE)
    expect(cohort).to_contain_text(AGE_LIMIT)
    expect(cohort).to_contain_text(_fr_or_en("Aucune restriction", "No restriction"))


def _read_the_version(page: Page, project, check) -> None:
    """From the project page: version 1, complete and printable, and its tagged PDF."""
    page.get_by_role("region", name="Versions soumises").get_by_role(
        "link", name="Version 1", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    for section in ("Identification", "Voie réglementaire", "Demande de données"):
        expect(page.get_by_role("region", name=section, exact=True)).to_be_visible()
    request = page.get_by_role("region", name="Demande de données", exact=True)
    expect(
        request.get_by_role("table", name="Variables demandées").locator("tbody tr")
    ).to_have_count(len(REQUESTED_CODES))
    expect(request).to_contain_text("Âge des nourrissons.")  # a justification
    _expect_cohort(request)
    expect(
        page.get_by_role("region", name="Pièces jointes soumises avec cette version")
    ).to_contain_text("protocol.pdf")
    check(page)
    pdf_link = page.get_by_role(
        "link", name=_fr_or_en("Télécharger la version 1 en PDF", "Download version 1 as a PDF")
    )
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "pdfuaid:part" in pdf_objects(response.body())
    assert "/StructTreeRoot" in pdf_objects(response.body())
    assert COHORT_CODE in normalised(pdf_text(response.body()))
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(project.title)


def test_commission_reviews_votes_and_decides_variable_by_variable(
    sign_in_as,
    live_server,
    researcher,
    secretariat,
    commission_member,
    rapporteur,
    chair,
    patient_representative,
    check,
):
    project = create_project(by=researcher, title="Bronchiolites du nourrisson")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED
    assert (
        sum(key.startswith("var__") for key in VALID_SECTIONS["data_request"])
        == len(REQUESTED_CODES)
        >= 3
    )
    today = timezone.localdate()
    first_due, second_due = today + timedelta(days=14), today + timedelta(days=21)

    # --- The secretariat accepts the file for review and assigns two rapporteurs. ---
    office = sign_in_as(secretariat)
    check(office)
    office.get_by_role("link", name=project.reference).first.click()
    expect(office.get_by_role("heading", level=1)).to_have_text(project.title)
    check(office)
    office.get_by_role("link", name="Contrôler la recevabilité").click()
    expect(office.get_by_role("heading", level=1)).to_have_text("Contrôle de recevabilité")
    check(office)
    office.get_by_label("Le dossier est complet : l'accepter pour examen").check()
    office.get_by_role("button", name="Enregistrer la décision").click()
    expect(_messages(office)).to_contain_text("Décision enregistrée ; l'équipe a été prévenue.")
    expect(office.locator(".status-badge").first).to_have_text("En cours d'examen")
    check(office)
    project.refresh_from_db()
    assert project.status == ProjectStatus.UNDER_REVIEW

    office.get_by_role("region", name="Examen par la commission").get_by_role(
        "link", name="Désigner les rapporteurs"
    ).click()
    expect(office.get_by_role("heading", level=1)).to_have_text("Rapporteurs")
    check(office)
    assigned = office.get_by_role("table", name="Rapporteurs désignés")
    for member, due in ((commission_member, first_due), (rapporteur, second_due)):
        labelled_field(office, "Membre de la commission").select_option(value=str(member.pk))
        labelled_field(office, "Échéance de l\u2019avis").fill(due.isoformat())
        office.get_by_role("button", name="Désigner", exact=True).click()
        expect(_messages(office)).to_contain_text(
            f"{member.full_name} est désormais rapporteur. Un message lui a été envoyé."
        )
        row = assigned.get_by_role("row", name=re.compile(f"^{re.escape(member.full_name)}"))
        expect(row).to_contain_text(_short(due))
        check(office)
    expect(assigned.locator("tbody tr")).to_have_count(2)
    assert sorted(
        RapporteurAssignment.objects.filter(project=project).values_list("member_id", "due_date")
    ) == sorted([(commission_member.pk, first_due), (rapporteur.pk, second_due)])

    # --- Each rapporteur declares no interest, then reviews; the second refuses a variable. ---
    rapporteur_pages = {}
    for member, refuse in ((commission_member, False), (rapporteur, True)):
        reviewer = sign_in_as(member)
        rapporteur_pages[member.pk] = reviewer
        check(reviewer)
        # The review is behind the declaration of interests (GOV-10).
        reviewer.goto(reverse("review_mine", args=[project.pk]))
        expect(reviewer).to_have_url(
            re.compile(re.escape(reverse("project_interests", args=[project.pk])))
        )
        expect(_messages(reviewer)).to_contain_text(
            "Déclarez vos liens d\u2019intérêts avec ce dossier avant de le lire."
        )
        _declare_no_interest(reviewer, check)
        expect(reviewer.get_by_role("heading", level=1)).to_have_text(project.title)
        check(reviewer)
        if refuse:
            # The rapporteur reads everything the review approves: the cohort too.
            _read_the_version(reviewer, project, check)
        _write_review(reviewer, project, check, refuse=refuse)

    reviews = Review.objects.filter(project=project, submitted_at__isnull=False)
    assert reviews.count() == 2
    refusing = reviews.get(reviewer=rapporteur)
    assert refusing.recommendation == "favourable"
    assert {v.variable: v.verdict for v in refusing.variables.all()} == {
        "person.sex": "approve",
        "person.birth_date": "refuse",
        "diagnosis.icpc2": "approve",
    }
    assert refusing.variables.get(variable=REFUSED_CODE).reason == REFUSAL_REASON

    # --- The secretariat plans a session, puts the project on it, records the attendance. ---
    _nav(office, "Séances de la commission")
    expect(office.get_by_role("heading", level=1)).to_have_text("Séances de la commission")
    check(office)
    office.get_by_role("link", name="Programmer une séance").click()
    expect(office.get_by_role("heading", level=1)).to_have_text("Programmer une séance")
    check(office)
    session_day = today + timedelta(days=1)
    labelled_field(office, "Date et heure").fill(f"{session_day.isoformat()}T14:00")
    labelled_field(office, "Lieu").fill("Salle du conseil, 14 rue de Paris")
    office.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(_messages(office)).to_contain_text("Séance créée.")
    expect(office.get_by_role("heading", level=1)).to_contain_text(f"Séance du {session_day.day} ")
    check(office)
    session = CommissionSession.objects.get()
    assert timezone.localtime(session.date).date() == session_day

    labelled_field(office, "Projet en cours d\u2019examen").select_option(
        label=f"{project.reference} — {project.title}"
    )
    office.get_by_role("button", name="Inscrire à l\u2019ordre du jour").click()
    expect(_messages(office)).to_contain_text(
        f"{project.reference} inscrit à l\u2019ordre du jour."
    )
    agenda = office.get_by_role("region", name="Ordre du jour")
    expect(agenda.get_by_role("link", name=project.reference, exact=True)).to_be_visible()
    quorum = office.get_by_role("region", name="Quorum")
    expect(quorum).to_contain_text("Le quorum n\u2019est pas atteint")
    check(office)

    office.get_by_role("link", name="Enregistrer les présences").click()
    expect(office.get_by_role("heading", level=1)).to_have_text("Présences")
    check(office)
    members = (commission_member, rapporteur, chair, patient_representative)
    for member in members:
        office.get_by_role("group", name=member.full_name).get_by_label(
            "Présent·e", exact=True
        ).check()
    office.get_by_role("button", name="Enregistrer les présences").click()
    expect(_messages(office)).to_contain_text("Présences enregistrées.")
    expect(quorum).to_contain_text(
        "Quorum atteint : 4 membres présents, dont un représentant des patients."
    )
    for member in members:
        expect(office.get_by_role("region", name="Présences")).to_contain_text(
            f"{member.full_name} — présent·e"
        )
    check(office)
    # The secretariat manages the session; only the chair opens it.
    expect(office.get_by_role("button", name="Ouvrir la séance")).to_have_count(0)

    # --- The chair opens the session, declares no interest and votes. ---
    chairing = sign_in_as(chair)
    check(chairing)
    _nav(chairing, "Séances de la commission")
    check(chairing)
    chairing.get_by_role("region", name="Séances ouvertes et à venir").get_by_role(
        "link"
    ).first.click()
    check(chairing)
    chairing.get_by_role("button", name="Ouvrir la séance").click()
    expect(_messages(chairing)).to_contain_text(
        "Séance ouverte : les membres présents peuvent voter."
    )
    expect(chairing.locator(".status-badge").first).to_have_class(re.compile("status-badge--open"))
    check(chairing)
    session.refresh_from_db()
    assert session.status == SessionStatus.OPEN

    chairing.get_by_role("region", name="Ordre du jour").get_by_role(
        "link", name=project.reference, exact=True
    ).click()
    vote_section = chairing.get_by_role("region", name="Votre vote")
    expect(vote_section).to_contain_text(
        "Déclarez vos liens d\u2019intérêts pour ce projet avant de voter."
    )
    check(chairing)
    vote_section.get_by_role("link", name="Déclarer mes liens d\u2019intérêts").click()
    _declare_no_interest(chairing, check)
    _open_agenda_item(chairing, project, check)
    # What is voted on: the data request with its variables and its cohort.
    voted_on = chairing.get_by_role(
        "region",
        name=_fr_or_en("La demande de données de la version 1", "The data request of version 1"),
    )
    expect(
        voted_on.get_by_role("table", name="Variables demandées").locator("tbody tr")
    ).to_have_count(len(REQUESTED_CODES))
    _expect_cohort(voted_on)
    _vote(chairing, "Abstention", check)

    # --- The other members present vote: the two rapporteurs and the patient representative.
    patient = sign_in_as(patient_representative)
    check(patient)
    patient.goto(reverse("project_interests", args=[project.pk]))
    _declare_no_interest(patient, check)
    check(patient)
    voters = (
        (patient, "Favorable"),
        (rapporteur_pages[commission_member.pk], "Favorable"),
        (rapporteur_pages[rapporteur.pk], "Favorable avec recommandations"),
    )
    for voter, choice in voters:
        _open_agenda_item(voter, project, check)
        _vote(voter, choice, check)
        # Independent votes: before and after voting, a member sees neither the tally nor who
        # has voted while the vote is open, only their own vote.
        expect(voter.get_by_role("table", name="Voix par choix")).to_have_count(0)
        expect(voter.get_by_role("region", name="Décompte des voix")).to_contain_text(
            "Les votes sont indépendants"
        )
        expect(voter.get_by_role("region", name="Décompte des voix")).not_to_contain_text(
            chair.full_name
        )

    # --- The chair sees how many voted, closes the vote, reads the tally, then decides. ---
    item = AgendaItem.objects.get(session=session, project=project)
    chairing.reload()
    expect(chairing.get_by_role("table", name="Voix par choix")).to_have_count(0)
    expect(chairing.get_by_role("region", name="Décompte des voix")).to_contain_text(
        "4 votes exprimés à ce stade, sur 4 votants possibles."
    )
    check(chairing)
    chairing.get_by_role("region", name="Présidence").get_by_role(
        "button", name="Clore le vote"
    ).click()
    expect(_messages(chairing)).to_contain_text(
        "Vote clos : le décompte est affiché à la commission."
    )
    expect(_tally_count(chairing, "Favorable")).to_have_text("2")
    expect(_tally_count(chairing, "Favorable avec recommandations")).to_have_text("1")
    expect(_tally_count(chairing, "Modifications demandées")).to_have_text("0")
    expect(_tally_count(chairing, "Défavorable")).to_have_text("0")
    expect(_tally_count(chairing, "Abstention")).to_have_text("1")
    expect(chairing.get_by_role("region", name="Décompte des voix")).to_contain_text(
        "Votes exprimés : 4. Votants possibles, présents et sans conflit d\u2019intérêts : 4."
    )
    expect(chairing.get_by_role("region", name="Décompte des voix")).not_to_contain_text(
        "N\u2019ont pas encore voté"
    )
    check(chairing)
    assert Vote.objects.filter(item=item).count() == 4

    chairing.get_by_role("region", name="Présidence").get_by_role(
        "link", name="Enregistrer la décision"
    ).click()
    expect(chairing.get_by_role("heading", level=1)).to_have_text("Enregistrer la décision")
    expect(chairing.get_by_role("main")).to_contain_text(
        "Décompte : Favorable 2 · Favorable avec recommandations 1 · Modifications demandées 0"
        " · Défavorable 0 · Abstention 1."
    )
    check(chairing)
    # The form starts from the most cautious rapporteur verdict: the refusal, with its reason.
    birth_date_verdict = chairing.get_by_role("group", name=f"Appréciation sur « {BIRTH_DATE} »")
    expect(birth_date_verdict.get_by_label("Refuser", exact=True)).to_be_checked()
    expect(labelled_field(chairing, f"Motif pour « {BIRTH_DATE} »")).to_have_value(REFUSAL_REASON)
    expect(
        chairing.get_by_role("group", name=f"Appréciation sur « {SEX} »").get_by_label(
            "Approuver", exact=True
        )
    ).to_be_checked()
    chairing.get_by_role("group", name="Avis de la commission").get_by_label(
        "Favorable", exact=True
    ).check()
    labelled_field(chairing, "Motifs").fill(
        "Protocole d'intérêt public, méthodologie adaptée ; la date de naissance n'est pas "
        "nécessaire."
    )
    chairing.get_by_role("button", name="Signer et enregistrer la décision").click()

    decision = Decision.objects.get(project=project)
    expect(chairing).to_have_url(
        re.compile(re.escape(reverse("decision_letter", args=[project.pk, decision.pk])))
    )
    expect(chairing.get_by_role("heading", level=1)).to_have_text(
        f"Avis de la commission sur le projet {project.reference}"
    )
    check(chairing)

    # --- The researcher reads the decision on the project page, then the letter. ---
    team = sign_in_as(researcher)
    check(team)
    _nav(team, "Projets")
    check(team)
    team.get_by_role("link", name=project.reference).first.click()
    expect(team.get_by_role("heading", level=1)).to_have_text(project.title)
    expect(team.locator(".status-badge").first).to_have_text("Approuvé")
    commission = team.get_by_role("region", name="Commission", exact=True)
    expect(commission.get_by_role("listitem").filter(has_text=decision.number)).to_contain_text(
        "Favorable"
    )
    specification = commission.get_by_role("table", name="Spécification des données approuvée")
    expect(specification.locator("tbody tr")).to_have_count(3)
    refused_row = specification.get_by_role("row").filter(has_text=REFUSED_CODE)
    expect(refused_row).to_contain_text("Refusée : retirée de la livraison")
    expect(refused_row.locator("del")).to_have_text(BIRTH_DATE)
    expect(refused_row).to_contain_text(REFUSAL_REASON)
    for code in ("person.sex", "diagnosis.icpc2"):
        row = specification.get_by_role("row").filter(has_text=code)
        expect(row).to_contain_text("Valeur exacte")
        expect(row.locator("del")).to_have_count(0)
    check(team)

    pdf_href = commission.get_by_role("link", name=f"PDF de {decision.number}").get_attribute(
        "href"
    )
    commission.get_by_role("link", name=decision.number, exact=True).click()
    expect(team.get_by_role("heading", level=1)).to_have_text(
        f"Avis de la commission sur le projet {project.reference}"
    )
    letter = team.get_by_role("main")
    expect(letter).to_contain_text(f"Décision n° {decision.number}")
    expect(letter.locator(".letter__opinion")).to_have_text("Favorable")
    letter_rows = letter.locator("table.letter__variables tbody tr")
    expect(letter_rows).to_have_count(3)
    refused_letter_row = letter_rows.filter(has_text=REFUSED_CODE)
    expect(refused_letter_row.locator("td").nth(2)).to_have_text("Refuser")
    expect(refused_letter_row.locator("td").nth(3)).to_have_text("Non livrée")
    expect(refused_letter_row.locator("td").nth(4)).to_have_text(REFUSAL_REASON)
    for code in ("person.sex", "diagnosis.icpc2"):
        row = letter_rows.filter(has_text=code)
        expect(row.locator("td").nth(2)).to_have_text("Approuver")
        expect(row.locator("td").nth(3)).to_have_text("Valeur exacte")
    expect(letter).to_contain_text("2 variables accordées, pour un accès de 24 mois.")
    expect(letter).to_contain_text(chair.full_name)
    # The deliberation in figures: four members present, none excused, the quorum reached;
    # two votes for the opinion adopted, one for another, one abstention.
    expect(letter).to_contain_text(
        _fr_or_en("4, dont 1 représentant des patients", "4, including 1 patient representative")
    )
    expect(letter.locator(".letter__quorum")).to_contain_text(_fr_or_en("atteint", "reached"))
    tally = letter.locator("table.letter__tally tbody tr td")
    expect(tally).to_have_text(["2", "1", "1", "4", "4"])
    _expect_cohort(letter)
    next_step = letter.locator(".letter__next-step").inner_text()
    check(team)

    download = team.get_by_role("link", name="Télécharger le PDF")
    assert download.get_attribute("href") == pdf_href
    response = team.request.get(pdf_href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    assert "pdfuaid:part" in pdf_objects(response.body())
    letter_text = normalised(pdf_text(response.body()))
    assert COHORT_CODE in letter_text
    assert normalised(next_step) in letter_text

    # The lead's home says the same next step as the letter.
    team.goto(reverse("home"))
    home_row = (
        team.get_by_role("table", name="Mes projets et ce qui est attendu de moi")
        .get_by_role("row")
        .filter(has_text=project.reference)
    )
    expect(home_row.get_by_role("cell").last).to_have_text(next_step)
    check(team)

    # --- What the database holds. ---
    decision.refresh_from_db()
    project.refresh_from_db()
    year = timezone.localtime(decision.decided_at).year
    assert re.fullmatch(rf"CSE-{year}-\d{{3}}", decision.number)
    assert decision.number == f"CSE-{year}-001"  # the first decision of the year
    assert decision.opinion == "favourable"
    assert decision.signed_by == chair
    assert decision.agenda_item == item
    assert decision.tally["counts"] == {
        "favourable": 2,
        "favourable_recommendations": 1,
        "changes_requested": 0,
        "unfavourable": 0,
        "abstention": 1,
    }
    spec = decision.approved_specification
    approved = [variable["code"] for variable in spec["variables"]]
    assert approved == [code for code in REQUESTED_CODES if code != REFUSED_CODE]
    assert spec["refused"] == [{"code": REFUSED_CODE, "reason": REFUSAL_REASON}]
    assert project.status == ProjectStatus.APPROVED
    assert ConflictDeclaration.objects.filter(project=project, has_interest=False).count() == 4

    actions = list(AuditEvent.objects.values_list("action", flat=True))
    for action, count in {
        "project.submit": 1,
        "project.accept_for_review": 1,
        "review.rapporteur_assigned": 2,
        "project.interest_declared": 4,
        "review.submitted": 2,
        "session.created": 1,
        "session.agenda_added": 1,
        "session.attendance_recorded": 1,
        "session.opened": 1,
        "vote.cast": 4,
        "session.vote_closed": 1,
        "project.approve": 1,
        "decision.recorded": 1,
        "decision.letter_downloaded": 1,
        "protocol.version_pdf_downloaded": 1,
    }.items():
        assert actions.count(action) == count, (action, actions)
    recorded = AuditEvent.objects.get(action="decision.recorded")
    assert recorded.actor == chair
    assert recorded.after["number"] == decision.number
    assert AuditEvent.objects.get(action="decision.letter_downloaded").actor == researcher
