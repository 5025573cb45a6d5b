"""What the warehouse purges (registered with ``eds_portal.retention``).

Care data: each item 20 years after its own date (RET-01), table by table; persons stay (the
opposition register and the keys refer to them). The feasibility counts asked are log data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from eds_portal.retention import PurgeRule, days, register_purge, years, years_before


def _dated_tables():
    from warehouse import models as omop

    # Events before the visits they point to, details before their visit.
    return [
        (omop.ConditionOccurrence, "condition_start_date"),
        (omop.DrugExposure, "drug_exposure_start_date"),
        (omop.ProcedureOccurrence, "procedure_date"),
        (omop.Measurement, "measurement_date"),
        (omop.Observation, "observation_date"),
        (omop.Note, "note_date"),
        (omop.VisitDetail, "visit_detail_end_date"),
        (omop.VisitOccurrence, "visit_end_date"),
        (omop.ObservationPeriod, "observation_period_end_date"),
    ]


def _care_cutoff(now: datetime):
    return years_before(now, settings.EDS_RETENTION_WAREHOUSE_YEARS).date()


def _care_due(now: datetime) -> int:
    cutoff = _care_cutoff(now)
    return sum(
        model.objects.filter(**{f"{column}__lt": cutoff}).count()
        for model, column in _dated_tables()
    )


def _care_purge(now: datetime) -> int:
    cutoff = _care_cutoff(now)
    total = 0
    for model, column in _dated_tables():
        # A queryset delete would load rows to cascade; these tables have no cascade to follow.
        total += model.objects.filter(**{f"{column}__lt": cutoff})._raw_delete("warehouse")
    return total


def _care_next(now: datetime) -> datetime | None:
    from warehouse.models import VisitOccurrence

    oldest = (
        VisitOccurrence.objects.order_by("visit_end_date")
        .values_list("visit_end_date", flat=True)
        .first()
    )
    if oldest is None:
        return None
    moment = datetime(oldest.year, oldest.month, oldest.day, tzinfo=now.tzinfo) + timedelta(days=1)
    return years_before(moment, -settings.EDS_RETENTION_WAREHOUSE_YEARS)


def _counts(now: datetime):
    from warehouse.models import FeasibilityCountLog

    cutoff = now - timedelta(days=settings.EDS_RETENTION_FEASIBILITY_LOG_DAYS)
    return FeasibilityCountLog.objects.filter(counted_at__lt=cutoff)


def _counts_purge(now: datetime) -> int:
    return _counts(now)._raw_delete("warehouse")


def _counts_next(now: datetime) -> datetime | None:
    from warehouse.models import FeasibilityCountLog

    oldest = (
        FeasibilityCountLog.objects.order_by("counted_at")
        .values_list("counted_at", flat=True)
        .first()
    )
    if oldest is None:
        return None
    return oldest + timedelta(days=settings.EDS_RETENTION_FEASIBILITY_LOG_DAYS)


register_purge(
    PurgeRule(
        name="warehouse_care_data",
        label=_("Warehouse care data (each item after its own date)"),
        setting="EDS_RETENTION_WAREHOUSE_YEARS",
        period=lambda: years(settings.EDS_RETENTION_WAREHOUSE_YEARS),
        due=_care_due,
        purge=_care_purge,
        next_due=_care_next,
        database="warehouse",
    )
)
register_purge(
    PurgeRule(
        name="feasibility_counts",
        label=_("Feasibility counts asked (log of counts)"),
        setting="EDS_RETENTION_FEASIBILITY_LOG_DAYS",
        period=lambda: days(settings.EDS_RETENTION_FEASIBILITY_LOG_DAYS),
        due=lambda now: _counts(now).count(),
        purge=_counts_purge,
        next_due=_counts_next,
        database="warehouse",
    )
)
