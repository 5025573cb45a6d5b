"""The synthetic warehouse generator: determinism, realistic shapes, identities, safety."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from eds_portal.routers import vault_access
from warehouse import codelists
from warehouse.keys import check_nir, person_key
from warehouse.models import (
    CareSite,
    ConditionOccurrence,
    Death,
    DrugExposure,
    Identity,
    Location,
    Measurement,
    Note,
    Observation,
    ObservationPeriod,
    Person,
    ProcedureOccurrence,
    Provider,
    VisitDetail,
    VisitOccurrence,
)
from warehouse.synthetic import generator
from warehouse.synthetic.writer import TableWriter

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

WAREHOUSE_MODELS = [
    Location,
    CareSite,
    Provider,
    Person,
    ObservationPeriod,
    VisitOccurrence,
    VisitDetail,
    ConditionOccurrence,
    DrugExposure,
    ProcedureOccurrence,
    Measurement,
    Observation,
    Note,
    Death,
]
PARIS = ZoneInfo("Europe/Paris")
PHONE = re.compile(r"(?:\+33\s?|\b0)[1-9](?:[\s.\-]?\d{2}){4}\b")


def generate(size: str, seed: int, *, replace: bool = True) -> str:
    out = StringIO()
    call_command("generate_warehouse", size=size, seed=seed, replace=replace, stdout=out)
    return out.getvalue()


def _digest(alias: str, model) -> str:
    """SHA-256 of the table's rows in primary-key order (raw SQL: faster than the ORM)."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {key}")  # noqa: S608
        while rows := cursor.fetchmany(5000):
            for row in rows:
                digest.update(repr(row).encode())
    return digest.hexdigest()


def checksums() -> dict[str, str]:
    sums = {model._meta.db_table: _digest("warehouse", model) for model in WAREHOUSE_MODELS}
    with vault_access("test: determinism"):
        sums["vault_identity"] = _digest("vault", Identity)
    return sums


def test_same_seed_gives_the_same_rows():
    generate("XS", 7)
    first = checksums()
    generate("XS", 7)
    assert checksums() == first


def test_another_seed_gives_other_rows():
    generate("XXS", 7)
    first = checksums()
    generate("XXS", 8)
    other = checksums()
    for table in ("person", "visit_occurrence", "note", "measurement", "vault_identity"):
        assert other[table] != first[table], table


def test_rows_do_not_depend_on_the_chunk_size():
    generate("XXS", 5)
    default = checksums()
    generator.generate(size="XXS", seed=5, replace=True, chunk_persons=37)
    assert checksums() == default


def test_refuses_to_load_twice_without_replace():
    generate("XXS", 1)
    persons = Person.objects.using("warehouse").count()
    with pytest.raises(CommandError, match="--replace"):
        generate("XXS", 2, replace=False)
    assert Person.objects.using("warehouse").count() == persons


def test_summary_names_counts_not_identities():
    output = generate("XXS", 1)
    assert "persons" in output
    assert "episodes" in output
    assert "vault_identity" in output
    with vault_access("test: summary"):
        identity = Identity.objects.order_by("pk").first()
    assert identity.birth_name not in output
    assert identity.person_key not in output


def _age(person: Person, day: date) -> int:
    return (
        day.year
        - person.year_of_birth
        - ((day.month, day.day) < (person.month_of_birth, person.day_of_birth))
    )


@pytest.fixture(scope="module")
def xs_warehouse(django_db_setup, django_db_blocker):
    """One XS warehouse, committed, for the tests that only read it."""
    with django_db_blocker.unblock():
        generate("XS", 3)
        yield
        with vault_access("test: cleanup"):
            # generate_warehouse also drew the persons' record keys (warehouse.disclosure).
            TableWriter("warehouse").empty((*generator.WAREHOUSE_TABLES, "eds_person_record_key"))
            TableWriter("vault").empty((generator.VAULT_TABLE,))


@pytest.mark.usefixtures("xs_warehouse")
def test_xs_has_the_shapes_of_on_call_care():
    persons = {p.person_id: p for p in Person.objects.using("warehouse")}
    visits = list(
        VisitOccurrence.objects.using("warehouse").values_list(
            "person_id", "visit_start_date", "visit_start_datetime"
        )
    )
    total = len(visits)
    assert 9_000 <= total <= 11_000
    assert len(persons) < total  # some persons come back

    ages = Counter(_age(persons[person_id], day) for person_id, day, _ in visits)
    per_year_young = sum(ages[a] for a in range(6)) / 6
    per_year_adult = sum(ages[a] for a in range(15, 65)) / 50
    assert per_year_young > 1.5 * per_year_adult
    assert sum(n for a, n in ages.items() if a >= 75) / total > 0.12

    elderly = [p for p in persons.values() if p.year_of_birth <= 1940]
    women = sum(p.gender_concept_id == codelists.GENDER_FEMALE for p in persons.values())
    assert 0.45 < women / len(persons) < 0.6
    assert sum(p.gender_concept_id == codelists.GENDER_FEMALE for p in elderly) > 0.55 * len(
        elderly
    )

    # Autumn into winter: December is busier than September.
    per_month = Counter(day.month for _, day, _ in visits)
    assert per_month[12] / 31 > 1.2 * per_month[9] / 30
    # On-call care: per hour, nights and weekends are busier than weekday office hours.
    office = sum(
        1
        for *_, at in visits
        if (local := at.astimezone(PARIS)).weekday() < 5 and 8 <= local.hour < 20
    )
    assert (total - office) / (168 - 60) > 1.5 * office / 60

    observations = Observation.objects.using("warehouse")
    for source in ("OBS_REASON", "OBS_DISPATCH", "OBS_OUTCOME", "OBS_PRIORITY"):
        per_visit = Counter(
            observations.filter(observation_source_value=source).values_list(
                "visit_occurrence_id", flat=True
            )
        )
        assert len(per_visit) == total, source
        assert set(per_visit.values()) == {1}, source
    outcomes = Counter(
        observations.filter(observation_source_value="OBS_OUTCOME").values_list(
            "value_source_value", flat=True
        )
    )
    referred = outcomes["OUT_HOSP_OWN"] + outcomes["OUT_AMBULANCE"]
    assert 0.05 <= referred / total <= 0.10
    assert outcomes["OUT_SMUR"] > 0
    dispatch = Counter(
        observations.filter(observation_source_value="OBS_DISPATCH").values_list(
            "value_source_value", flat=True
        )
    )
    assert 0.28 < dispatch["DISP_HOME"] / total < 0.45
    assert 0.33 < dispatch["DISP_CENTRE"] / total < 0.55
    assert 0.02 < dispatch["DISP_TELE"] / total < 0.1
    assert 0.08 < dispatch["DISP_ADVICE"] / total < 0.16
    assert 0.01 < dispatch["DISP_SAMU"] / total < 0.06

    # Each medical act has its diagnoses in both vocabularies.
    acts = VisitDetail.objects.using("warehouse").exclude(visit_detail_source_value="VIS_CALL")
    icpc = set(codelists.concept_ids("ICPC2").values())
    icd = set(codelists.concept_ids("ICD10").values())
    coded = Counter()
    for detail_id, concept in ConditionOccurrence.objects.using("warehouse").values_list(
        "visit_detail_id", "condition_source_concept_id"
    ):
        coded[detail_id, concept in icpc] += 1
        assert concept in icpc or concept in icd
    for detail_id in acts.values_list("visit_detail_id", flat=True):
        assert 1 <= coded[detail_id, True] <= 2
        assert coded[detail_id, True] == coded[detail_id, False]
    # Deaths are rare and end the person's care.
    deaths = Death.objects.using("warehouse").count()
    assert deaths < 0.01 * len(persons)
    for death in Death.objects.using("warehouse"):
        assert (
            not VisitOccurrence.objects.using("warehouse")
            .filter(person_id=death.person_id, visit_start_date__gt=death.death_date)
            .exists()
        )


@pytest.mark.usefixtures("xs_warehouse")
def test_xs_rows_carry_the_standard_concept_of_their_code():
    """Condition, drug and death rows: the standard concept their code maps to, else 0, and the
    code in the source value and source concept (warehouse/data/concept_maps.csv)."""
    local = {row.concept_id: (row.vocabulary_id, row.concept_code) for row in codelists.concepts()}
    standard = {row.concept_id: row for row in codelists.concepts() if row.standard_concept == "S"}
    tables = (
        (ConditionOccurrence, "condition", "Condition"),
        (DrugExposure, "drug", "Drug"),
        (Death, "cause", "Condition"),
    )
    rows = Counter()
    for model, prefix, domain in tables:
        for concept, source, value in model.objects.using("warehouse").values_list(
            f"{prefix}_concept_id", f"{prefix}_source_concept_id", f"{prefix}_source_value"
        ):
            vocabulary, code = local[source]
            assert code == value
            assert concept == codelists.standard_concept_id(vocabulary, code), (vocabulary, code)
            if concept:
                assert standard[concept].domain_id == domain
            rows[prefix, vocabulary, bool(concept)] += 1
    # ICPC-2 has no mapping; most ICD-10 diagnoses and prescriptions have a standard concept,
    # and the codes without one are there too, at 0.
    assert rows["condition", "ICPC2", True] == 0
    assert rows["condition", "ICPC2", False] > 0
    for prefix, vocabulary in (("condition", "ICD10"), ("drug", "ATC")):
        mapped, unmapped = rows[prefix, vocabulary, True], rows[prefix, vocabulary, False]
        assert mapped > 0.8 * (mapped + unmapped), (prefix, mapped, unmapped)
        assert unmapped > 0, prefix
    assert rows["cause", "ICD10", True] + rows["cause", "ICD10", False] > 0


@pytest.mark.usefixtures("xs_warehouse")
def test_xs_identities_agree_with_persons_and_leak_into_some_notes():
    persons = {p.person_source_value: p for p in Person.objects.using("warehouse")}
    with vault_access("test: identities"):
        identities = list(Identity.objects.all())
    assert len(identities) == len(persons)
    assert {identity.person_key for identity in identities} == set(persons)

    with_nir = 0
    by_person_id = {}
    for identity in identities:
        person = persons[identity.person_key]
        by_person_id[person.person_id] = identity
        born = date(person.year_of_birth, person.month_of_birth, person.day_of_birth)
        assert identity.birth_date == born
        assert identity.sex == ("F" if person.gender_concept_id == codelists.GENDER_FEMALE else "M")
        if identity.nir:
            with_nir += 1
            assert check_nir(identity.nir, sex=identity.sex, birth_date=born).valid
            assert identity.nir[5:10] == identity.birth_place_code or (
                identity.birth_place_code[:2] in {"2A", "2B"} and identity.nir[5:7] == "20"
            )
        recomputed = person_key(
            birth_name=identity.birth_name,
            first_names=identity.first_names,
            birth_date=identity.birth_date,
            sex=identity.sex,
            nir=identity.nir,
        )
        assert person.person_source_value == recomputed
    assert with_nir > 0.9 * len(identities)
    assert any(identity.used_name for identity in identities)
    assert any(identity.birth_place_code.startswith("99") for identity in identities)

    notes = list(Note.objects.using("warehouse").values_list("person_id", "note_text"))
    named = phoned = 0
    for person_id, text in notes:
        identity = by_person_id[person_id]
        names = [identity.birth_name, identity.used_name, identity.first_names.split(",")[0]]
        if any(
            len(name) >= 4 and re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE)
            for name in names
            if name
        ):
            named += 1
        if PHONE.search(text):
            phoned += 1
    assert named > 0
    assert phoned > 0
    assert (named + phoned) / len(notes) < 0.15


def test_omop_constants_are_in_the_code_lists():
    ids = {row.concept_id for row in codelists.concepts()}
    constants = [
        value
        for name, value in vars(codelists).items()
        if name.isupper() and isinstance(value, int) and value
    ]
    assert constants
    assert set(constants) <= ids
