"""Reads of the consent register."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from access.models_consent import Assent, ConsentRecord, ConsentWithdrawal


def _events(project: Any, on: datetime | None, person_key: str | None = None):
    moment = on or timezone.now()
    consents = ConsentRecord.objects.filter(project=project, given_at__lte=moment)
    withdrawals = ConsentWithdrawal.objects.filter(project=project, withdrawn_at__lte=moment)
    if person_key is not None:
        consents = consents.filter(person_key=person_key)
        withdrawals = withdrawals.filter(person_key=person_key)
    return (
        consents.values_list("person_key", "given_at", "assent", "pk"),
        withdrawals.values_list("person_key", "withdrawn_at"),
    )


def _valid(consents, withdrawals) -> set[str]:
    # A person consents when their latest consent given by then was not refused by their own
    # assent and no withdrawal came after it (CON-04, CON-05). Two queries whatever the size.
    latest: dict[str, tuple[datetime, str, int]] = {}
    for key, given_at, assent, pk in consents:
        if key not in latest or (given_at, pk) > (latest[key][0], latest[key][2]):
            latest[key] = (given_at, assent, pk)
    withdrawn: dict[str, datetime] = {}
    for key, withdrawn_at in withdrawals:
        if key not in withdrawn or withdrawn_at > withdrawn[key]:
            withdrawn[key] = withdrawn_at
    return {
        key
        for key, (given_at, assent, _pk) in latest.items()
        if assent != Assent.REFUSED and (key not in withdrawn or withdrawn[key] < given_at)
    }


def consenting_persons(project: Any, *, on: datetime | None = None) -> set[str]:
    """Person keys with a valid, unwithdrawn consent to this project at ``on`` (now by default).

    What provisioning of a consent-based project includes, and nobody else (CON-07).
    """
    return _valid(*_events(project, on))


def is_consenting(project: Any, person_key: str, *, on: datetime | None = None) -> bool:
    return person_key in _valid(*_events(project, on, person_key))


def history(project: Any, person_key: str | None = None) -> list[dict]:
    """Consents and withdrawals of a project, oldest first, as one list of dated entries."""
    consents = ConsentRecord.objects.filter(project=project).select_related("recorded_by")
    withdrawals = ConsentWithdrawal.objects.filter(project=project).select_related("recorded_by")
    if person_key:
        consents = consents.filter(person_key=person_key)
        withdrawals = withdrawals.filter(person_key=person_key)
    entries = [{"kind": "consent", "at": c.given_at, "entry": c} for c in consents]
    entries += [{"kind": "withdrawal", "at": w.withdrawn_at, "entry": w} for w in withdrawals]
    entries.sort(key=lambda e: (e["at"], e["kind"] == "withdrawal", e["entry"].pk))
    return entries
