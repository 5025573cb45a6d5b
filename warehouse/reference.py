"""Reference lists shipped with the project: départements, regions and associations.

Read from warehouse/data once per process.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from django.db.models import Q

DATA = Path(__file__).resolve().parent / "data"

# OMOP standard gender concepts.
GENDER = {"M": 8507, "F": 8532}


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def departement_names() -> dict[str, str]:
    return {row["code"]: row["name"] for row in _rows("departements.csv")}


@lru_cache(maxsize=1)
def region_of_departement() -> dict[str, str]:
    return {row["code"]: row["region_code"] for row in _rows("departements.csv")}


@lru_cache(maxsize=1)
def region_names() -> dict[str, tuple[str, str]]:
    return {row["code"]: (row["name_fr"], row["name_en"]) for row in _rows("regions.csv")}


@lru_cache(maxsize=1)
def associations() -> dict[int, dict[str, str]]:
    return {int(row["care_site_id"]): row for row in _rows("associations.csv")}


def association_names() -> dict[int, str]:
    return {
        pk: row["name"]
        for pk, row in sorted(associations().items(), key=lambda item: item[1]["name"])
    }


def care_sites_of(*, associations: tuple[int, ...] = (), departements: tuple[str, ...] = ()):
    """Care-site ids (associations and their centres) matching either list."""
    from warehouse.models import CareSite

    condition = Q()
    # An association's own site is "SOS-07"; its consultation centres "SOS-07-C1", "SOS-07-C2".
    for pk in associations:
        source = f"SOS-{pk:02d}"
        condition |= Q(care_site_source_value=source)
        condition |= Q(care_site_source_value__startswith=f"{source}-")
    if departements:
        condition |= Q(location__county__in=departements)
    return CareSite.objects.filter(condition).values("care_site_id")
