"""Reads of the warehouse that the portal shows: fill rates of catalogue variables.

Fill rates describe columns, not persons, so they can be shown to anyone who may read the
catalogue. They are computed with one aggregate query per table (or per concept-filtered
variable) and cached, because on a full warehouse they scan millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from warehouse.catalogue import VARIABLES, Variable
from warehouse.models import Concept, VisitOccurrence

FILL_RATE_CACHE_KEY = "warehouse:fill-rates:v1"
FILL_RATE_TTL = 15 * 60


@dataclass(frozen=True)
class FillRates:
    rates: dict[str, float | None]  # variable code -> share in [0, 1]; None when not computable
    computed_at: datetime
    episodes: int


def _model_for_table(table: str):
    for model in apps.get_app_config("warehouse").get_models():
        if model._meta.db_table == table:
            return model
    raise LookupError(table)


def concept_ids(vocabulary: str, codes: str) -> list[int]:
    """Concept ids of a vocabulary; ``codes`` is "*" or codes separated by "|"."""
    concepts = Concept.objects.filter(vocabulary_id=vocabulary)
    if codes != "*":
        concepts = concepts.filter(concept_code__in=codes.split("|"))
    return list(concepts.values_list("concept_id", flat=True))


def _field_name(model, column: str) -> str:
    for model_field in model._meta.concrete_fields:
        if model_field.column == column:
            return model_field.name
    raise LookupError(column)


def _filled(model, column: str) -> Q:
    model_field = model._meta.get_field(_field_name(model, column))
    condition = Q(**{f"{model_field.name}__isnull": False})
    if model_field.get_internal_type() in {"CharField", "TextField"}:
        condition &= ~Q(**{model_field.name: ""})
    return condition


def _plain_rates(variables: list[Variable]) -> dict[str, float | None]:
    """Share of a table's rows where the column is filled, one query per table."""
    rates: dict[str, float | None] = {}
    by_table: dict[str, list[Variable]] = {}
    for variable in variables:
        by_table.setdefault(variable.table, []).append(variable)
    for table, table_variables in by_table.items():
        model = _model_for_table(table)
        aggregates = {"_total": Count("pk")}
        for index, variable in enumerate(table_variables):
            aggregates[f"v{index}"] = Count("pk", filter=_filled(model, variable.column))
        result = model.objects.aggregate(**aggregates)
        for index, variable in enumerate(table_variables):
            total = result["_total"]
            rates[variable.code] = (result[f"v{index}"] / total) if total else None
    return rates


def _episode_rate(variable: Variable, episodes: int) -> float | None:
    """Share of episodes with at least one row of this variable, filled."""
    if not episodes:
        return None
    model = _model_for_table(variable.table)
    assert variable.concept_filter is not None  # the caller picks such variables
    concept_column, vocabulary, codes = variable.concept_filter
    ids = concept_ids(vocabulary, codes)
    rows = model.objects.filter(
        Q(**{f"{_field_name(model, concept_column)}__in": ids}),
        _filled(model, variable.column),
    )
    with_value = rows.exclude(visit_occurrence__isnull=True).aggregate(
        n=Count("visit_occurrence", distinct=True)
    )["n"]
    return with_value / episodes


def compute_fill_rates() -> FillRates:
    episodes = VisitOccurrence.objects.count()
    warehouse_variables = [variable for variable in VARIABLES if not variable.in_vault]
    plain = [variable for variable in warehouse_variables if variable.concept_filter is None]
    rates = _plain_rates(plain)
    for variable in warehouse_variables:
        if variable.concept_filter is not None:
            rates[variable.code] = _episode_rate(variable, episodes)
    # The vault is not read for statistics: identities are complete by construction.
    for variable in VARIABLES:
        rates.setdefault(variable.code, None)
    return FillRates(rates=rates, computed_at=timezone.now(), episodes=episodes)


def fill_rates(*, refresh: bool = False) -> FillRates:
    cached = None if refresh else cache.get(FILL_RATE_CACHE_KEY)
    if cached is None:
        cached = compute_fill_rates()
        cache.set(FILL_RATE_CACHE_KEY, cached, FILL_RATE_TTL)
    return cached


def forget_fill_rates() -> None:
    """Called by loaders once new data is in."""
    cache.delete(FILL_RATE_CACHE_KEY)
