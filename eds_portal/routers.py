"""Keeps each app's tables in its database alias (DESIGN.md: default, warehouse, vault).

The warehouse app marks its identity models with ``database = "vault"`` in a class attribute;
every other warehouse model lives in the ``warehouse`` alias; everything else in ``default``.
Nothing may relate rows across aliases.
"""

from __future__ import annotations

WAREHOUSE_APP = "warehouse"


def _alias_for_model(model) -> str:
    if model._meta.app_label != WAREHOUSE_APP:
        return "default"
    return getattr(model, "database", "warehouse")


class DatabaseRouter:
    def db_for_read(self, model, **hints):
        return _alias_for_model(model)

    def db_for_write(self, model, **hints):
        return _alias_for_model(model)

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
        return db in {"warehouse", "vault"}
