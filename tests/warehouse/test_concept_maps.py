"""Codes mapped to OMOP standard concepts (concept_maps.csv; docs/vocabularies.md)."""

from __future__ import annotations

import importlib
import re
from collections import Counter
from datetime import date

import pytest
from django.apps import apps
from django.db import connections

from tests.conftest import login
from tests.warehouse import factories as wf
from warehouse import codelists
from warehouse.models import Concept, ConditionOccurrence

# Source vocabulary -> (standard vocabulary, concept class, domain) of its targets.
TARGETS = {
    "ICD10": ("SNOMED", "Clinical Finding", "Condition"),
    "ATC": ("RxNorm", "Ingredient", "Drug"),
}
BASES = {"maps_to", "same_meaning", "ingredient"}
LOCAL_IDS_FROM = 2_000_000_000
# "owner/repository path/to/file (commit abc1234)"
EVIDENCE = re.compile(r"^[\w.-]+/[\w.-]+ \S.* \(commit [0-9a-f]{7,40}\)")


def _concepts() -> dict[int, codelists.ConceptRow]:
    return {row.concept_id: row for row in codelists.concepts()}


# --- The map file ---------------------------------------------------------------------------


def test_every_source_code_is_in_its_code_list_once():
    maps = codelists.concept_maps()
    assert maps
    pairs = Counter((row.source_vocabulary_id, row.source_code) for row in maps)
    assert [pair for pair, count in pairs.items() if count > 1] == []
    for row in maps:
        assert row.source_vocabulary_id in TARGETS, row
        assert row.source_code in codelists.concept_ids(row.source_vocabulary_id), row


def test_every_target_is_a_standard_concept_of_the_right_vocabulary_and_domain():
    concepts = _concepts()
    for row in codelists.concept_maps():
        vocabulary, concept_class, domain = TARGETS[row.source_vocabulary_id]
        assert (row.target_vocabulary_id, row.target_concept_class_id, row.target_domain_id) == (
            vocabulary,
            concept_class,
            domain,
        ), row
        assert 0 < row.target_concept_id < LOCAL_IDS_FROM, row  # OMOP's, not ours
        concept = concepts[row.target_concept_id]
        assert concept.standard_concept == "S", row
        assert concept.vocabulary_id == vocabulary, row
        assert concept.domain_id == domain, row
        assert concept.concept_class_id == concept_class, row
        assert concept.concept_code == row.target_concept_code, row
        assert concept.name_en.casefold() == row.target_name.casefold(), row
        assert concept.name_fr, row


def test_every_mapping_says_why_and_where_it_was_checked():
    for row in codelists.concept_maps():
        assert row.basis in BASES, row
        assert (row.basis == "ingredient") == (row.source_vocabulary_id == "ATC"), row
        assert EVIDENCE.match(row.evidence), row


def test_the_standard_concepts_shipped_are_the_targets_and_nothing_else():
    targets = {row.target_concept_id for row in codelists.concept_maps()}
    standard = {
        row.concept_id
        for row in codelists.concepts()
        if row.vocabulary_id in {"SNOMED", "RxNorm"} or row.concept_id in targets
    }
    assert standard == targets
    # The source codes themselves are not standard: their rows point to the targets.
    for row in codelists.concepts():
        if row.vocabulary_id in {"ICD10", "ICPC2", "ATC"}:
            assert row.concept_id >= LOCAL_IDS_FROM, row
            assert row.standard_concept == "", row


def test_what_has_no_single_standard_concept_stays_unmapped():
    atc = codelists.concept_names("ATC", "en")
    # ICPC-2 has no mapping shipped; combinations and ATC groups have no single ingredient.
    assert codelists.standard_concept_ids("ICPC2") == {}
    for code, name in atc.items():
        if " and " in name or len(code) < 7:
            assert codelists.standard_concept_id("ATC", code) == 0, code
    # Mappings looked at and refused (docs/vocabularies.md): a wrong or narrower target.
    for code in ("A46", "F10.0", "Z02.7"):
        assert codelists.standard_concept_id("ICD10", code) == 0, code


def test_standard_concept_id_and_coverage():
    assert codelists.standard_concept_id("ICD10", "I10") == 320128  # Essential hypertension
    assert codelists.standard_concept_id("ATC", "N02BE01") == 1125315  # acetaminophen
    assert codelists.standard_concept_id("ICD10", "A46") == codelists.NO_MATCHING_CONCEPT
    assert codelists.standard_concept_id("ICD10", "not a code") == 0
    assert codelists.standard_concept_id("ICPC2", "R78") == 0
    for vocabulary in ("ICD10", "ATC", "ICPC2"):
        mapped, total = codelists.mapping_coverage(vocabulary)
        assert total == len(codelists.concept_ids(vocabulary))
        assert mapped == len(codelists.standard_concept_ids(vocabulary))
    assert codelists.mapping_coverage("ICD10") == (82, 97)
    assert codelists.mapping_coverage("ATC") == (71, 79)
    assert codelists.mapping_coverage("ICPC2") == (0, 98)


# --- The concept table and the migration ----------------------------------------------------


@pytest.mark.django_db(databases=["warehouse"])
def test_the_concept_table_holds_the_targets_as_standard_concepts():
    targets = {row.target_concept_id: row for row in codelists.concept_maps()}
    loaded = Concept.objects.using("warehouse").filter(concept_id__in=targets)
    assert loaded.count() == len(targets)
    for concept in loaded:
        target = targets[concept.concept_id]
        assert concept.standard_concept == "S"
        assert concept.domain_id == target.target_domain_id
        assert concept.vocabulary_id == target.target_vocabulary_id


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_the_migration_maps_rows_already_loaded_and_reverses():
    migration = importlib.import_module("warehouse.migrations.0005_standard_concepts")
    person = wf.person()
    wf.visit(person, on=date(2025, 1, 6), icpc2="K86", icd10="I10")  # mapped ICD-10 code
    wf.visit(person, on=date(2025, 2, 3), icpc2="R78", icd10="A46")  # unmapped ICD-10 code
    rows = ConditionOccurrence.objects.using("warehouse")

    def concepts() -> dict[str, int]:
        return dict(rows.values_list("condition_source_value", "condition_concept_id"))

    assert set(concepts().values()) == {0}
    with connections["warehouse"].schema_editor() as editor:
        migration.load(apps, editor)
    assert concepts() == {"K86": 0, "I10": 320128, "R78": 0, "A46": 0}
    with connections["warehouse"].schema_editor() as editor:
        migration.unload(apps, editor)
    assert set(concepts().values()) == {0}
    assert not Concept.objects.using("warehouse").filter(vocabulary_id="SNOMED").exists()
    with connections["warehouse"].schema_editor() as editor:
        migration.load(apps, editor)  # loads the concepts again when they are missing
    assert Concept.objects.using("warehouse").filter(concept_id=320128).exists()


# --- The catalogue page ---------------------------------------------------------------------


def _mapping_notes(html: str) -> dict[str, str]:
    notes = re.findall(r'data-variable="([\w.]+)"[^>]*>(.*?)</p>', html, flags=re.S)
    return {variable: " ".join(text.split()) for variable, text in notes}


@pytest.mark.django_db(databases=["default", "warehouse"])
@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "chair",
        "patient_representative",
        "secretariat",
        "data_steward",
        "dpo",
    ],
    indirect=True,
)
def test_the_catalogue_says_how_many_codes_map_to_a_standard_concept(client, persona, settings):
    settings.LANGUAGE_CODE = "en"
    login(client, persona)
    response = client.get("/warehouse/catalogue/", {"q": "ICD-10"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    notes = _mapping_notes(response.content.decode())
    icd10 = notes["diagnosis.icd10"]
    assert (
        "82 of the 97 codes map to one (SNOMED), in condition_occurrence.condition_concept_id"
        in icd10
    )
    assert "concept id 0 there (no matching concept)" in icd10
    assert "death.cause_concept_id" in notes["death.cause"]

    html = client.get("/warehouse/catalogue/", {"table": "drug_exposure"}).content.decode()
    atc = _mapping_notes(html)["prescription.atc"]
    assert "71 of the 79 codes map to one (RxNorm), in drug_exposure.drug_concept_id" in atc

    html = client.get("/warehouse/catalogue/", {"q": "ICPC-2"}).content.decode()
    icpc2 = _mapping_notes(html)["diagnosis.icpc2"]
    assert "none of the 98 codes maps to one" in icpc2
    assert "condition_occurrence.condition_concept_id is 0" in icpc2


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_variables_that_are_not_codes_have_no_mapping_note(client, researcher):
    login(client, researcher)
    html = client.get("/warehouse/catalogue/", {"table": "measurement"}).content.decode()
    assert "standard-mapping" not in html


@pytest.mark.django_db(databases=["default", "warehouse"])
@pytest.mark.parametrize("persona", ["identity_officer", "auditor", "outsider"], indirect=True)
def test_the_mapping_notes_are_not_shown_to_other_roles(client, persona):
    login(client, persona)
    response = client.get("/warehouse/catalogue/", {"q": "ICD-10"})
    assert response.status_code == 403
    assert "standard-mapping" not in response.content.decode()
