"""The curated code lists shipped in ``warehouse/data``, read straight from the CSV files.

The ``concept`` table is loaded from the same ``concepts.csv`` by a migration; code that runs
without a migrated database (the synthetic generator, tests) reads the files through here, so
both always agree. Every function is cached: the files are read once per process, and the
mappings returned are read-only views.

Concept ids that are OMOP's own (gender, type concept, units, LOINC measurements) are constants
below; the project's local concepts (ids from 2,000,000,000 up: SOS Médecins reasons, dispatch
decisions, outcomes, visit kinds...) are looked up by code, because their ids belong to the code
lists, not to the code.

``concept_maps.csv`` maps source codes (ICD-10, ATC) to OMOP standard concepts (SNOMED
conditions, RxNorm ingredients), with the public source each identifier was checked in; the
standard concepts themselves are rows of ``concepts.csv``. A code without a map row has no
standard concept: its rows keep concept id 0 (``NO_MATCHING_CONCEPT``) and their source value.
See docs/vocabularies.md.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

DATA_DIR = Path(__file__).resolve().parent / "data"

# --- OMOP standard concepts (present in concepts.csv; a test checks it) --------------------
GENDER_MALE = 8507
GENDER_FEMALE = 8532
# "EHR": the type of every row the warehouse holds (they all come from the SOS Médecins record).
TYPE_EHR = 32817

UNIT_CELSIUS = 586323
UNIT_PER_MINUTE = 8541
UNIT_MM_HG = 8876
UNIT_PERCENT = 8554
UNIT_MG_PER_DL = 8840
UNIT_KG = 9529

BODY_TEMPERATURE = 3020891
HEART_RATE = 3027018
SYSTOLIC_BP = 3004249
DIASTOLIC_BP = 3012888
OXYGEN_SATURATION = 40762499
RESPIRATORY_RATE = 3024171
BLOOD_GLUCOSE = 3004501
BODY_WEIGHT = 3025315

# A source code without a standard mapping shipped here (concept_maps.csv): its rows carry the
# code in *_source_value / *_source_concept_id and 0 ("no matching concept") in *_concept_id.
NO_MATCHING_CONCEPT = 0


@dataclass(frozen=True)
class ConceptRow:
    concept_id: int
    vocabulary_id: str
    concept_code: str
    domain_id: str
    concept_class_id: str
    standard_concept: str
    name_fr: str
    name_en: str


@dataclass(frozen=True)
class ConceptMap:
    """A source code and the OMOP standard concept it maps to (a row of concept_maps.csv)."""

    source_vocabulary_id: str
    source_code: str
    target_concept_id: int
    target_vocabulary_id: str
    target_concept_code: str
    target_concept_class_id: str
    target_domain_id: str
    target_name: str
    # maps_to: an OMOP "Maps to" row for this code was seen; same_meaning: the standard concept
    # means what the code means (identifier and name seen, no "Maps to" row); ingredient: an
    # ATC substance and the RxNorm ingredient of the same substance.
    basis: str
    # Where the target's identifier was seen with that name (repository, path, commit).
    evidence: str


@dataclass(frozen=True)
class Departement:
    code: str
    name: str
    region_code: str


@dataclass(frozen=True)
class Association:
    """A SOS Médecins association; ``weight`` is its relative activity."""

    care_site_id: int
    name: str
    city: str
    departement: str
    postal_code: str
    centres: int
    weight: float


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def concepts() -> tuple[ConceptRow, ...]:
    return tuple(
        ConceptRow(
            concept_id=int(row["concept_id"]),
            vocabulary_id=row["vocabulary_id"],
            concept_code=row["concept_code"],
            domain_id=row["domain_id"],
            concept_class_id=row["concept_class_id"],
            standard_concept=row["standard_concept"],
            name_fr=row["name_fr"],
            name_en=row["name_en"],
        )
        for row in _read("concepts.csv")
    )


@lru_cache(maxsize=64)
def concept_ids(vocabulary_id: str) -> Mapping[str, int]:
    """{concept_code: concept_id} for one vocabulary (ICPC2, ICD10, ATC, SOS_REASON...)."""
    return MappingProxyType(
        {
            row.concept_code: row.concept_id
            for row in concepts()
            if row.vocabulary_id == vocabulary_id
        }
    )


@lru_cache(maxsize=64)
def concept_names(vocabulary_id: str, language: str = "fr") -> Mapping[str, str]:
    """{concept_code: label} for one vocabulary, in French or English."""
    attribute = "name_fr" if language == "fr" else "name_en"
    return MappingProxyType(
        {
            row.concept_code: getattr(row, attribute)
            for row in concepts()
            if row.vocabulary_id == vocabulary_id
        }
    )


def concept_id(vocabulary_id: str, code: str) -> int:
    try:
        return concept_ids(vocabulary_id)[code]
    except KeyError:
        raise KeyError(f"{vocabulary_id} {code} is not in warehouse/data/concepts.csv") from None


@lru_cache(maxsize=1)
def concept_maps() -> tuple[ConceptMap, ...]:
    return tuple(
        ConceptMap(
            source_vocabulary_id=row["source_vocabulary_id"],
            source_code=row["source_code"],
            target_concept_id=int(row["target_concept_id"]),
            target_vocabulary_id=row["target_vocabulary_id"],
            target_concept_code=row["target_concept_code"],
            target_concept_class_id=row["target_concept_class_id"],
            target_domain_id=row["target_domain_id"],
            target_name=row["target_name"],
            basis=row["basis"],
            evidence=row["evidence"],
        )
        for row in _read("concept_maps.csv")
    )


@lru_cache(maxsize=64)
def standard_concept_ids(vocabulary_id: str) -> Mapping[str, int]:
    """{source code: standard concept id} for the mapped codes of one source vocabulary."""
    return MappingProxyType(
        {
            row.source_code: row.target_concept_id
            for row in concept_maps()
            if row.source_vocabulary_id == vocabulary_id
        }
    )


def standard_concept_id(vocabulary_id: str, code: str) -> int:
    """The OMOP standard concept a source code maps to; 0 (no matching concept) if none."""
    return standard_concept_ids(vocabulary_id).get(code, NO_MATCHING_CONCEPT)


def mapping_coverage(vocabulary_id: str) -> tuple[int, int]:
    """(codes of the vocabulary that map to a standard concept, codes of the vocabulary)."""
    codes = concept_ids(vocabulary_id)
    mapped = standard_concept_ids(vocabulary_id)
    return sum(code in mapped for code in codes), len(codes)


@lru_cache(maxsize=1)
def departements() -> Mapping[str, Departement]:
    return MappingProxyType(
        {
            row["code"]: Departement(row["code"], row["name"], row["region_code"])
            for row in _read("departements.csv")
        }
    )


@lru_cache(maxsize=1)
def associations() -> tuple[Association, ...]:
    return tuple(
        Association(
            care_site_id=int(row["care_site_id"]),
            name=row["name"],
            city=row["city"],
            departement=row["departement"],
            postal_code=row["postal_code"],
            centres=int(row["centres"]),
            weight=float(row["weight"]),
        )
        for row in _read("associations.csv")
    )
