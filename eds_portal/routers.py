"""Keeps each app's tables in its database alias (docs/architecture.md: default, warehouse, vault).

Warehouse models whose table is named ``vault_*`` live in the ``vault`` alias (the rule reads
the table name because migrations' historical models keep no custom class attribute); every
other warehouse model lives in ``warehouse``; everything else in ``default``.
Nothing may relate rows across aliases.

The vault is closed by default: a query on a vault model fails unless the code runs inside
``vault_access(purpose)``, which only the identity officer's matching, the free-text scrubber
and the loaders open (``warehouse.vault``).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

WAREHOUSE_APP = "warehouse"
VAULT = "vault"

_vault_purpose: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vault_purpose", default=None
)


class VaultAccessDenied(PermissionError):
    """Raised when code outside the allowed paths touches the identity vault."""


@contextmanager
def vault_access(purpose: str) -> Iterator[None]:
    """Opens the vault for the code inside the block; ``purpose`` says why (audited by callers)."""
    if not purpose:
        raise ValueError("vault access needs a purpose")
    token = _vault_purpose.set(purpose)
    try:
        yield
    finally:
        _vault_purpose.reset(token)


def _alias_for_model(model) -> str:
    if model._meta.app_label != WAREHOUSE_APP:
        return "default"
    return VAULT if model._meta.db_table.startswith("vault_") else "warehouse"


def _checked(alias: str, model) -> str:
    if alias == VAULT and _vault_purpose.get() is None:
        raise VaultAccessDenied(
            f"{model.__name__} is in the identity vault: only identity matching and free-text "
            "scrubbing may read it (warehouse.vault)."
        )
    return alias


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        return _checked(_alias_for_model(model), model)

    def db_for_write(self, model, **hints):
        return _checked(_alias_for_model(model), model)

    def allow_relation(self, obj1, obj2, **hints):
        # Instances, possibly behind a lazy proxy (request.user): read their class through _meta.
        return _alias_for_model(obj1._meta.model) == _alias_for_model(obj2._meta.model)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label != WAREHOUSE_APP:
            return db == "default"
        if model_name is None:
            # Operations that name no model (RunSQL, RunPython) say where they belong.
            return db == hints.get("database", "warehouse")
        model = hints.get("model")
        if model is not None:
            return db == _alias_for_model(model)
        return db in {"warehouse", VAULT}
