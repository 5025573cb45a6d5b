"""The warehouse: an OMOP CDM v5.4 subset, in the ``warehouse`` database alias.

Table and column names are OMOP's, so that OMOP tools and SQL written for OMOP work here. Rows
are written by loaders (COPY on PostgreSQL), never by the portal's views; relations to person
and visit have no database constraint, as in most OMOP deployments, to keep loading fast.

A whole SOS Médecins episode is one ``visit_occurrence``:
- the call is a ``visit_detail`` of kind "telephone regulation call" (received time = start);
  its coded reason, the dispatch decision and the priority are ``observation`` rows; the
  call-taker's free text is a ``note``;
- the medical act (home, centre, teleconsultation, nursing home) is a second ``visit_detail``
  with the doctor (``provider``) and the association (``care_site``); "telephone advice" and
  "transfer to the SAMU" episodes have none;
- diagnoses are ``condition_occurrence`` rows with ICPC-2 or ICD-10 source codes;
  prescriptions ``drug_exposure`` (ATC); vital signs ``measurement``; the outcome and sick-leave
  days ``observation``; the doctor's notes a ``note``; a death a ``death`` row.

Identities are not here: they live in the vault (``warehouse.vault``), keyed by the same
internal person key (``person.person_source_value``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypedDict

from django.db import models
from django.utils.translation import gettext_lazy as _


class _Relation(TypedDict):
    on_delete: Callable[..., Any]
    db_constraint: bool
    related_name: str


# Relations inside the warehouse are real joins for the ORM but carry no database constraint.
_REL: _Relation = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class Concept(models.Model):
    """The code lists the warehouse uses, shipped with the project (warehouse/data)."""

    concept_id = models.BigIntegerField(primary_key=True)
    concept_name = models.CharField(max_length=255)
    domain_id = models.CharField(max_length=20)
    vocabulary_id = models.CharField(max_length=20)
    concept_class_id = models.CharField(max_length=20)
    standard_concept = models.CharField(max_length=1, blank=True)
    concept_code = models.CharField(max_length=50)
    valid_start_date = models.DateField()
    valid_end_date = models.DateField()
    invalid_reason = models.CharField(max_length=1, blank=True)
    # Not OMOP: French and English labels for the portal (concept_name is the English one).
    name_fr = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255)

    class Meta:
        db_table = "concept"
        constraints = [
            models.UniqueConstraint(
                fields=["vocabulary_id", "concept_code"], name="concept_vocabulary_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vocabulary_id} {self.concept_code} {self.concept_name}"


class Location(models.Model):
    location_id = models.BigIntegerField(primary_key=True)
    address_1 = models.CharField(max_length=50, blank=True)
    address_2 = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=50, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip = models.CharField(max_length=9, blank=True)
    county = models.CharField(max_length=20, blank=True, help_text="Département code")
    location_source_value = models.CharField(max_length=50, blank=True)
    country_concept_id = models.IntegerField(null=True, blank=True)
    country_source_value = models.CharField(max_length=80, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        db_table = "location"


class CareSite(models.Model):
    """An association, or one of its consultation centres."""

    care_site_id = models.BigIntegerField(primary_key=True)
    care_site_name = models.CharField(max_length=255)
    place_of_service_concept_id = models.IntegerField(null=True, blank=True)
    location = models.ForeignKey(Location, null=True, blank=True, **_REL)
    care_site_source_value = models.CharField(max_length=50, blank=True)
    place_of_service_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "care_site"


class Provider(models.Model):
    """A doctor, pseudonymised: no name, no RPPS number."""

    provider_id = models.BigIntegerField(primary_key=True)
    provider_name = models.CharField(max_length=255, blank=True)
    npi = models.CharField(max_length=20, blank=True)
    dea = models.CharField(max_length=20, blank=True)
    specialty_concept_id = models.IntegerField(null=True, blank=True)
    care_site = models.ForeignKey(CareSite, null=True, blank=True, **_REL)
    year_of_birth = models.IntegerField(null=True, blank=True)
    gender_concept_id = models.IntegerField(null=True, blank=True)
    provider_source_value = models.CharField(max_length=50, blank=True)
    specialty_source_value = models.CharField(max_length=50, blank=True)
    specialty_source_concept_id = models.IntegerField(null=True, blank=True)
    gender_source_value = models.CharField(max_length=50, blank=True)
    gender_source_concept_id = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "provider"


class Person(models.Model):
    person_id = models.BigIntegerField(primary_key=True)
    gender_concept_id = models.IntegerField(db_index=True)
    year_of_birth = models.IntegerField()
    month_of_birth = models.IntegerField(null=True, blank=True)
    day_of_birth = models.IntegerField(null=True, blank=True)
    birth_datetime = models.DateTimeField(null=True, blank=True)
    race_concept_id = models.IntegerField(default=0)
    ethnicity_concept_id = models.IntegerField(default=0)
    location = models.ForeignKey(Location, null=True, blank=True, **_REL)
    provider = models.ForeignKey(Provider, null=True, blank=True, **_REL)
    care_site = models.ForeignKey(CareSite, null=True, blank=True, **_REL)
    # The internal person key: HMAC-SHA256(warehouse key, normalised identity), hex.
    person_source_value = models.CharField(max_length=64, unique=True)
    gender_source_value = models.CharField(max_length=50, blank=True)
    gender_source_concept_id = models.IntegerField(null=True, blank=True)
    race_source_value = models.CharField(max_length=50, blank=True)
    race_source_concept_id = models.IntegerField(null=True, blank=True)
    ethnicity_source_value = models.CharField(max_length=50, blank=True)
    ethnicity_source_concept_id = models.IntegerField(null=True, blank=True)

    class Meta:
        db_table = "person"


class ObservationPeriod(models.Model):
    observation_period_id = models.BigIntegerField(primary_key=True)
    person = models.ForeignKey(Person, **_REL)
    observation_period_start_date = models.DateField()
    observation_period_end_date = models.DateField()
    period_type_concept_id = models.IntegerField()

    class Meta:
        db_table = "observation_period"


class VisitOccurrence(models.Model):
    """One episode: from the call to the end of the medical act."""

    visit_occurrence_id = models.BigIntegerField(primary_key=True)
    person = models.ForeignKey(Person, **_REL)
    visit_concept_id = models.IntegerField(db_index=True)
    visit_start_date = models.DateField(db_index=True)
    visit_start_datetime = models.DateTimeField(null=True, blank=True)
    visit_end_date = models.DateField()
    visit_end_datetime = models.DateTimeField(null=True, blank=True)
    visit_type_concept_id = models.IntegerField()
    provider = models.ForeignKey(Provider, null=True, blank=True, **_REL)
    care_site = models.ForeignKey(CareSite, null=True, blank=True, **_REL)
    visit_source_value = models.CharField(max_length=50, blank=True)
    visit_source_concept_id = models.IntegerField(null=True, blank=True)
    admitted_from_concept_id = models.IntegerField(null=True, blank=True)
    admitted_from_source_value = models.CharField(max_length=50, blank=True)
    discharged_to_concept_id = models.IntegerField(null=True, blank=True)
    discharged_to_source_value = models.CharField(max_length=50, blank=True)
    preceding_visit_occurrence = models.ForeignKey("self", null=True, blank=True, **_REL)

    class Meta:
        db_table = "visit_occurrence"
        indexes = [models.Index(fields=["person", "visit_start_date"], name="visit_person_start")]


class VisitDetail(models.Model):
    visit_detail_id = models.BigIntegerField(primary_key=True)
    person = models.ForeignKey(Person, **_REL)
    visit_detail_concept_id = models.IntegerField()
    visit_detail_start_date = models.DateField()
    visit_detail_start_datetime = models.DateTimeField(null=True, blank=True)
    visit_detail_end_date = models.DateField()
    visit_detail_end_datetime = models.DateTimeField(null=True, blank=True)
    visit_detail_type_concept_id = models.IntegerField()
    provider = models.ForeignKey(Provider, null=True, blank=True, **_REL)
    care_site = models.ForeignKey(CareSite, null=True, blank=True, **_REL)
    visit_detail_source_value = models.CharField(max_length=50, blank=True)
    visit_detail_source_concept_id = models.IntegerField(null=True, blank=True)
    admitted_from_concept_id = models.IntegerField(null=True, blank=True)
    admitted_from_source_value = models.CharField(max_length=50, blank=True)
    discharged_to_source_value = models.CharField(max_length=50, blank=True)
    discharged_to_concept_id = models.IntegerField(null=True, blank=True)
    preceding_visit_detail = models.ForeignKey("self", null=True, blank=True, **_REL)
    parent_visit_detail = models.ForeignKey("self", null=True, blank=True, **_REL)
    visit_occurrence = models.ForeignKey(VisitOccurrence, **_REL)

    class Meta:
        db_table = "visit_detail"


class _Event(models.Model):
    """Columns every clinical event table shares."""

    person = models.ForeignKey(Person, **_REL)
    provider = models.ForeignKey(Provider, null=True, blank=True, **_REL)
    visit_occurrence = models.ForeignKey(VisitOccurrence, null=True, blank=True, **_REL)
    visit_detail = models.ForeignKey(VisitDetail, null=True, blank=True, **_REL)

    class Meta:
        abstract = True


class ConditionOccurrence(_Event):
    condition_occurrence_id = models.BigIntegerField(primary_key=True)
    condition_concept_id = models.IntegerField()
    condition_start_date = models.DateField()
    condition_start_datetime = models.DateTimeField(null=True, blank=True)
    condition_end_date = models.DateField(null=True, blank=True)
    condition_end_datetime = models.DateTimeField(null=True, blank=True)
    condition_type_concept_id = models.IntegerField()
    condition_status_concept_id = models.IntegerField(null=True, blank=True)
    stop_reason = models.CharField(max_length=20, blank=True)
    condition_source_value = models.CharField(max_length=50, blank=True, db_index=True)
    condition_source_concept_id = models.BigIntegerField(null=True, blank=True)
    condition_status_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "condition_occurrence"


class DrugExposure(_Event):
    drug_exposure_id = models.BigIntegerField(primary_key=True)
    drug_concept_id = models.IntegerField()
    drug_exposure_start_date = models.DateField()
    drug_exposure_start_datetime = models.DateTimeField(null=True, blank=True)
    drug_exposure_end_date = models.DateField()
    drug_exposure_end_datetime = models.DateTimeField(null=True, blank=True)
    verbatim_end_date = models.DateField(null=True, blank=True)
    drug_type_concept_id = models.IntegerField()
    stop_reason = models.CharField(max_length=20, blank=True)
    refills = models.IntegerField(null=True, blank=True)
    quantity = models.FloatField(null=True, blank=True)
    days_supply = models.IntegerField(null=True, blank=True)
    sig = models.TextField(blank=True)
    route_concept_id = models.IntegerField(null=True, blank=True)
    lot_number = models.CharField(max_length=50, blank=True)
    drug_source_value = models.CharField(max_length=50, blank=True)
    drug_source_concept_id = models.BigIntegerField(null=True, blank=True)
    route_source_value = models.CharField(max_length=50, blank=True)
    dose_unit_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "drug_exposure"


class ProcedureOccurrence(_Event):
    procedure_occurrence_id = models.BigIntegerField(primary_key=True)
    procedure_concept_id = models.IntegerField()
    procedure_date = models.DateField()
    procedure_datetime = models.DateTimeField(null=True, blank=True)
    procedure_end_date = models.DateField(null=True, blank=True)
    procedure_end_datetime = models.DateTimeField(null=True, blank=True)
    procedure_type_concept_id = models.IntegerField()
    modifier_concept_id = models.IntegerField(null=True, blank=True)
    quantity = models.IntegerField(null=True, blank=True)
    procedure_source_value = models.CharField(max_length=50, blank=True)
    procedure_source_concept_id = models.BigIntegerField(null=True, blank=True)
    modifier_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "procedure_occurrence"


class Measurement(_Event):
    measurement_id = models.BigIntegerField(primary_key=True)
    measurement_concept_id = models.IntegerField()
    measurement_date = models.DateField()
    measurement_datetime = models.DateTimeField(null=True, blank=True)
    measurement_time = models.CharField(max_length=10, blank=True)
    measurement_type_concept_id = models.IntegerField()
    operator_concept_id = models.IntegerField(null=True, blank=True)
    value_as_number = models.FloatField(null=True, blank=True)
    value_as_concept_id = models.IntegerField(null=True, blank=True)
    unit_concept_id = models.IntegerField(null=True, blank=True)
    range_low = models.FloatField(null=True, blank=True)
    range_high = models.FloatField(null=True, blank=True)
    measurement_source_value = models.CharField(max_length=50, blank=True)
    measurement_source_concept_id = models.BigIntegerField(null=True, blank=True)
    unit_source_value = models.CharField(max_length=50, blank=True)
    unit_source_concept_id = models.IntegerField(null=True, blank=True)
    value_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "measurement"


class Observation(_Event):
    """Reason for call, dispatch decision, priority, outcome, sick-leave days."""

    observation_id = models.BigIntegerField(primary_key=True)
    observation_concept_id = models.BigIntegerField(db_index=True)
    observation_date = models.DateField()
    observation_datetime = models.DateTimeField(null=True, blank=True)
    observation_type_concept_id = models.IntegerField()
    value_as_number = models.FloatField(null=True, blank=True)
    value_as_string = models.CharField(max_length=60, blank=True)
    value_as_concept_id = models.BigIntegerField(null=True, blank=True)
    qualifier_concept_id = models.IntegerField(null=True, blank=True)
    unit_concept_id = models.IntegerField(null=True, blank=True)
    observation_source_value = models.CharField(max_length=50, blank=True)
    observation_source_concept_id = models.BigIntegerField(null=True, blank=True)
    unit_source_value = models.CharField(max_length=50, blank=True)
    qualifier_source_value = models.CharField(max_length=50, blank=True)
    value_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "observation"


class Note(_Event):
    """Free text: the call-taker's notes and the doctor's. May contain identifying details."""

    note_id = models.BigIntegerField(primary_key=True)
    note_date = models.DateField()
    note_datetime = models.DateTimeField(null=True, blank=True)
    note_type_concept_id = models.BigIntegerField()
    note_class_concept_id = models.IntegerField(default=0)
    note_title = models.CharField(max_length=250, blank=True)
    note_text = models.TextField()
    encoding_concept_id = models.IntegerField(default=0)
    language_concept_id = models.IntegerField(default=0)
    note_source_value = models.CharField(max_length=50, blank=True)

    class Meta:
        db_table = "note"


class Death(models.Model):
    person = models.OneToOneField(
        Person, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    death_date = models.DateField()
    death_datetime = models.DateTimeField(null=True, blank=True)
    death_type_concept_id = models.IntegerField(null=True, blank=True)
    cause_concept_id = models.IntegerField(null=True, blank=True)
    cause_source_value = models.CharField(max_length=50, blank=True)
    cause_source_concept_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "death"


class Identity(models.Model):
    """The identity vault (alias ``vault``): who a warehouse person is.

    Read only by the identity officer's matching and by the free-text scrubber, through
    ``warehouse.vault``; the router refuses every other access. Its table name starts with
    ``vault_``, which is what sends it to the vault alias.
    """

    person_key = models.CharField(max_length=64, unique=True)
    birth_name = models.CharField(max_length=100)
    used_name = models.CharField(max_length=100, blank=True)
    first_names = models.CharField(max_length=200)
    sex = models.CharField(max_length=1, choices=[("M", "M"), ("F", "F")])
    birth_date = models.DateField()
    birth_place_code = models.CharField(max_length=5, help_text="INSEE commune or country code")
    birth_place_name = models.CharField(max_length=100)
    nir = models.CharField(max_length=15, blank=True, help_text="INS/NIR with its 2-digit key")
    postal_code = models.CharField(max_length=5, blank=True)

    class Meta:
        db_table = "vault_identity"
        indexes = [models.Index(fields=["birth_name", "birth_date"], name="vault_name_birth")]


class OppositionIdentity(models.Model):
    """Who an opposition request is about and who sent it ("Fields" B 2, 3; alias ``vault``).

    The portal's database knows the request by its receipt number only (``access``); the
    names, birth date and place, the requester's name and contact, the free comment, the ID
    copy's stored name and the matched internal key live here, read only through
    ``warehouse.vault`` by the identity officer (and by the answer mailer for the address).
    No foreign key: nothing relates rows across aliases.
    """

    receipt_number = models.CharField(max_length=20, unique=True)
    birth_name = models.CharField(max_length=100)
    used_name = models.CharField(max_length=100, blank=True)
    first_names = models.CharField(max_length=200)
    sex = models.CharField(max_length=1, choices=[("M", "M"), ("F", "F")])
    birth_date = models.DateField()
    birth_place = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=5, blank=True)
    # Helpers for matching: care_site_ids of associations consulted, approximate dates.
    associations = models.JSONField(default=list, blank=True)
    approximate_dates = models.CharField(max_length=200, blank=True)
    requester_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_address = models.TextField(max_length=500, blank=True)
    comment = models.TextField(max_length=2000, blank=True)
    id_copy_name = models.CharField(max_length=200, blank=True)
    matched_person_key = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "vault_opposition_identity"


# --- Disclosure control of feasibility counts (MIN-10, MIN-11; warehouse.disclosure) ----------
# Portal bookkeeping that must sit beside the OMOP tables because the count queries join it.
# None of these tables is named ``vault_*``: they live in the ``warehouse`` alias.


class PersonObjection(models.Model):
    """A person who objects to every reuse of the warehouse (scope "all" in the register).

    A copy kept for the feasibility counts, which run here and cannot join the register (in the
    portal's database): ``access`` flags and unflags persons after its own commit and resyncs
    the whole table every night (``warehouse.objections``).
    """

    person_key = models.CharField(max_length=64, primary_key=True)
    flagged_at = models.DateTimeField()

    class Meta:
        db_table = "eds_person_objection"


# Record keys are drawn in [0, RECORD_KEY_MODULUS); changing it means drawing them all again.
RECORD_KEY_MODULUS = 4096


class PersonRecordKey(models.Model):
    """Each person's fixed random record key in [0, R), drawn by the database (``random()``).

    Never shown by any page, API or export: a count's cell key, and so its perturbation, is
    computed from the record keys of its persons (``warehouse.disclosure``).
    """

    person_id = models.BigIntegerField(primary_key=True)
    record_key = models.IntegerField()

    class Meta:
        db_table = "eds_person_record_key"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(record_key__gte=0) & models.Q(record_key__lt=RECORD_KEY_MODULUS),
                name="record_key_in_range",
            ),
        ]


class CountOutcome(models.TextChoices):
    SHOWN = "shown", _("Shown")
    """At least one of the two figures was computed afresh and shown."""
    REPEATED = "repeated", _("Earlier answer repeated")
    """The same criteria were counted in the window and the data barely moved: the earlier
    answer was given back."""
    REFUSED_DIFFERENCING = "refused_differencing", _("Refused: differencing")
    """Shown, the figures would have let a small group be computed from earlier counts."""
    REFUSED_BUDGET = "refused_budget", _("Refused: daily budget")
    """The user had used up the day's counts; nothing was computed."""


class FeasibilityCountLog(models.Model):
    """Every feasibility count asked for (MIN-11), with the true figures the guard needs.

    The true counts, the sketches and the effective box stay in this table: pages show the
    figures as they were shown. ``user_id`` is the portal's user id (another database: no
    foreign key); None for counts the portal runs itself (benchmarks).
    """

    user_id = models.BigIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(db_index=True)
    via = models.CharField(max_length=10, blank=True)
    criteria = models.JSONField()
    criteria_hash = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=24, choices=CountOutcome.choices)
    # Which rule refused (or repeated), and the log rows it compared with: for the DPO only.
    rule = models.CharField(max_length=24, blank=True)
    related = models.JSONField(default=list, blank=True)
    persons = models.IntegerField(null=True, blank=True)
    visits = models.IntegerField(null=True, blank=True)
    # Which figures were computed afresh (the others repeat an earlier answer, or were refused).
    persons_fresh = models.BooleanField(default=False)
    visits_fresh = models.BooleanField(default=False)
    shown_persons = models.CharField(max_length=20, blank=True)
    shown_visits = models.CharField(max_length=20, blank=True)
    person_sketch = models.JSONField(default=list, blank=True)
    visit_sketch = models.JSONField(default=list, blank=True)
    box = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "eds_feasibility_count"
        indexes = [models.Index(fields=["user_id", "counted_at"], name="feas_count_user_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=[c.value for c in CountOutcome]),
                name="feas_count_outcome_valid",
            ),
            # A count is measured unless the budget refused it; then nothing is known.
            models.CheckConstraint(
                condition=models.Q(
                    outcome="refused_budget", persons__isnull=True, visits__isnull=True
                )
                | (
                    ~models.Q(outcome="refused_budget")
                    & models.Q(persons__isnull=False, visits__isnull=False)
                ),
                name="feas_count_measured_unless_budget",
            ),
        ]
