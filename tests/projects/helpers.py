"""A complete protocol, section by section, as a researcher would type it."""

from __future__ import annotations

from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone

from eds_portal.models import Notification
from projects.actions import check_admissibility, create_project, save_section, submit_project
from projects.models import Attachment, AttachmentKind, Project

VALID_SECTIONS = {
    "identification": {
        "lay_title": "Bronchiolites vues en visite à domicile",
        "acronym": "BRONCHIO-DOM",
        "summary": "Décrire les bronchiolites du nourrisson vues par SOS Médecins.",
        "scientific_lead": "Dr Claire Chercheuse, Inserm U1234",
    },
    "purpose": {
        "objectives": "Décrire l'incidence et l'orientation des bronchiolites.",
        "medical_domains": "Pédiatrie, pneumologie",
        "public_interest": "Améliorer l'orientation des nourrissons en hiver.",
        "expected_benefits": "Des recommandations de régulation.",
        "prohibited_purposes": "on",
    },
    "methodology": {
        "methodology": "Étude rétrospective descriptive.",
        "population": "Enfants de moins de 2 ans vus entre 2023 et 2025.",
        "planned_start": "2026-01-01",
        "planned_end": "2026-12-31",
    },
    "actors": {
        "controller_name": "Inserm",
        "controller_type": "public",
        "controller_location": "101 rue de Tolbiac, 75013 Paris",
        "controller_representative": "Le président-directeur général",
        "joint_controllers": "",
        "processors": "",
        "funders": "Aucun",
        "analysis_platform": "Plateforme HDS de l'Inserm",
        "data_recipients": "Claire Chercheuse, Inserm",
        "analysis_in_eu": "on",
    },
    "information": {
        "information_mode": "exception",
        "exception_reason": "Données anciennes, personnes non joignables.",
        "interests_summary": "Aucun lien d'intérêt.",
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
        "just__person.birth_date": "Âge des nourrissons.",
        "gen__person.birth_date": "year",
        "var__diagnosis.icpc2": "on",
        "just__diagnosis.icpc2": "Identifier les bronchiolites.",
        "gen__diagnosis.icpc2": "exact",
        "icpc2_codes": "R78",
        "age_max": "2",
        "expected_persons": "5000",
        "access_months": "24",
    },
}


def fill_draft(project: Project, by, *, except_sections: tuple[str, ...] = ()) -> None:
    """The valid sections; the data recipient is ``by``, a team member as submission requires."""
    for key, raw in VALID_SECTIONS.items():
        if key not in except_sections:
            raw = dict(raw)
            if key == "actors" and getattr(by, "full_name", ""):
                raw["data_recipients"] = f"{by.full_name}, Inserm"
            save_section(project=project, section_key=key, raw=raw, by=by)


def attach_required(project: Project, by) -> None:
    """Attachment rows for the three required kinds (the upload checks are tested apart)."""
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
            size=9,
            sha256="0" * 64,
            uploaded_by=by,
            uploaded_at=timezone.now(),
        )
        attachment.file.save(f"{kind}.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
        attachment.save()


def make_in_review(researcher, secretariat, title="Bronchiolites"):
    """A project in review, the notifications and mails of getting there cleared."""
    project = create_project(by=researcher, title=title)
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    project.refresh_from_db()
    Notification.objects.all().delete()  # the status messages are tested elsewhere
    mail.outbox.clear()
    return project
