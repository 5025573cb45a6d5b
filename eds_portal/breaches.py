"""The breach register (SEC-08): the DPO records incidents with the 72-hour notification clock."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from eds_portal.audit import record_event
from eds_portal.models import BreachIncident

FIELDS = [
    "detected_at",
    "summary",
    "persons_concerned",
    "data_concerned",
    "measures",
    "risk",
    "cnil_notified_at",
    "late_reason",
    "persons_informed_at",
]


class BreachForm(forms.ModelForm):
    class Meta:
        model = BreachIncident
        fields = FIELDS
        widgets = {
            "detected_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "cnil_notified_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "persons_informed_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean(self):
        data = super().clean() or {}
        detected, notified = data.get("detected_at"), data.get("cnil_notified_at")
        if detected and notified and notified < detected:
            self.add_error("cnil_notified_at", _("The notification cannot precede the detection."))
        if (
            detected
            and notified
            and (notified - detected).total_seconds() > 72 * 3600
            and not (data.get("late_reason") or "").strip()
        ):
            self.add_error(
                "late_reason", _("Notified after 72 hours: give the reasons for the delay.")
            )
        return data


def record_breach(*, by: Any, fields: dict[str, Any]) -> BreachIncident:
    with transaction.atomic():
        breach = BreachIncident.objects.create(recorded_by=by, **fields)
        record_event(action="breach.recorded", actor=by, target=breach, after={"risk": breach.risk})
    return breach


def update_breach(*, by: Any, breach: BreachIncident, fields: dict[str, Any]) -> BreachIncident:
    with transaction.atomic():
        breach = BreachIncident.objects.select_for_update().get(pk=breach.pk)
        changed = sorted(name for name, value in fields.items() if getattr(breach, name) != value)
        for name, value in fields.items():
            setattr(breach, name, value)
        breach.save()
        # Names of the fields changed, not their text.
        record_event(action="breach.updated", actor=by, target=breach, after={"fields": changed})
    return breach
