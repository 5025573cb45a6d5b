"""Sample opposition requests for ``make run`` (command ``load_demo_oppositions``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from access.models import Channel, OppositionRequest, RequesterRole, Scope
from access.opposition.actions import (
    Intake,
    mark_not_matched,
    record_objection_override,
    record_staff_request,
    submit_online_request,
)
from access.opposition.selectors import objectable_projects, projects_held_up_by
from warehouse import vault


def _identity(row: Any, **changes: Any) -> dict[str, Any]:
    identity = {
        "birth_name": row.birth_name,
        "used_name": row.used_name,
        "first_names": row.first_names,
        "sex": row.sex,
        "birth_date": row.birth_date,
        "birth_place": row.birth_place_name,
        "postal_code": row.postal_code,
        "associations": [],
        "approximate_dates": "",
        "requester_name": "",
        "contact_email": "demande.opposition@example.org",
        "contact_address": "",
        "comment": "",
    }
    identity.update(changes)
    return identity


def publish_approved(secretariat: Any) -> list[Any]:
    """Records the formalities of the approved demo projects and publishes their pages."""
    from access.formalities.actions import publish_project, record_formalities
    from projects.models import Project, ProjectStatus

    published = []
    for project in Project.objects.filter(status=ProjectStatus.APPROVED).order_by("pk"):
        today = timezone.localdate()
        record_formalities(
            project=project,
            by=secretariat,
            formality_type="mr004",
            formality_reference=f"MR004-{project.reference}",
            formality_date=today,
            directory="hdh",
            directory_reference=f"HDH-{project.reference}",
            directory_date=today,
        )
        publish_project(project=project, by=secretariat)
        project.refresh_from_db()
        published.append(project)
    return published


def load(
    staff: Any, *, identity_officer: Any = None, dpo: Any = None
) -> tuple[list[OppositionRequest], Any]:
    """Three requests (idempotent: none if some exist) and an identity left for the visitor.

    Two wait for the identity officer; objections not matched yet hold up provisioning (OPP-09,
    OPP-10), so the DPO's demo account lets the published project go ahead despite them (an
    override, written on the DPO's page), and ``make run``'s data steward can provision it at
    once. The third, about nobody in the warehouse, is recorded as not matched.
    """
    rows = vault.demo_identities(4)
    # The first three identities are the sample requests' (the visitor is someone else).
    taken = {row.person_key for row in rows[:3]}
    if OppositionRequest.objects.exists() or len(rows) < 4:
        return [], visitor(exclude=taken) if len(rows) >= 4 else None
    created = [
        # The identity officer will find exactly this person.
        submit_online_request(
            intake=Intake(
                requester_role=RequesterRole.SELF,
                scope=Scope.ALL,
                projects=[],
                reply_by_email=True,
                identity=_identity(rows[0]),
            ),
            origin="demo",
        )
    ]
    project = objectable_projects().first()
    # A letter typed in by the secretariat, with a first name spelled differently: candidates
    # agree on some fields only.
    created.append(
        record_staff_request(
            by=staff,
            intake=Intake(
                requester_role=RequesterRole.PARENT,
                scope=Scope.PROJECTS if project else Scope.ALL,
                projects=[project] if project else [],
                reply_by_email=False,
                identity=_identity(
                    rows[1],
                    first_names=rows[1].first_names.split(",")[0][:-1] + "e",
                    requester_name="Parent Démo",
                    contact_email="",
                    contact_address="1 rue de la Démo\n75015 Paris",
                ),
                capacity_proof="livret de famille",
                capacity_proof_received_on=timezone.localdate(),
            ),
            channel=Channel.POST,
            received_at=timezone.now() - timedelta(days=20),
        )
    )
    # Nobody in the warehouse: stays active for future data.
    created.append(
        submit_online_request(
            intake=Intake(
                requester_role=RequesterRole.SELF,
                scope=Scope.ALL,
                projects=[],
                reply_by_email=True,
                identity=_identity(
                    rows[2],
                    birth_name="Inconnue",
                    first_names="Personne",
                    birth_date=date(1950, 1, 1),
                ),
            ),
            origin="demo",
        )
    )
    if identity_officer is not None:
        created[2] = mark_not_matched(
            by=identity_officer,
            request=created[2],
            method="démo : aucune personne de l'entrepôt ne correspond",
        )
    if dpo is not None:
        for request in created[:2]:
            for held_up in projects_held_up_by(request):
                record_objection_override(
                    by=dpo,
                    request=request,
                    project=held_up,
                    reason=(
                        "Démonstration : le projet peut être alimenté avant l'identification "
                        "de cette demande ; si la personne est retrouvée, elle est exclue des "
                        "livraisons suivantes et l'équipe du projet est prévenue (OPP-11)."
                    ),
                )
    return created, visitor(exclude=taken)


def visitor(*, exclude: set[str] = frozenset()) -> Any | None:
    """An identity in the cohort of a published demo project, so that objecting as this person
    visibly changes its dataset: a new version without them replaces the one delivered.

    Chosen in the most common class of sex and birth year of the cohort, and only if that class
    is at least as large as the small-cell threshold, so that suppression keeps it in the dataset.
    None when no published project has such a person: ``make run`` then prints no identity
    rather than one that objecting would not show.
    """
    from collections import Counter
    from datetime import date as day

    from access.formalities.gates import current_decision
    from warehouse.cohort import CohortCriteria, cohort_visits
    from warehouse.models import Person

    for project in objectable_projects():
        decision = current_decision(project)
        if decision is None or not decision.is_favourable:
            continue
        raw = dict((decision.approved_specification or {}).get("criteria") or {})
        for key in ("period_start", "period_end"):
            raw[key] = day.fromisoformat(raw[key]) if raw.get(key) else None
        criteria = CohortCriteria(
            **{
                key: tuple(value) if isinstance(value, list) else value
                for key, value in raw.items()
            }
        )
        persons = list(
            Person.objects.filter(
                person_id__in=cohort_visits(criteria).values("person_id")
            ).values_list("person_source_value", "gender_concept_id", "year_of_birth")
        )
        classes = Counter((sex, year) for _key, sex, year in persons)
        if not classes:
            continue
        largest, size = classes.most_common(1)[0]
        if size < settings.EDS_SMALL_CELL_THRESHOLD:
            continue
        keys = [key for key, sex, year in persons if (sex, year) == largest and key not in exclude]
        found = vault.demo_identities(1, among=keys)
        if found:
            return found[0]
    return None
