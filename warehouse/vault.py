"""The only doors into the identity vault (OPP-08, SEC-06).

- ``find_candidates``: the identity officer matches an opposition request to warehouse persons;
- ``names_for_scrubbing``: the free-text scrubber needs the names to remove from notes;
- ``load_identities``: the loaders write identities.

Every other access is refused by the database router (``eds_portal.routers``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.routers import vault_access
from warehouse.keys import normalise_first_name, normalise_surname, person_key
from warehouse.models import Identity


@dataclass(frozen=True)
class Candidate:
    person_key: str
    identity: Identity
    agreeing: tuple[str, ...]  # the fields that agree with the request


def find_candidates(
    *,
    by: Any,
    birth_name: str,
    first_names: str,
    birth_date: date,
    sex: str,
    nir: str = "",
    reason: str,
) -> list[Candidate]:
    """Warehouse persons who may be the one described; audited without the identity itself."""
    if not has_permission(by, Permission.MATCH_IDENTITIES):
        raise PermissionDenied
    wanted_name = normalise_surname(birth_name)
    wanted_first = normalise_first_name(first_names)
    exact_key = person_key(
        birth_name=birth_name, first_names=first_names, birth_date=birth_date, sex=sex, nir=nir
    )
    with vault_access("identity matching"):
        rows = list(
            Identity.objects.filter(birth_date=birth_date)
            | Identity.objects.filter(person_key=exact_key)
        )
    candidates = []
    for row in rows:
        agreeing = ["birth_date"] if row.birth_date == birth_date else []
        if normalise_surname(row.birth_name) == wanted_name or (
            row.used_name and normalise_surname(row.used_name) == wanted_name
        ):
            agreeing.append("name")
        if normalise_first_name(row.first_names) == wanted_first:
            agreeing.append("first_name")
        if row.sex == sex:
            agreeing.append("sex")
        if nir and row.nir and row.nir == nir.replace(" ", ""):
            agreeing.append("nir")
        if row.person_key == exact_key or len(agreeing) >= 3:
            candidates.append(Candidate(row.person_key, row, tuple(agreeing)))
    record_event(
        action="vault.searched",
        actor=by,
        target_type="vault",
        after={"reason": reason, "candidates": len(candidates)},
    )
    return candidates


def names_for_scrubbing(person_keys: Iterable[str]) -> dict[str, list[str]]:
    """Names of each person, for removing them from free text. Never leaves the worker."""
    keys = list(person_keys)
    names: dict[str, list[str]] = {}
    with vault_access("free-text scrubbing"):
        for start in range(0, len(keys), 5000):
            chunk = keys[start : start + 5000]
            for row in Identity.objects.filter(person_key__in=chunk).values(
                "person_key", "birth_name", "used_name", "first_names"
            ):
                parts = [row["birth_name"], row["used_name"], *row["first_names"].split(",")]
                names[row["person_key"]] = [part.strip() for part in parts if part.strip()]
    return names


def load_identities(rows: Iterable[Identity], *, batch_size: int = 5000) -> int:
    """Bulk insert, for the loaders (the synthetic generator, an ETL)."""
    count = 0
    batch: list[Identity] = []
    with vault_access("loading"):
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                Identity.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        if batch:
            Identity.objects.bulk_create(batch)
            count += len(batch)
    return count
