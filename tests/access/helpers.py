"""Helpers of the opposition register's tests: a warehouse person and a valid form."""

from __future__ import annotations

from datetime import date

from access.models import Channel, RequesterRole, Scope
from access.opposition.actions import Intake, record_staff_request, submit_online_request
from eds_portal.routers import vault_access
from warehouse.keys import person_key
from warehouse.models import Identity

DBS = ["default", "warehouse", "vault"]
BIRTH = date(1961, 5, 2)


def warehouse_person(
    birth_name="Lefèvre", first_names="Anne-Marie", birth_date=BIRTH, sex="F"
) -> Identity:
    key = person_key(birth_name=birth_name, first_names=first_names, birth_date=birth_date, sex=sex)
    with vault_access("test"):
        return Identity.objects.create(
            person_key=key,
            birth_name=birth_name,
            first_names=first_names,
            sex=sex,
            birth_date=birth_date,
            birth_place_code="33063",
            birth_place_name="Bordeaux",
        )


def form_data(**changes) -> dict:
    data = {
        "requester_role": "self",
        "requester_name": "",
        "birth_name": "Lefèvre",
        "used_name": "",
        "first_names": "Anne-Marie",
        "sex": "F",
        "birth_date": BIRTH.isoformat(),
        "birth_place": "Bordeaux",
        "postal_code": "",
        "approximate_dates": "",
        "scope": "all",
        "reply_by": "email",
        "contact_email": "anne@example.org",
        "contact_address": "",
        "comment": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def identity(**changes) -> dict:
    values = {
        "birth_name": "Lefèvre",
        "used_name": "",
        "first_names": "Anne-Marie",
        "sex": "F",
        "birth_date": BIRTH,
        "birth_place": "Bordeaux",
        "postal_code": "",
        "associations": [],
        "approximate_dates": "",
        "requester_name": "",
        "contact_email": "anne@example.org",
        "contact_address": "",
        "comment": "",
    }
    values.update(changes)
    return values


def online_request(*, scope=Scope.ALL, projects=(), **identity_changes):
    return submit_online_request(
        intake=Intake(
            requester_role=RequesterRole.SELF,
            scope=scope,
            projects=list(projects),
            reply_by_email=True,
            identity=identity(**identity_changes),
        ),
        origin="test-origin",
    )


def staff_request(by, *, channel=Channel.POST, received_at=None, **identity_changes):
    from django.utils import timezone

    return record_staff_request(
        by=by,
        intake=Intake(
            requester_role=RequesterRole.SELF,
            scope=Scope.ALL,
            projects=[],
            reply_by_email=False,
            identity=identity(
                contact_email="", contact_address="1 rue X\n75015 Paris", **identity_changes
            ),
        ),
        channel=channel,
        received_at=received_at or timezone.now(),
        receiving_association=1 if channel == Channel.IN_PERSON else None,
    )


def project(by, *, reference="EDS-2026-0901", status="published", title="Bronchiolite"):
    """A project in the given status, created directly (the workflow is tested elsewhere)."""
    from projects.models import Project

    return Project.objects.create(reference=reference, created_by=by, title=title, status=status)


def public_page(project, by, *, title="Bronchiolites du nourrisson"):
    """The project's page on the transparency portal, created directly (publication is tested
    elsewhere): what makes a project public, so objectable by name."""
    from django.utils import timezone

    from access.models_transparency import Publication, PublicPage

    publication = Publication.objects.create(
        project=project,
        number=1,
        kind="first",
        published_by=by,
        snapshot={
            "reference": project.reference,
            "identification": {"lay_title": title, "acronym": "", "summary": ""},
            "actors": {"controller_name": ""},
        },
    )
    now = timezone.now()
    return PublicPage.objects.create(
        project=project, current=publication, first_published_at=now, updated_at=now, title=title
    )
