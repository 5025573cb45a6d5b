"""Keeps the warehouse's copy of warehouse-wide objections in step with the register.

Feasibility counts run on the warehouse and must not count persons who object to every reuse;
the register is in the portal's database. ``access.opposition.actions`` calls these functions
inside its own transaction: the warehouse (another database) is written only after that commit,
so a rolled-back objection never flags anybody. The nightly task resyncs the whole table in case
an after-commit write was lost (a crash between the two commits).
"""

from __future__ import annotations

from django.db import transaction

from access.models import EntryEffect, RegisterEntry, Scope
from access.opposition import register
from warehouse import objections


def flag_on_commit(entry: RegisterEntry) -> None:
    """An objection entry took effect: a warehouse-wide one flags its person after the commit."""
    if entry.effect != EntryEffect.OBJECT or entry.scope != Scope.ALL:
        return
    key = entry.person_key
    transaction.on_commit(lambda: objections.flag_objection([key]))


def unflag_on_commit(ended: list[RegisterEntry]) -> None:
    """Objection entries were ended by a withdrawal: their persons are unflagged after commit,
    unless another warehouse-wide objection of theirs is still in force."""
    keys = {entry.person_key for entry in ended if entry.scope == Scope.ALL}
    if not keys:
        return
    still = set(
        RegisterEntry.objects.filter(
            effect=EntryEffect.OBJECT,
            scope=Scope.ALL,
            person_key__in=keys,
            ended_by__isnull=True,
        ).values_list("person_key", flat=True)
    )
    gone = keys - still
    if gone:
        transaction.on_commit(lambda: objections.unflag_objection(gone))


def sync_all(*, by=None) -> objections.SyncSummary:
    """The flags become the register's warehouse-wide objections (the read is audited)."""
    snapshot = register.current_snapshot(purpose="feasibility counts: objection flags", by=by)
    return objections.sync_objections(snapshot.all_reuse)
