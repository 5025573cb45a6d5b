"""The catalogue's variables grouped by what they mean to a clinician, not by OMOP table.

A researcher picking variables thinks "the call", "the patient", "what was prescribed", not
``visit_detail`` or ``observation``: the data request's picker shows these groups, in the order
of an episode (from the phone call to the outcome), with free text apart because it needs its
own justification. Every variable of ``warehouse.catalogue`` belongs to exactly one group (a test
checks it): a new variable must be placed here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from warehouse.catalogue import Variable


class ClinicalGroup(models.TextChoices):
    """A group of the variable picker; the order of the members is the order of the picker."""

    # A context of their own: "Outcome" or "Free text" name other things elsewhere.
    CALL = "call", pgettext_lazy("variable group", "The call and the visit")
    PATIENT = "patient", pgettext_lazy("variable group", "The patient")
    DIAGNOSIS = "diagnosis", pgettext_lazy("variable group", "Diagnosis")
    PRESCRIPTIONS = "prescriptions", pgettext_lazy("variable group", "Prescriptions and procedures")
    VITAL_SIGNS = "vital_signs", pgettext_lazy("variable group", "Vital signs")
    OUTCOME = "outcome", pgettext_lazy("variable group", "Outcome")
    FREE_TEXT = "free_text", pgettext_lazy("variable group", "Free text")


GROUP_DESCRIPTIONS = {
    ClinicalGroup.CALL: _(
        "From the phone call (time, reason, priority, dispatch decision) to the visit or "
        "consultation (kind of care, times, association, doctor)."
    ),
    ClinicalGroup.PATIENT: _(
        "Who the patient is, in pseudonymised form: sex, birth date, place of residence."
    ),
    ClinicalGroup.DIAGNOSIS: _("Diagnoses coded in ICPC-2 or ICD-10, and their date."),
    ClinicalGroup.PRESCRIPTIONS: _(
        "Drugs prescribed (ATC), quantities and durations; procedures performed during the visit."
    ),
    ClinicalGroup.VITAL_SIGNS: _("Measurements taken during the visit."),
    ClinicalGroup.OUTCOME: _("What became of the patient after the visit, death included."),
    ClinicalGroup.FREE_TEXT: _(
        "Notes typed during the call or the visit: delivered scrubbed, and only with their own "
        "justification."
    ),
}

# Each group's variables, by catalogue code, in the order the picker lists them.
GROUPS: dict[ClinicalGroup, tuple[str, ...]] = {
    ClinicalGroup.CALL: (
        "call.received",
        "call.ended",
        "call.reason",
        "call.priority",
        "call.dispatch",
        "visit.kind",
        "visit.start",
        "visit.end",
        "act.start",
        "act.end",
        "visit.association",
        "association.departement",
        "visit.doctor",
        "visit.preceding",
    ),
    ClinicalGroup.PATIENT: (
        "person.pseudonym",
        "person.sex",
        "person.birth_date",
        "person.residence",
        "observation_period.start",
        "observation_period.end",
        # Direct identifiers: listed in the catalogue, never in the picker (never exportable).
        "person.internal_key",
        "identity.birth_name",
        "identity.used_name",
        "identity.first_names",
        "identity.nir",
        "identity.birth_place",
    ),
    ClinicalGroup.DIAGNOSIS: ("diagnosis.icpc2", "diagnosis.icd10", "diagnosis.date"),
    ClinicalGroup.PRESCRIPTIONS: (
        "prescription.atc",
        "prescription.quantity",
        "prescription.days",
        "prescription.date",
        "procedure.code",
        "procedure.date",
    ),
    ClinicalGroup.VITAL_SIGNS: (
        "vitals.temperature",
        "vitals.heart_rate",
        "vitals.systolic_bp",
        "vitals.diastolic_bp",
        "vitals.spo2",
        "vitals.respiratory_rate",
        "vitals.glucose",
        "vitals.weight",
    ),
    ClinicalGroup.OUTCOME: (
        "outcome.kind",
        "outcome.sick_leave_days",
        "death.date",
        "death.cause",
    ),
    ClinicalGroup.FREE_TEXT: ("call.notes", "doctor.notes"),
}

GROUP_OF: dict[str, ClinicalGroup] = {
    code: group for group, codes in GROUPS.items() for code in codes
}
assert len(GROUP_OF) == sum(len(codes) for codes in GROUPS.values()), "a variable in two groups"


def grouped(variables: list[Variable]) -> list[tuple[ClinicalGroup, list[Variable]]]:
    """The variables by clinical group, groups and variables in the picker's order.

    A variable missing from ``GROUPS`` (a catalogue change not reported here) is put in the
    group of its code's first part when there is one, else at the end of the first group: the
    picker never hides a variable.
    """
    position = {code: index for index, code in enumerate(GROUP_OF)}
    prefixes: dict[str, ClinicalGroup] = {}
    for code, group in GROUP_OF.items():
        prefixes.setdefault(code.split(".")[0], group)
    by_group: dict[ClinicalGroup, list[Variable]] = {group: [] for group in ClinicalGroup}
    for variable in variables:
        group = GROUP_OF.get(variable.code) or prefixes.get(
            variable.code.split(".")[0], ClinicalGroup.CALL
        )
        by_group[group].append(variable)
    return [
        (group, sorted(members, key=lambda v: position.get(v.code, len(position))))
        for group, members in by_group.items()
        if members
    ]
