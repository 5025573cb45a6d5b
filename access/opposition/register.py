"""The opposition register as data (OPP-10, OPP-14): what provisioning reads.

A snapshot is named by a number: the number of the last register entry it includes. Every
change (an objection taking effect, a withdrawal) appends one entry with the next number, so
"every change increases the number", and any past snapshot can be recomputed from the
append-only rows (a run's manifest records the number it excluded against).

Provisioning calls, at run time::

    snapshot = current_snapshot(purpose=f"provisioning run {run.pk}", by=None)
    excluded = snapshot.excluded_for(project.reference)

or ``objecting_persons(number, project_reference, purpose=...)`` for a given number. Every read
is audited ("opposition.register_read", with its purpose and the number, never the keys).

The rows hold internal person keys: only this module and the identity officer's and DPO's pages
read them; nothing a researcher, a reviewer, the data steward or the auditor can reach does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from access.models import EntryEffect, RegisterCounter, RegisterEntry, Scope
from eds_portal.audit import record_event


@dataclass(frozen=True)
class RegisterSnapshot:
    number: int
    # Persons who object to every reuse.
    all_reuse: frozenset[str]
    # Project reference -> persons who object to that project only.
    by_project: dict[str, frozenset[str]] = field(default_factory=dict)

    def excluded_for(self, project_reference: str) -> frozenset[str]:
        return self.all_reuse | self.by_project.get(project_reference, frozenset())

    @property
    def person_keys(self) -> frozenset[str]:
        """Everyone with an effective objection, whatever its scope."""
        keys = set(self.all_reuse)
        for persons in self.by_project.values():
            keys |= persons
        return frozenset(keys)


def _compute(number: int) -> RegisterSnapshot:
    rows = list(
        RegisterEntry.objects.filter(number__lte=number).values(
            "pk", "effect", "ends_id", "person_key", "scope", "project_references"
        )
    )
    ended = {row["ends_id"] for row in rows if row["effect"] == EntryEffect.WITHDRAW}
    all_reuse: set[str] = set()
    by_project: dict[str, set[str]] = {}
    for row in rows:
        if row["effect"] != EntryEffect.OBJECT or row["pk"] in ended:
            continue
        if row["scope"] == Scope.ALL:
            all_reuse.add(row["person_key"])
        else:
            for reference in row["project_references"]:
                by_project.setdefault(reference, set()).add(row["person_key"])
    return RegisterSnapshot(
        number=number,
        all_reuse=frozenset(all_reuse),
        by_project={ref: frozenset(keys) for ref, keys in by_project.items()},
    )


def current_number() -> int:
    """The latest snapshot number (0: empty register). Not audited: it reveals no person."""
    counter = RegisterCounter.objects.filter(pk=1).values_list("last_number", flat=True).first()
    return counter or 0


def current_snapshot(*, purpose: str, by: Any = None) -> RegisterSnapshot:
    """The register as it stands, read once; audited."""
    number = current_number()
    snapshot = _compute(number)
    _audit_read(by=by, purpose=purpose, number=number)
    return snapshot


def snapshot_at(number: int, *, purpose: str, by: Any = None) -> RegisterSnapshot:
    """The register as it stood at ``number`` (a past run's manifest); audited."""
    if number < 0 or number > current_number():
        raise ValueError(f"no register snapshot numbered {number}")
    snapshot = _compute(number)
    _audit_read(by=by, purpose=purpose, number=number)
    return snapshot


def objecting_persons(
    snapshot_number: int, project_reference: str, *, purpose: str, by: Any = None
) -> frozenset[str]:
    """Person keys to exclude from ``project_reference`` at ``snapshot_number``; audited."""
    return snapshot_at(snapshot_number, purpose=purpose, by=by).excluded_for(project_reference)


def _audit_read(*, by: Any, purpose: str, number: int) -> None:
    if not purpose:
        raise ValueError("a read of the opposition register needs a purpose")
    record_event(
        action="opposition.register_read",
        actor=by,
        target_type="access.register",
        target_id=str(number),
        after={"purpose": purpose},
    )


def append_entry(
    *,
    by: Any,
    request: Any,
    effect: EntryEffect,
    person_key: str,
    scope: str,
    project_references: list[str],
    ends: RegisterEntry | None = None,
) -> RegisterEntry:
    """Appends one entry with the next number; for ``access.opposition.actions`` only.

    The counter row is locked until commit, so numbers are committed in the order they are
    given: a reader never sees number N+1 without N.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("register entries are appended inside the action's transaction")
    counter, _created = RegisterCounter.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_number": 0}
    )
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    entry = RegisterEntry.objects.create(
        number=counter.last_number,
        effect=effect,
        request=request,
        ends=ends,
        person_key=person_key,
        scope=scope,
        project_references=sorted(project_references),
        recorded_by=by,
    )
    record_event(
        action=f"opposition.register_{effect}",
        actor=by,
        target=entry,
        after={"number": entry.number, "request": request.receipt_number, "scope": scope},
    )
    return entry
