"""Small, hand-made warehouse rows for precise tests (the generator makes the big ones)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from itertools import count

from django.utils import timezone

from warehouse.models import (
    CareSite,
    Concept,
    ConditionOccurrence,
    Location,
    Person,
    VisitOccurrence,
)
from warehouse.reference import GENDER

_ids = count(1)


def concept_id(vocabulary: str, code: str) -> int:
    return Concept.objects.get(vocabulary_id=vocabulary, concept_code=code).concept_id


def care_site(pk: int, departement: str) -> CareSite:
    location = Location.objects.create(
        location_id=10_000 + pk, county=departement, zip=f"{departement[:2]}000"
    )
    return CareSite.objects.create(
        care_site_id=pk,
        care_site_name=f"SOS {pk}",
        location=location,
        care_site_source_value=f"SOS-{pk:02d}",
    )


def person(*, sex: str = "F", born: int = 1980) -> Person:
    pk = next(_ids)
    return Person.objects.create(
        person_id=pk,
        gender_concept_id=GENDER[sex],
        year_of_birth=born,
        person_source_value=hashlib.sha256(f"p{pk}".encode()).hexdigest(),
    )


def visit(
    who: Person,
    *,
    on: date,
    kind: str = "VIS_HOME",
    site: CareSite | None = None,
    icpc2: str | None = None,
    icd10: str | None = None,
) -> VisitOccurrence:
    pk = next(_ids)
    start = timezone.make_aware(datetime.combine(on, time(21, 30)))
    row = VisitOccurrence.objects.create(
        visit_occurrence_id=pk,
        person=who,
        visit_concept_id=concept_id("SOS_VISIT", kind),
        visit_start_date=on,
        visit_start_datetime=start,
        visit_end_date=on,
        visit_end_datetime=start + timedelta(minutes=40),
        visit_type_concept_id=32817,
        care_site=site,
    )
    for vocabulary, code in (("ICPC2", icpc2), ("ICD10", icd10)):
        if code:
            ConditionOccurrence.objects.create(
                condition_occurrence_id=next(_ids),
                person=who,
                visit_occurrence=row,
                condition_concept_id=0,
                condition_start_date=on,
                condition_type_concept_id=32817,
                condition_source_value=code,
                condition_source_concept_id=concept_id(vocabulary, code),
            )
    return row
