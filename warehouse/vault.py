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

from django.conf import settings
from django.core.exceptions import PermissionDenied

from eds_portal.audit import record_event
from eds_portal.authz import Permission, has_permission
from eds_portal.routers import vault_access
from warehouse.keys import normalise_first_name, normalise_surname, person_key
from warehouse.models import Identity, OppositionIdentity


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
    candidates = _candidates(
        birth_name=birth_name, first_names=first_names, birth_date=birth_date, sex=sex, nir=nir
    )
    record_event(
        action="vault.searched",
        actor=by,
        target_type="vault",
        after={"reason": reason, "candidates": len(candidates)},
    )
    return candidates


def _candidates(
    *, birth_name: str, first_names: str, birth_date: date, sex: str, nir: str = ""
) -> list[Candidate]:
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


# --- Opposition requests (OPP-08, "Fields" B 2-3) ---------------------------------------------
#
# A request's identity is written once, when it arrives (the public form or the staff member who
# typed it in: write-only for them), and read back only by the identity officer. Two system
# doors read it without a user: the periodic re-matching (OPP-09) and the answer mailer, which
# needs the requester's e-mail address; neither returns the identity to a page.

OPPOSITION_FIELDS = (
    "birth_name",
    "used_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_place",
    "postal_code",
    "associations",
    "approximate_dates",
    "requester_name",
    "contact_email",
    "contact_address",
    "comment",
)


@dataclass(frozen=True)
class Rematch:
    receipt_number: str
    exact_key: str | None  # a warehouse person whose key is the request's own key
    candidates: int  # persons who agree on enough fields for the identity officer to look


@dataclass(frozen=True)
class OppositionContact:
    email: str
    address: str
    requester_name: str


def store_opposition_identity(*, receipt_number: str, fields: dict[str, Any], by: Any) -> None:
    """Writes the identity of a new request; ``by`` is the staff member, or None online."""
    values = {name: fields.get(name) for name in OPPOSITION_FIELDS if name in fields}
    with vault_access("opposition request intake"):
        OppositionIdentity.objects.create(receipt_number=receipt_number, **values)
    record_event(
        action="vault.opposition_identity_stored",
        actor=by,
        target_type="vault.opposition",
        target_id=receipt_number,
    )


def _opposition_row(receipt_number: str) -> OppositionIdentity:
    with vault_access("identity matching"):
        return OppositionIdentity.objects.get(receipt_number=receipt_number)


def read_opposition_identity(*, by: Any, receipt_number: str) -> OppositionIdentity:
    """The identity of one request, for the identity officer only; audited."""
    if not has_permission(by, Permission.MATCH_IDENTITIES):
        raise PermissionDenied
    row = _opposition_row(receipt_number)
    record_event(
        action="vault.opposition_identity_read",
        actor=by,
        target_type="vault.opposition",
        target_id=receipt_number,
    )
    return row


def opposition_candidates(*, by: Any, identity: OppositionIdentity) -> list[Candidate]:
    """Candidates for a request, searched by its birth name and, if different, its used name."""
    found = find_candidates(
        by=by,
        birth_name=identity.birth_name,
        first_names=identity.first_names,
        birth_date=identity.birth_date,
        sex=identity.sex,
        reason=f"opposition {identity.receipt_number}",
    )
    if identity.used_name and normalise_surname(identity.used_name) != normalise_surname(
        identity.birth_name
    ):
        seen = {candidate.person_key for candidate in found}
        found += [
            candidate
            for candidate in _candidates(
                birth_name=identity.used_name,
                first_names=identity.first_names,
                birth_date=identity.birth_date,
                sex=identity.sex,
            )
            if candidate.person_key not in seen
        ]
    return found


def confirm_opposition_match(*, by: Any, receipt_number: str, person_key_value: str) -> None:
    """Keeps the matched key with the request's identity (identity officer only)."""
    if not has_permission(by, Permission.MATCH_IDENTITIES):
        raise PermissionDenied
    with vault_access("identity matching"):
        if not Identity.objects.filter(person_key=person_key_value).exists():
            raise ValueError("no warehouse person has this key")
        OppositionIdentity.objects.filter(receipt_number=receipt_number).update(
            matched_person_key=person_key_value
        )
    record_event(
        action="vault.opposition_matched",
        actor=by,
        target_type="vault.opposition",
        target_id=receipt_number,
    )


def set_opposition_id_copy(*, by: Any, receipt_number: str, stored_name: str) -> str:
    """Records (or clears, with "") the stored name of the ID copy; returns the previous one."""
    if not has_permission(by, Permission.MATCH_IDENTITIES):
        raise PermissionDenied
    with vault_access("identity matching"):
        row = OppositionIdentity.objects.get(receipt_number=receipt_number)
        previous = row.id_copy_name
        row.id_copy_name = stored_name
        row.save(update_fields=["id_copy_name"])
    return previous


def rematch_oppositions(receipt_numbers: Iterable[str]) -> list[Rematch]:
    """The system's re-matching of objections without a warehouse person yet (OPP-09).

    Returns only keys and counts; audited with counts, never with identities.
    """
    results = []
    with vault_access("opposition re-matching"):
        rows = list(OppositionIdentity.objects.filter(receipt_number__in=list(receipt_numbers)))
        for row in rows:
            exact = person_key(
                birth_name=row.birth_name,
                first_names=row.first_names,
                birth_date=row.birth_date,
                sex=row.sex,
            )
            exists = Identity.objects.filter(person_key=exact).exists()
            candidates = _candidates(
                birth_name=row.birth_name,
                first_names=row.first_names,
                birth_date=row.birth_date,
                sex=row.sex,
            )
            if exists:
                OppositionIdentity.objects.filter(pk=row.pk).update(matched_person_key=exact)
            results.append(Rematch(row.receipt_number, exact if exists else None, len(candidates)))
    record_event(
        action="vault.opposition_rematched",
        target_type="vault.opposition",
        after={
            "requests": len(results),
            "matched": sum(1 for r in results if r.exact_key),
            "with_candidates": sum(1 for r in results if r.candidates),
        },
    )
    return results


# Processes that read identities with no person behind them; their events name the process
# (``after["reader"]``) since they have no actor. Every other read names its user.
SYSTEM_READERS = frozenset({"mail queue"})


def opposition_contact(receipt_number: str, *, purpose: str, by: Any) -> OppositionContact:
    """Where to send the answer; for the mailer and the identity officer's postal letters.

    ``by`` is the user who reads it (the identity officer printing a letter), or the name of the
    process in ``SYSTEM_READERS`` (the mail queue): the trail always says who read the address.
    """
    if isinstance(by, str):
        if by not in SYSTEM_READERS:
            raise ValueError(f"unknown system reader {by!r}")
        actor, after = None, {"purpose": purpose, "reader": by}
    elif by is not None and getattr(by, "is_authenticated", False):
        actor, after = by, {"purpose": purpose}
    else:
        raise ValueError("an identity needs a named reader: a user or a process")
    with vault_access(f"opposition answer: {purpose}"):
        row = OppositionIdentity.objects.get(receipt_number=receipt_number)
    record_event(
        action="vault.opposition_contact_read",
        actor=actor,
        target_type="vault.opposition",
        target_id=receipt_number,
        after=after,
    )
    return OppositionContact(row.contact_email, row.contact_address, row.requester_name)


def demo_identities(count: int, *, among: Iterable[str] | None = None) -> list[Identity]:
    """A few synthetic identities for the demo's sample requests; refused in production.

    ``among``: only these person keys (the demo picks its visitor in a published cohort).
    """
    if settings.PRODUCTION:
        raise PermissionDenied("demo identities are for the synthetic warehouse only")
    with vault_access("demo"):
        identities = Identity.objects.order_by("person_key")
        if among is not None:
            identities = identities.filter(person_key__in=list(among))
        return list(identities[:count])


def forget_opposition_identities(receipt_numbers: Iterable[str]) -> int:
    """Deletes the identities of closed requests past their retention (RET-06); the count.

    The caller (the nightly retention purge) records the count; no identity is read.
    """
    numbers = list(receipt_numbers)
    if not numbers:
        return 0
    with vault_access("retention purge"):
        deleted, _details = OppositionIdentity.objects.filter(receipt_number__in=numbers).delete()
    return deleted


def opposition_identities_held(receipt_numbers: Iterable[str]) -> list[str]:
    """Which of these requests still have an identity in the vault (numbers only)."""
    numbers = list(receipt_numbers)
    if not numbers:
        return []
    with vault_access("retention schedule"):
        return list(
            OppositionIdentity.objects.filter(receipt_number__in=numbers).values_list(
                "receipt_number", flat=True
            )
        )
