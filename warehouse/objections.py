"""Warehouse-side flags of the persons who object to every reuse (OPP-03), for the counts.

The opposition register lives in the portal's database (``access.opposition.register``) and the
feasibility counts run on the warehouse: no query can join them, and ``warehouse`` does not
import ``access``. So ``access`` keeps this copy: it flags a person after the commit that makes
a warehouse-wide objection take effect, unflags them after the commit of its withdrawal, and
makes the whole table equal to the register every night (``sync_objections``). Counts exclude
flagged persons (``warehouse.cohort.feasibility_visits``).

Only warehouse-wide objections are here: an objection to some projects does not stop the person
from being counted while a protocol is drafted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from warehouse.models import PersonObjection

ALIAS = "warehouse"
_BATCH = 1000


def _keys(person_keys: Iterable[str]) -> set[str]:
    return {key for key in person_keys if key}


def flag_objection(person_keys: Iterable[str]) -> int:
    """Flags these persons (already flagged ones keep their date); returns how many were new."""
    keys = _keys(person_keys)
    if not keys:
        return 0
    with transaction.atomic(using=ALIAS):
        known = set(
            PersonObjection.objects.using(ALIAS)
            .filter(person_key__in=keys)
            .values_list("person_key", flat=True)
        )
        now = timezone.now()
        new = [PersonObjection(person_key=key, flagged_at=now) for key in sorted(keys - known)]
        PersonObjection.objects.using(ALIAS).bulk_create(
            new, batch_size=_BATCH, ignore_conflicts=True
        )
    return len(new)


def unflag_objection(person_keys: Iterable[str]) -> int:
    """Removes the flags of these persons; returns how many there were."""
    keys = sorted(_keys(person_keys))
    removed = 0
    with transaction.atomic(using=ALIAS):
        for start in range(0, len(keys), _BATCH):
            removed += (
                PersonObjection.objects.using(ALIAS)
                .filter(person_key__in=keys[start : start + _BATCH])
                .delete()[0]
            )
    return removed


@dataclass(frozen=True)
class SyncSummary:
    flagged: int
    unflagged: int
    total: int


def sync_objections(all_keys: Iterable[str]) -> SyncSummary:
    """Makes the flags exactly ``all_keys`` (the register's warehouse-wide objections)."""
    wanted = _keys(all_keys)
    with transaction.atomic(using=ALIAS):
        present = set(PersonObjection.objects.using(ALIAS).values_list("person_key", flat=True))
        unflagged = unflag_objection(present - wanted)
        flagged = flag_objection(wanted - present)
    return SyncSummary(flagged=flagged, unflagged=unflagged, total=len(wanted))


def flagged_keys() -> frozenset[str]:
    return frozenset(PersonObjection.objects.using(ALIAS).values_list("person_key", flat=True))
