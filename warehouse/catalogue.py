"""The data catalogue: every variable of the warehouse, what it is, and how it may leave.

Each variable names its OMOP table and column (and, for rows shared by several variables such
as measurements or observations, the concept that selects them), its labels and description in
French and English, its sensitivity and the generalisations allowed (MIN-02, MIN-04, MIN-05).
Direct identifiers are listed for transparency and are never exportable (GOV-14: the catalogue
also names the source of every variable).

Provisioning reads the same definitions, so what the commission approves is what is executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Sensitivity(models.TextChoices):
    DIRECT_IDENTIFIER = "direct_identifier", _("Direct identifier")
    """Names a person on its own: never exportable."""
    QUASI_IDENTIFIER = "quasi_identifier", _("Quasi-identifier")
    """Identifies in combination (age, sex, place, dates): generalised, checked for small cells."""
    SENSITIVE = "sensitive", _("Sensitive")
    """Health data proper: exportable when justified."""
    FREE_TEXT = "free_text", _("Free text")
    """May contain anything, names included: excluded unless approved, then scrubbed."""
    ORDINARY = "ordinary", _("Ordinary")
    """Technical or organisational data with no link to a person's health or identity."""


class Generalisation(models.TextChoices):
    EXACT = "exact", _("Exact value")
    """The value as stored (pseudonymised where it is a key)."""
    YEAR = "year", _("Year only")
    """Birth date reduced to the year."""
    FIVE_YEAR_BAND = "five_year_band", _("5-year band")
    """Birth date reduced to a 5-year band (1980-1984)."""
    DEPARTEMENT = "departement", _("Département")
    """A place reduced to its département."""
    REGION = "region", _("Region")
    """A place reduced to its region."""
    SHIFTED_DATE = "shifted_date", _("Shifted date")
    """A date moved by a random per-person offset, day only (no time of day); intervals are
    kept to the day."""
    SHIFTED_HOUR = "shifted_hour", _("Shifted date and hour")
    """A timestamp moved by the per-person offset, delivered to the hour (minutes dropped)."""
    SHIFTED_MINUTE = "shifted_minute", _("Shifted date and time to the minute")
    """A timestamp moved by the per-person offset, delivered to the minute (seconds dropped)."""
    WEEK = "week", _("ISO week")
    """A timestamp reduced to its ISO week."""
    MONTH = "month", _("Month")
    """A timestamp reduced to its month."""
    EXCLUDED = "excluded", _("Excluded")
    """Not delivered."""
    SCRUBBED = "scrubbed", _("Scrubbed text")
    """Free text with names, phone numbers, e-mails, NIR and addresses removed, and dates
    shifted like the columns (or removed when they cannot be): ``warehouse/export/scrub.py``."""


# A date: the shifted day, or the (shifted) week or month.
DATE = (Generalisation.SHIFTED_DATE, Generalisation.WEEK, Generalisation.MONTH)
# A moment: the same, and the time of day only when the commission approves it (the default is
# the day alone: a time to the second makes most episodes unique, see REIDENTIFICATION_NOTES).
TIMESTAMP = (
    Generalisation.SHIFTED_DATE,
    Generalisation.SHIFTED_HOUR,
    Generalisation.SHIFTED_MINUTE,
    Generalisation.WEEK,
    Generalisation.MONTH,
)
BIRTH = (Generalisation.YEAR, Generalisation.FIVE_YEAR_BAND)
PLACE = (Generalisation.DEPARTEMENT, Generalisation.REGION)
TEXT = (Generalisation.EXCLUDED, Generalisation.SCRUBBED)
EXACT = (Generalisation.EXACT,)

# From the finest to the coarsest, per family of generalisations: what "coarser" means when the
# commission approves a variable with a coarser generalisation than requested. A variable's
# allowed generalisations all belong to one family (a place may also be delivered exact).
COARSENESS: tuple[tuple[Generalisation, ...], ...] = (
    (
        Generalisation.EXACT,
        Generalisation.SHIFTED_MINUTE,
        Generalisation.SHIFTED_HOUR,
        Generalisation.SHIFTED_DATE,
        Generalisation.WEEK,
        Generalisation.MONTH,
    ),
    (Generalisation.EXACT, Generalisation.YEAR, Generalisation.FIVE_YEAR_BAND),
    (Generalisation.EXACT, Generalisation.DEPARTEMENT, Generalisation.REGION),
    (Generalisation.SCRUBBED, Generalisation.EXCLUDED),
)

# What the commission reads before approving a generalisation that keeps more than the day.
REIDENTIFICATION_NOTES = {
    Generalisation.SHIFTED_HOUR: _(
        "The hour of an episode narrows the persons it can belong to: someone who knows when a "
        "visit took place (a neighbour, an employer) can find it among a day's episodes. Approve "
        "it only when the study needs the time of day (night or weekend care, delays)."
    ),
    Generalisation.SHIFTED_MINUTE: _(
        "A time to the minute makes most episodes unique: in a test warehouse, 99% of visits "
        "were the only ones at their weekday and time, so one known visit time finds the "
        "person's pseudonym, and with it every other visit. Approve it only for delays that "
        "must be measured in minutes, and prefer the hour."
    ),
}


def reidentification_note(generalisation: str) -> StrOrPromise | None:
    """The warning the commission sees for a generalisation that keeps the time of day."""
    try:
        return REIDENTIFICATION_NOTES.get(Generalisation(generalisation))
    except ValueError:
        return None


CARE_RECORDS = "care_records"


@dataclass(frozen=True)
class Variable:
    code: str
    table: str
    column: str
    label_fr: str
    label_en: str
    description_fr: str
    description_en: str
    sensitivity: Sensitivity
    generalisations: tuple[Generalisation, ...]
    default: Generalisation
    # Rows of shared tables (measurement, observation, note...) that this variable covers:
    # (column holding the concept, vocabulary, concept codes separated by "|" or "*" for all).
    concept_filter: tuple[str, str, str] | None = None
    # The legal origin of the data (GOV-14): the associations' care records.
    source: str = CARE_RECORDS
    # Sits in the vault, not in the warehouse.
    in_vault: bool = False
    tags: tuple[str, ...] = field(default=())

    @property
    def exportable(self) -> bool:
        return self.sensitivity != Sensitivity.DIRECT_IDENTIFIER

    @property
    def label(self) -> str:
        return self.label_fr if (get_language() or "fr").startswith("fr") else self.label_en

    @property
    def description(self) -> str:
        french = (get_language() or "fr").startswith("fr")
        return self.description_fr if french else self.description_en

    def __post_init__(self) -> None:
        if self.default not in self.generalisations:
            raise ValueError(f"{self.code}: default {self.default} is not allowed")
        if self.sensitivity == Sensitivity.DIRECT_IDENTIFIER and self.generalisations != (
            Generalisation.EXCLUDED,
        ):
            raise ValueError(f"{self.code}: a direct identifier can only be excluded")
        if self.sensitivity == Sensitivity.FREE_TEXT and self.default != Generalisation.EXCLUDED:
            raise ValueError(f"{self.code}: free text is excluded unless approved")


def _v(
    code,
    table,
    column,
    label_fr,
    label_en,
    description_fr,
    description_en,
    sensitivity,
    generalisations,
    default=None,
    concept_filter=None,
    in_vault=False,
):
    return Variable(
        code=code,
        table=table,
        column=column,
        label_fr=label_fr,
        label_en=label_en,
        description_fr=description_fr,
        description_en=description_en,
        sensitivity=sensitivity,
        generalisations=tuple(generalisations),
        default=default or generalisations[0],
        concept_filter=concept_filter,
        in_vault=in_vault,
    )


S = Sensitivity
EXCLUDED_ONLY = (Generalisation.EXCLUDED,)
CALL = ("visit_detail_concept_id", "SOS_VISIT", "VIS_CALL")
MEDICAL_ACT = ("visit_detail_concept_id", "SOS_VISIT", "VIS_HOME|VIS_CENTRE|VIS_TELE|VIS_EHPAD")


def _measure(code, loinc, label_fr, label_en, unit):
    return _v(
        code,
        "measurement",
        "value_as_number",
        label_fr,
        label_en,
        # "Poids" is masculine, the other measures feminine: "valeur" agrees with all of them.
        f"{label_fr} : valeur mesurée pendant la visite ({unit}).",
        f"{label_en} measured during the visit ({unit}).",
        S.SENSITIVE,
        EXACT,
        concept_filter=("measurement_concept_id", "LOINC", loinc),
    )


def _observation(
    code,
    concept_code,
    label_fr,
    label_en,
    description_fr,
    description_en,
    column="value_as_concept_id",
):
    return _v(
        code,
        "observation",
        column,
        label_fr,
        label_en,
        description_fr,
        description_en,
        S.SENSITIVE,
        EXACT,
        concept_filter=("observation_concept_id", "SOS", concept_code),
    )


VARIABLES: tuple[Variable, ...] = (
    # --- Identity: in the vault, never exportable -------------------------------------------
    _v(
        "identity.birth_name",
        "vault_identity",
        "birth_name",
        "Nom de naissance",
        "Birth name",
        "Nom de naissance du patient, conservé dans le coffre d'identités.",
        "The patient's birth name, kept in the identity vault.",
        S.DIRECT_IDENTIFIER,
        EXCLUDED_ONLY,
        in_vault=True,
    ),
    _v(
        "identity.used_name",
        "vault_identity",
        "used_name",
        "Nom d'usage",
        "Used name",
        "Nom d'usage (par exemple nom d'épouse).",
        "Used name (for instance a married name).",
        S.DIRECT_IDENTIFIER,
        EXCLUDED_ONLY,
        in_vault=True,
    ),
    _v(
        "identity.first_names",
        "vault_identity",
        "first_names",
        "Prénoms",
        "First names",
        "Prénoms de l'état civil.",
        "First names as registered.",
        S.DIRECT_IDENTIFIER,
        EXCLUDED_ONLY,
        in_vault=True,
    ),
    _v(
        "identity.nir",
        "vault_identity",
        "nir",
        "INS / NIR",
        "INS / NIR",
        "Identifiant national de santé (numéro de sécurité sociale).",
        "National health identifier (social security number).",
        S.DIRECT_IDENTIFIER,
        EXCLUDED_ONLY,
        in_vault=True,
    ),
    _v(
        "identity.birth_place",
        "vault_identity",
        "birth_place_name",
        "Lieu de naissance",
        "Place of birth",
        "Commune ou pays de naissance.",
        "Commune or country of birth.",
        S.DIRECT_IDENTIFIER,
        EXCLUDED_ONLY,
        in_vault=True,
    ),
    _v(
        "person.internal_key",
        "person",
        "person_source_value",
        "Clé interne de la personne",
        "Internal person key",
        "Clé HMAC interne à l'entrepôt; remplacée à l'export par un pseudonyme propre au projet.",
        "The warehouse's internal HMAC key; replaced on export by a project-specific pseudonym.",
        S.DIRECT_IDENTIFIER,
        EXCLUDED_ONLY,
    ),
    # --- Person -------------------------------------------------------------------------------
    _v(
        "person.pseudonym",
        "person",
        "person_id",
        "Pseudonyme de la personne",
        "Person pseudonym",
        "Pseudonyme propre au projet (HMAC de la clé interne avec la clé du projet).",
        "Project-specific pseudonym (HMAC of the internal key with the project's key).",
        S.ORDINARY,
        EXACT,
    ),
    _v(
        "person.sex",
        "person",
        "gender_concept_id",
        "Sexe",
        "Sex",
        "Sexe de la personne.",
        "The person's sex.",
        S.QUASI_IDENTIFIER,
        EXACT,
    ),
    _v(
        "person.birth_date",
        "person",
        "birth_datetime",
        "Date de naissance",
        "Birth date",
        "Date de naissance, livrée réduite à l'année ou à une tranche de 5 ans.",
        "Birth date, delivered reduced to the year or a 5-year band.",
        S.QUASI_IDENTIFIER,
        BIRTH,
    ),
    _v(
        "person.residence",
        "person",
        "location_id",
        "Lieu de résidence",
        "Place of residence",
        "Code postal de résidence, livré réduit au département ou à la région.",
        "Postal code of residence, delivered reduced to the département or region.",
        S.QUASI_IDENTIFIER,
        PLACE,
    ),
    _v(
        "observation_period.start",
        "observation_period",
        "observation_period_start_date",
        "Début de la période d'observation",
        "Observation period start",
        "Première date de recours connue dans l'entrepôt.",
        "First known date of care in the warehouse.",
        S.QUASI_IDENTIFIER,
        DATE,
    ),
    _v(
        "observation_period.end",
        "observation_period",
        "observation_period_end_date",
        "Fin de la période d'observation",
        "Observation period end",
        "Dernière date de recours connue dans l'entrepôt.",
        "Last known date of care in the warehouse.",
        S.QUASI_IDENTIFIER,
        DATE,
    ),
    # --- Episode (visit) and call ------------------------------------------------------------
    _v(
        "visit.kind",
        "visit_occurrence",
        "visit_concept_id",
        "Type de prise en charge",
        "Kind of care",
        "Visite à domicile, consultation en centre, téléconsultation, EHPAD ou "
        "conseil téléphonique.",
        "Home visit, centre consultation, teleconsultation, nursing home or telephone advice.",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "visit.start",
        "visit_occurrence",
        "visit_start_datetime",
        "Début de l'épisode",
        "Episode start",
        "Heure de réception de l'appel.",
        "Time the call was received.",
        S.QUASI_IDENTIFIER,
        TIMESTAMP,
    ),
    _v(
        "visit.end",
        "visit_occurrence",
        "visit_end_datetime",
        "Fin de l'épisode",
        "Episode end",
        "Fin de la prise en charge.",
        "End of care.",
        S.QUASI_IDENTIFIER,
        TIMESTAMP,
    ),
    _v(
        "visit.association",
        "visit_occurrence",
        "care_site_id",
        "Association SOS Médecins",
        "SOS Médecins association",
        "Association ayant pris en charge l'épisode.",
        "Association that handled the episode.",
        S.QUASI_IDENTIFIER,
        EXACT + PLACE,
    ),
    _v(
        "visit.doctor",
        "visit_occurrence",
        "provider_id",
        "Médecin (pseudonymisé)",
        "Doctor (pseudonymised)",
        "Pseudonyme du médecin intervenant.",
        "Pseudonym of the doctor who saw the patient.",
        S.QUASI_IDENTIFIER,
        EXACT,
    ),
    _v(
        "visit.preceding",
        "visit_occurrence",
        "preceding_visit_occurrence_id",
        "Épisode précédent",
        "Preceding episode",
        "Lien vers l'épisode précédent de la même personne (recours répétés).",
        "Link to the same person's previous episode (repeat visits).",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "call.received",
        "visit_detail",
        "visit_detail_start_datetime",
        "Réception de l'appel",
        "Call received",
        "Horodatage de la réception de l'appel au standard.",
        "Time the call reached the call centre.",
        S.QUASI_IDENTIFIER,
        TIMESTAMP,
        concept_filter=CALL,
    ),
    _v(
        "call.ended",
        "visit_detail",
        "visit_detail_end_datetime",
        "Fin de l'appel",
        "Call ended",
        "Horodatage de la fin de la régulation.",
        "Time the call regulation ended.",
        S.QUASI_IDENTIFIER,
        TIMESTAMP,
        concept_filter=CALL,
    ),
    _observation(
        "call.reason",
        "OBS_REASON",
        "Motif d'appel",
        "Reason for call",
        "Motif d'appel codé par le standard.",
        "Reason for call coded by the call-taker.",
    ),
    _observation(
        "call.dispatch",
        "OBS_DISPATCH",
        "Décision de régulation",
        "Dispatch decision",
        "Visite, centre, téléconsultation, conseil ou transfert au SAMU.",
        "Home visit, centre, teleconsultation, advice or transfer to the SAMU.",
    ),
    _observation(
        "call.priority",
        "OBS_PRIORITY",
        "Priorité de l'appel",
        "Call priority",
        "Niveau d'urgence attribué à l'appel.",
        "Urgency level given to the call.",
        column="value_as_number",
    ),
    _v(
        "call.notes",
        "note",
        "note_text",
        "Notes du standard",
        "Call-taker notes",
        "Texte libre saisi pendant l'appel; peut contenir des noms, numéros et adresses.",
        "Free text typed during the call; may contain names, numbers and addresses.",
        S.FREE_TEXT,
        TEXT,
        concept_filter=("note_type_concept_id", "SOS", "NOTE_CALL"),
    ),
    # --- Medical act -------------------------------------------------------------------------
    _v(
        "act.start",
        "visit_detail",
        "visit_detail_start_datetime",
        "Début de la consultation",
        "Consultation start",
        "Arrivée du médecin ou début de la consultation.",
        "Doctor's arrival or start of the consultation.",
        S.QUASI_IDENTIFIER,
        TIMESTAMP,
        concept_filter=MEDICAL_ACT,
    ),
    _v(
        "act.end",
        "visit_detail",
        "visit_detail_end_datetime",
        "Fin de la consultation",
        "Consultation end",
        "Fin de la consultation.",
        "End of the consultation.",
        S.QUASI_IDENTIFIER,
        TIMESTAMP,
        concept_filter=MEDICAL_ACT,
    ),
    _v(
        "diagnosis.icpc2",
        "condition_occurrence",
        "condition_source_value",
        "Diagnostic (CISP-2)",
        "Diagnosis (ICPC-2)",
        "Résultat de consultation codé en CISP-2.",
        "Diagnosis coded in ICPC-2.",
        S.SENSITIVE,
        EXACT,
        concept_filter=("condition_source_concept_id", "ICPC2", "*"),
    ),
    _v(
        "diagnosis.icd10",
        "condition_occurrence",
        "condition_source_value",
        "Diagnostic (CIM-10)",
        "Diagnosis (ICD-10)",
        "Diagnostic codé en CIM-10.",
        "Diagnosis coded in ICD-10.",
        S.SENSITIVE,
        EXACT,
        concept_filter=("condition_source_concept_id", "ICD10", "*"),
    ),
    _v(
        "diagnosis.date",
        "condition_occurrence",
        "condition_start_date",
        "Date du diagnostic",
        "Diagnosis date",
        "Date à laquelle le diagnostic a été posé.",
        "Date the diagnosis was made.",
        S.QUASI_IDENTIFIER,
        DATE,
    ),
    _v(
        "prescription.atc",
        "drug_exposure",
        "drug_source_value",
        "Médicament prescrit (ATC)",
        "Prescribed drug (ATC)",
        "Substance prescrite, codée en ATC.",
        "Prescribed substance, coded in ATC.",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "prescription.quantity",
        "drug_exposure",
        "quantity",
        "Quantité prescrite",
        "Quantity prescribed",
        "Nombre d'unités prescrites.",
        "Number of units prescribed.",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "prescription.days",
        "drug_exposure",
        "days_supply",
        "Durée de traitement",
        "Treatment duration",
        "Durée du traitement en jours.",
        "Treatment duration in days.",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "prescription.date",
        "drug_exposure",
        "drug_exposure_start_date",
        "Date de prescription",
        "Prescription date",
        "Date de début du traitement.",
        "Treatment start date.",
        S.QUASI_IDENTIFIER,
        DATE,
    ),
    _v(
        "procedure.code",
        "procedure_occurrence",
        "procedure_source_value",
        "Acte réalisé",
        "Procedure performed",
        "Acte réalisé pendant la visite (ECG, suture...).",
        "Procedure performed during the visit (ECG, suture...).",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "procedure.date",
        "procedure_occurrence",
        "procedure_date",
        "Date de l'acte",
        "Procedure date",
        "Date de l'acte.",
        "Date of the procedure.",
        S.QUASI_IDENTIFIER,
        DATE,
    ),
    _measure("vitals.temperature", "8310-5", "Température", "Body temperature", "°C"),
    _measure("vitals.heart_rate", "8867-4", "Fréquence cardiaque", "Heart rate", "/min"),
    _measure(
        "vitals.systolic_bp",
        "8480-6",
        "Pression artérielle systolique",
        "Systolic blood pressure",
        "mmHg",
    ),
    _measure(
        "vitals.diastolic_bp",
        "8462-4",
        "Pression artérielle diastolique",
        "Diastolic blood pressure",
        "mmHg",
    ),
    _measure("vitals.spo2", "59408-5", "Saturation en oxygène", "Oxygen saturation", "%"),
    _measure(
        "vitals.respiratory_rate", "9279-1", "Fréquence respiratoire", "Respiratory rate", "/min"
    ),
    _measure("vitals.glucose", "2339-0", "Glycémie capillaire", "Capillary blood glucose", "mg/dL"),
    _measure("vitals.weight", "29463-7", "Poids", "Body weight", "kg"),
    _observation(
        "outcome.kind",
        "OBS_OUTCOME",
        "Devenir du patient",
        "Outcome",
        "Maintien à domicile, suivi par le médecin traitant, adressage à l'hôpital, "
        "ambulance, SMUR ou décès.",
        "Stays home, GP follow-up, hospital referral, ambulance, SMUR or death.",
    ),
    _observation(
        "outcome.sick_leave_days",
        "OBS_SICK_LEAVE",
        "Arrêt de travail (jours)",
        "Sick leave (days)",
        "Nombre de jours d'arrêt de travail prescrits.",
        "Number of sick-leave days prescribed.",
        column="value_as_number",
    ),
    _v(
        "doctor.notes",
        "note",
        "note_text",
        "Notes du médecin",
        "Doctor's notes",
        "Texte libre de l'observation médicale; peut contenir des éléments identifiants.",
        "Free text of the medical record; may contain identifying details.",
        S.FREE_TEXT,
        TEXT,
        concept_filter=("note_type_concept_id", "SOS", "NOTE_DOCTOR"),
    ),
    _v(
        "death.date",
        "death",
        "death_date",
        "Date du décès",
        "Date of death",
        "Date du décès constaté.",
        "Date the death was certified.",
        S.QUASI_IDENTIFIER,
        DATE,
    ),
    _v(
        "death.cause",
        "death",
        "cause_source_value",
        "Cause du décès",
        "Cause of death",
        "Cause du décès codée en CIM-10.",
        "Cause of death coded in ICD-10.",
        S.SENSITIVE,
        EXACT,
    ),
    _v(
        "association.departement",
        "care_site",
        "location_id",
        "Département de l'association",
        "Association's département",
        "Département du siège de l'association.",
        "Département of the association's seat.",
        S.ORDINARY,
        PLACE,
    ),
)

BY_CODE: dict[str, Variable] = {variable.code: variable for variable in VARIABLES}
assert len(BY_CODE) == len(VARIABLES), "duplicate variable codes"


def exportable_variables() -> list[Variable]:
    return [variable for variable in VARIABLES if variable.exportable]


def search(query: str = "", *, table: str = "", sensitivity: str = "") -> list[Variable]:
    words = [word for word in query.lower().split() if word]
    found = []
    for variable in VARIABLES:
        if table and variable.table != table:
            continue
        if sensitivity and variable.sensitivity != sensitivity:
            continue
        haystack = " ".join(
            [
                variable.code,
                variable.table,
                variable.column,
                variable.label_fr,
                variable.label_en,
                variable.description_fr,
                variable.description_en,
            ]
        ).lower()
        if all(word in haystack for word in words):
            found.append(variable)
    return found


def tables() -> list[str]:
    return sorted({variable.table for variable in VARIABLES})
