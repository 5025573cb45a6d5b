"""Sample projects for `make run`: a draft half-filled, a submitted one, one returned as
incomplete then submitted again (two versions to compare), a withdrawn one; with the
commission's accounts, one under review (two rapporteurs, one review submitted, a question) and
one decided in a past session (one variable refused), ready for its formalities
(access/opposition/demo.py records them and publishes its page on the transparency portal).

The submitted one is left for the visitor to take through the whole review in the browser."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from projects.actions import (
    check_admissibility,
    create_project,
    save_section,
    submit_project,
    withdraw_project,
)
from projects.models import Attachment, AttachmentKind, Project

# A one-page PDF, enough for the type check and for a browser to open.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

SECTIONS = {
    "identification": {
        "lay_title": "Bronchiolites du nourrisson vues en visite à domicile",
        "acronym": "BRONCHIO-DOM",
        "summary": "Décrire les bronchiolites du nourrisson prises en charge par SOS Médecins "
        "et leur orientation, pour améliorer la régulation en période épidémique.",
        "scientific_lead": "Dr Claire Chercheuse, Inserm U1234",
    },
    "purpose": {
        "objectives": "Décrire l'incidence hebdomadaire et l'orientation des bronchiolites.",
        "medical_domains": "Pédiatrie, pneumologie",
        "public_interest": "Mieux orienter les nourrissons pendant l'épidémie hivernale.",
        "expected_benefits": "Des recommandations de régulation pour les associations.",
        "prohibited_purposes": "on",
    },
    "methodology": {
        "methodology": "Étude rétrospective descriptive sur trois saisons hivernales.",
        "population": "Enfants de moins de 2 ans vus par SOS Médecins.",
        "planned_start": "2027-01-01",
        "planned_end": "2027-12-31",
    },
    "actors": {
        "controller_name": "Inserm",
        "controller_type": "public",
        "controller_location": "101 rue de Tolbiac, 75013 Paris",
        "controller_representative": "Le président-directeur général",
        "funders": "Aucun",
        "analysis_platform": "Plateforme HDS de l'Inserm",
        "data_recipients": "Claire Chercheuse, Inserm",
        "analysis_in_eu": "on",
    },
    "information": {
        "information_mode": "exception",
        "exception_reason": "Personnes vues il y a plusieurs années, non joignables.",
        "interests_summary": "Aucun lien d'intérêt déclaré.",
    },
    "route": {
        "involves_human_person": "no",
        "internal_use": "none",
        "linkage_other_sources": "no",
        "data_outside_reference": "no",
        "processing_outside_eu": "no",
        "needs_consent": "no",
        "confirmed_route": "mr004",
        "route_confirmed": "on",
    },
    "data_request": {
        "var__person.sex": "on",
        "just__person.sex": "Décrire la population.",
        "gen__person.sex": "exact",
        "var__person.birth_date": "on",
        "just__person.birth_date": "Âge en mois.",
        "gen__person.birth_date": "year",
        "var__diagnosis.icpc2": "on",
        "just__diagnosis.icpc2": "Repérer les bronchiolites.",
        "gen__diagnosis.icpc2": "exact",
        "var__outcome.kind": "on",
        "just__outcome.kind": "Décrire l'orientation.",
        "gen__outcome.kind": "exact",
        "icpc2_codes": "R78",
        "age_max": "2",
        "expected_persons": "5000",
        "access_months": "24",
    },
}


def _sections_with(**changes: dict) -> dict[str, dict]:
    """SECTIONS with some sections' fields replaced (the others as they are)."""
    sections = {key: dict(raw) for key, raw in SECTIONS.items()}
    for key, fields in changes.items():
        sections[key].update(fields)
    return sections


# The project decided in the demo's past session and published on the transparency portal: its
# title, purpose, population, variables and cohort all speak of the same gastro-enteritis study
# (the cohort fits the synthetic warehouse of `make run`: autumn and early winter 2025).
GASTRO_SECTIONS = _sections_with(
    identification={
        "lay_title": "Gastro-entérites de l'enfant en période hivernale",
        "acronym": "GEA-HIVER",
        "summary": "Décrire les gastro-entérites aiguës des enfants de moins de 6 ans prises en "
        "charge par SOS Médecins pendant l'épidémie hivernale, leur gravité (déshydratation) et "
        "leur orientation, pour mieux conseiller les familles au téléphone.",
    },
    purpose={
        "objectives": "Décrire l'incidence hebdomadaire des gastro-entérites de l'enfant, les "
        "traitements prescrits et la part des enfants adressés aux urgences.",
        "medical_domains": "Pédiatrie, gastro-entérologie",
        "public_interest": "Mieux orienter les jeunes enfants pendant l'épidémie hivernale de "
        "gastro-entérites et éviter des passages aux urgences.",
        "expected_benefits": "Des conseils de régulation et de réhydratation pour les "
        "associations.",
    },
    methodology={
        "methodology": "Étude rétrospective descriptive de la saison automne-hiver 2025.",
        "population": "Enfants de moins de 6 ans vus par SOS Médecins pour une gastro-entérite "
        "entre octobre et décembre 2025, dans toutes les associations.",
    },
    data_request={
        "var__person.birth_date": "on",
        "just__person.birth_date": "Âge de l'enfant en années.",
        "var__diagnosis.icpc2": "on",
        "just__diagnosis.icpc2": "Repérer les gastro-entérites (D70, D73).",
        "gen__diagnosis.icpc2": "exact",
        "var__diagnosis.icd10": "on",
        "just__diagnosis.icd10": "Distinguer les gastro-entérites virales (A08) des autres (A09).",
        "gen__diagnosis.icd10": "exact",
        "just__outcome.kind": "Décrire l'orientation (domicile, urgences).",
        "icpc2_codes": "D70, D73",
        "age_max": "5",
        "period_start": "2025-10-01",
        "period_end": "2025-12-31",
        "expected_persons": "150",
    },
)

# Under review in the demo: night-time chest pain, its own content too.
THORAX_SECTIONS = _sections_with(
    identification={
        "lay_title": "Douleurs thoraciques régulées la nuit",
        "acronym": "THORAX-NUIT",
        "summary": "Décrire les appels de nuit pour douleur thoracique, la décision de "
        "régulation et l'orientation des patients.",
    },
    purpose={
        "objectives": "Mesurer la part des douleurs thoraciques de nuit adressées à l'hôpital.",
        "medical_domains": "Cardiologie, médecine d'urgence",
        "public_interest": "Améliorer la régulation nocturne des douleurs thoraciques.",
        "expected_benefits": "Des critères de régulation pour les associations.",
    },
    methodology={
        "methodology": "Étude rétrospective descriptive des appels de nuit.",
        "population": "Adultes vus par SOS Médecins pour une douleur thoracique.",
    },
    data_request={
        "just__person.birth_date": "Âge en années.",
        "just__diagnosis.icpc2": "Repérer les douleurs thoraciques (A11, K01).",
        "icpc2_codes": "A11, K01",
        "age_max": "",
        "age_min": "18",
    },
)


def _attach_all(project: Project, by) -> None:
    for kind in (
        AttachmentKind.PROTOCOL,
        AttachmentKind.INFORMATION_NOTE,
        AttachmentKind.DECLARATION_OF_INTERESTS,
    ):
        attachment = Attachment(
            project=project,
            kind=kind,
            original_name=f"{kind}.pdf",
            content_type="application/pdf",
            size=len(DEMO_PDF),
            sha256=hashlib.sha256(DEMO_PDF).hexdigest(),
            uploaded_by=by,
        )
        attachment.file.save(f"{kind}.pdf", ContentFile(DEMO_PDF), save=False)
        attachment.save()


@transaction.atomic
def load(researcher, secretariat=None) -> list[Project]:
    if Project.objects.filter(created_by=researcher).exists():
        return list(Project.objects.filter(created_by=researcher))
    draft = create_project(by=researcher, title="Otites moyennes aiguës de l'enfant")
    save_section(
        project=draft,
        section_key="identification",
        by=researcher,
        raw={
            "lay_title": "Otites moyennes aiguës de l'enfant",
            "acronym": "OMA-SOS",
            "summary": "",
            "scientific_lead": "Dr Claire Chercheuse",
        },
    )
    submitted = create_project(by=researcher, title=SECTIONS["identification"]["lay_title"])
    for key, raw in SECTIONS.items():
        save_section(project=submitted, section_key=key, raw=dict(raw), by=researcher)
    _attach_all(submitted, researcher)
    submit_project(project=submitted, by=researcher)
    projects = [draft, submitted]
    if secretariat is not None:
        # Returned as incomplete, completed, submitted again: two versions to compare.
        revised = create_project(by=researcher, title="Fièvre de l'adulte âgé en EHPAD")
        for key, raw in SECTIONS.items():
            raw = dict(raw)
            if key == "identification":
                raw.update(lay_title="Fièvre de l'adulte âgé en EHPAD", acronym="FIEVRE-EHPAD")
            save_section(project=revised, section_key=key, raw=raw, by=researcher)
        _attach_all(revised, researcher)
        submit_project(project=revised, by=researcher)
        check_admissibility(
            project=revised,
            by=secretariat,
            accept=False,
            missing_items="Préciser la population (âge, lieu de vie) et la durée d'accès demandée.",
        )
        save_section(
            project=revised,
            section_key="methodology",
            by=researcher,
            raw={
                **SECTIONS["methodology"],
                "population": "Personnes de 75 ans et plus vues en EHPAD par SOS Médecins.",
            },
        )
        save_section(
            project=revised,
            section_key="data_request",
            by=researcher,
            raw={**SECTIONS["data_request"], "access_months": "36"},
        )
        submit_project(project=revised, by=researcher)
        projects.append(revised)
    withdrawn = create_project(by=researcher, title="Sutures en centre de consultation")
    withdraw_project(
        project=withdrawn, by=researcher, reason="Projet repris dans une étude nationale."
    )
    return [*projects, withdrawn]


def _complete_project(researcher, sections: dict[str, dict]) -> Project:
    project = create_project(by=researcher, title=sections["identification"]["lay_title"])
    for key, raw in sections.items():
        save_section(project=project, section_key=key, raw=dict(raw), by=researcher)
    _attach_all(project, researcher)
    submit_project(project=project, by=researcher)
    project.refresh_from_db()
    return project


def _review_data(version, *, refuse: str | None = None) -> dict:
    from projects.sessions.decisions import requested_variables

    variables = {}
    for item in requested_variables(version):
        if item.code == refuse:
            variables[item.code] = {
                "verdict": "refuse",
                "reason": "Le diagnostic CIM-10 suffit ; la CISP-2 n'apporte rien ici.",
            }
        else:
            variables[item.code] = {"verdict": "approve"}
    return {
        "scientific_quality": "Question claire, sources adaptées.",
        "public_interest": "Intérêt direct pour la régulation en période épidémique.",
        "methodology": "Rétrospective descriptive ; définitions de cas à préciser.",
        "information_of_persons": "Information générale et note par projet ; exception motivée.",
        "ethics": "Pas d'enjeu particulier ; données minimisées.",
        "recommendation": "favourable",
        "private_notes": "",
        "variables": variables,
    }


@transaction.atomic
def load_commission(*, researcher, secretariat, chair, members, patient) -> list[Project]:
    """The commission's side of the demo; idempotent (does nothing once a decision exists)."""
    from projects.actions import declare_interest
    from projects.models import Decision
    from projects.review.actions import assign_rapporteur, save_review, submit_review
    from projects.sessions import actions as sessions
    from projects.sessions.decisions import record_decision, requested_variables

    if Decision.objects.exists():
        return []
    today = timezone.localdate()
    rapporteur_a, rapporteur_b = members[0], members[1]

    # Under review: two rapporteurs, one review submitted, one question to the team.
    in_review = _complete_project(researcher, THORAX_SECTIONS)
    check_admissibility(project=in_review, by=secretariat, accept=True)
    for member in (rapporteur_a, rapporteur_b):
        declare_interest(project=in_review, by=member, has_interest=False)
        assign_rapporteur(
            project=in_review, member=member, due_date=today + timedelta(days=14), by=secretariat
        )
    save_review(project=in_review, by=rapporteur_a, data=_review_data(in_review.versions.get()))
    submit_review(project=in_review, by=rapporteur_a)

    # Decided in a past session, one variable refused.
    decided = _complete_project(researcher, GASTRO_SECTIONS)
    check_admissibility(project=decided, by=secretariat, accept=True)
    version = decided.versions.get()
    refused = next(
        (v.code for v in requested_variables(version) if v.code == "diagnosis.icpc2"), None
    )
    present = [chair, rapporteur_a, rapporteur_b, patient]
    for member in present:
        declare_interest(project=decided, by=member, has_interest=False)
    for member in (rapporteur_a, rapporteur_b):
        assign_rapporteur(
            project=decided, member=member, due_date=today + timedelta(days=7), by=secretariat
        )
        save_review(project=decided, by=member, data=_review_data(version, refuse=refused))
        submit_review(project=decided, by=member)
    session = sessions.create_session(
        by=secretariat, date=timezone.now() - timedelta(days=1), place="Siège, salle du conseil"
    )
    item = sessions.add_to_agenda(session=session, project=decided, by=secretariat)
    sessions.convene_session(session=session, by=secretariat)
    sessions.record_attendance(
        session=session, by=secretariat, presence={member.pk: True for member in present}
    )
    sessions.open_session(session=session, by=chair)
    for member in present:
        sessions.cast_vote(item=item, by=member, choice="favourable")
    verdicts = {
        v.code: (
            {"verdict": "refuse", "reason": "Le diagnostic CIM-10 suffit à l'étude."}
            if v.code == refused
            else {"verdict": "approve"}
        )
        for v in requested_variables(version)
    }
    record_decision(
        project=decided,
        by=chair,
        opinion="favourable",
        reasons="Protocole solide, intérêt public établi, données proportionnées.",
        conditions="Résultats agrégés uniquement ; pas de cellule de moins de 11 personnes.",
        variable_decisions=verdicts,
        agenda_item=item,
    )
    sessions.close_session(session=session, by=chair)
    decided.refresh_from_db()
    in_review.refresh_from_db()
    return [in_review, decided]
