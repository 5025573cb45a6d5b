"""The rows of one person: person, observation period, episodes, and everything in them.

An episode is one ``visit_occurrence`` (see ``warehouse.models``). Choices made here:

- visit_occurrence.visit_concept_id is the kind of medical act (home, nursing home, centre,
  teleconsultation), or the regulation call itself for telephone advice and SAMU transfers;
  preceding_visit_occurrence_id links a person's episodes in time order;
- visit_detail: the call (care site: the association; no provider), then the act (the doctor,
  the centre or the association), whose preceding_visit_detail_id is the call;
- each diagnosis is two condition_occurrence rows with consecutive ids, one ICPC-2 and one
  ICD-10, both with condition_status_source_value "primary" or "secondary". The codes are in
  condition_source_value / condition_source_concept_id; condition_concept_id is the OMOP
  standard concept the code maps to (warehouse/data/concept_maps.csv), or 0 when none is
  shipped (every ICPC-2 code, some ICD-10 codes). The same holds for drug_exposure (ATC code,
  RxNorm ingredient) and for the cause of death;
- observation rows: reason for call, dispatch decision, call priority (value_as_number 1-3),
  outcome (value_as_concept_id), and sick-leave days (value_as_number) for some working adults;
- a person who dies has a death row; the death is always their last episode.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from warehouse import codelists as cl

from . import clinical, texts
from .calendar import HOUR, Calendar, utc
from .clinical import DRUGS, REASONS, band_of, season_factors
from .people import Person, age_at
from .rand import Rng, Weighted
from .reference import Reference

MINUTE = 60

PERSON_COLUMNS = (
    "person_id",
    "gender_concept_id",
    "year_of_birth",
    "month_of_birth",
    "day_of_birth",
    "birth_datetime",
    "location_id",
    "care_site_id",
    "person_source_value",
    "gender_source_value",
)
OBSERVATION_PERIOD_COLUMNS = (
    "observation_period_id",
    "person_id",
    "observation_period_start_date",
    "observation_period_end_date",
    "period_type_concept_id",
)
VISIT_OCCURRENCE_COLUMNS = (
    "visit_occurrence_id",
    "person_id",
    "visit_concept_id",
    "visit_start_date",
    "visit_start_datetime",
    "visit_end_date",
    "visit_end_datetime",
    "visit_type_concept_id",
    "provider_id",
    "care_site_id",
    "visit_source_value",
    "visit_source_concept_id",
    "discharged_to_source_value",
    "preceding_visit_occurrence_id",
)
VISIT_DETAIL_COLUMNS = (
    "visit_detail_id",
    "person_id",
    "visit_detail_concept_id",
    "visit_detail_start_date",
    "visit_detail_start_datetime",
    "visit_detail_end_date",
    "visit_detail_end_datetime",
    "visit_detail_type_concept_id",
    "provider_id",
    "care_site_id",
    "visit_detail_source_value",
    "visit_detail_source_concept_id",
    "discharged_to_source_value",
    "preceding_visit_detail_id",
    "visit_occurrence_id",
)
_EVENT = ("provider_id", "visit_occurrence_id", "visit_detail_id")
CONDITION_COLUMNS = (
    "condition_occurrence_id",
    "person_id",
    "condition_concept_id",
    "condition_start_date",
    "condition_start_datetime",
    "condition_type_concept_id",
    "condition_status_source_value",
    "condition_source_value",
    "condition_source_concept_id",
    *_EVENT,
)
DRUG_COLUMNS = (
    "drug_exposure_id",
    "person_id",
    "drug_concept_id",
    "drug_exposure_start_date",
    "drug_exposure_start_datetime",
    "drug_exposure_end_date",
    "drug_type_concept_id",
    "quantity",
    "days_supply",
    "sig",
    "route_source_value",
    "drug_source_value",
    "drug_source_concept_id",
    *_EVENT,
)
PROCEDURE_COLUMNS = (
    "procedure_occurrence_id",
    "person_id",
    "procedure_concept_id",
    "procedure_date",
    "procedure_datetime",
    "procedure_type_concept_id",
    "quantity",
    "procedure_source_value",
    "procedure_source_concept_id",
    *_EVENT,
)
MEASUREMENT_COLUMNS = (
    "measurement_id",
    "person_id",
    "measurement_concept_id",
    "measurement_date",
    "measurement_datetime",
    "measurement_type_concept_id",
    "value_as_number",
    "unit_concept_id",
    "range_low",
    "range_high",
    "measurement_source_value",
    "unit_source_value",
    *_EVENT,
)
OBSERVATION_COLUMNS = (
    "observation_id",
    "person_id",
    "observation_concept_id",
    "observation_date",
    "observation_datetime",
    "observation_type_concept_id",
    "value_as_number",
    "value_as_string",
    "value_as_concept_id",
    "observation_source_value",
    "value_source_value",
    "unit_source_value",
    *_EVENT,
)
NOTE_COLUMNS = (
    "note_id",
    "person_id",
    "note_date",
    "note_datetime",
    "note_type_concept_id",
    "note_title",
    "note_text",
    "note_source_value",
    *_EVENT,
)
DEATH_COLUMNS = (
    "person_id",
    "death_date",
    "death_datetime",
    "death_type_concept_id",
    "cause_concept_id",
    "cause_source_value",
    "cause_source_concept_id",
)
IDENTITY_COLUMNS = (
    "id",
    "person_key",
    "birth_name",
    "used_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_place_code",
    "birth_place_name",
    "nir",
    "postal_code",
)

WAREHOUSE_COLUMNS = {
    "person": PERSON_COLUMNS,
    "observation_period": OBSERVATION_PERIOD_COLUMNS,
    "visit_occurrence": VISIT_OCCURRENCE_COLUMNS,
    "visit_detail": VISIT_DETAIL_COLUMNS,
    "condition_occurrence": CONDITION_COLUMNS,
    "drug_exposure": DRUG_COLUMNS,
    "procedure_occurrence": PROCEDURE_COLUMNS,
    "measurement": MEASUREMENT_COLUMNS,
    "observation": OBSERVATION_COLUMNS,
    "note": NOTE_COLUMNS,
    "death": DEATH_COLUMNS,
}

EHR = cl.TYPE_EHR
NONE = cl.NO_MATCHING_CONCEPT
# Reasons for call of nursing-home residents: the home's own requests dominate.
EHPAD_REQUEST_WEIGHT = 25.0
IN_PERSON = ("HOME", "CENTRE", "EHPAD")
FEVER_REASONS = ("RC01", "RC02")
INJECTED = ("intramuscular", "intravenous", "subcutaneous", "local")


class Ids:
    """Running row ids, one counter per table: the same stream of persons gives the same ids
    whatever the chunk size."""

    __slots__ = (
        "condition",
        "detail",
        "drug",
        "measurement",
        "note",
        "observation",
        "period",
        "procedure",
        "visit",
    )
    condition: int
    detail: int
    drug: int
    measurement: int
    note: int
    observation: int
    period: int
    procedure: int
    visit: int

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)


@dataclass(frozen=True)
class _Act:
    person: Person
    age: int
    kind: str  # HOME, EHPAD, CENTRE, TELE
    diagnoses: list[str]
    reason: str
    doctor: int
    visit_id: int
    detail_id: int
    day: date
    start_ts: int
    died: bool


@dataclass
class Episode:
    ts: int
    followup: bool = False
    reason: str = ""


class EpisodeFactory:
    def __init__(self, calendar: Calendar, reference: Reference) -> None:
        self.calendar = calendar
        self.reference = reference
        self.dx = clinical.resolved_diagnoses()
        self.icpc = cl.concept_ids("ICPC2")
        self.icd = cl.concept_ids("ICD10")
        self.atc = cl.concept_ids("ATC")
        self.atc_names = cl.concept_names("ATC")
        self.icd_names = cl.concept_names("ICD10")
        # The standard concepts the codes map to; a code absent here gets 0.
        self.icpc_standard = cl.standard_concept_ids("ICPC2")
        self.icd_standard = cl.standard_concept_ids("ICD10")
        self.atc_standard = cl.standard_concept_ids("ATC")
        self.acts = cl.concept_ids("SOS_ACT")
        self.reasons = cl.concept_ids("SOS_REASON")
        self.dispatches = cl.concept_ids("SOS_DISPATCH")
        self.outcomes = cl.concept_ids("SOS_OUTCOME")
        self.visits = cl.concept_ids("SOS_VISIT")
        sos = cl.concept_ids("SOS")
        self.obs_reason = sos["OBS_REASON"]
        self.obs_dispatch = sos["OBS_DISPATCH"]
        self.obs_outcome = sos["OBS_OUTCOME"]
        self.obs_priority = sos["OBS_PRIORITY"]
        self.obs_sick_leave = sos["OBS_SICK_LEAVE"]
        self.note_call = sos["NOTE_CALL"]
        self.note_doctor = sos["NOTE_DOCTOR"]
        # Reasons the code lists can serve: known, and with at least one diagnosis left.
        self.drawable_reasons = frozenset(
            code
            for code, reason in REASONS.items()
            if code in self.reasons and any(key in self.dx for key, _ in reason.diagnoses)
        )
        self._reason_cache: dict = {}
        self._dispatch_cache: dict = {}
        self._factor_cache: dict = {}

    # --- draws --------------------------------------------------------------------------

    def _reason_table(self, band: int, hour_index: int, ehpad: bool) -> Weighted:
        day = self.calendar.local_dates[hour_index]
        key = (band, day, ehpad)
        table = self._reason_cache.get(key)
        if table is None:
            factors = season_factors(self.calendar.seasons[hour_index])
            pairs = [
                (code, reason.weights[band] * factors[reason.season])
                for code, reason in REASONS.items()
                if code in self.drawable_reasons
            ]
            if ehpad and clinical.EHPAD_REASON in self.drawable_reasons:
                pairs.append((clinical.EHPAD_REASON, EHPAD_REQUEST_WEIGHT))
            table = Weighted(pairs)
            self._reason_cache[key] = table
        return table

    def _dispatch_table(self, band: int, reason: str, night: bool, centres: bool, ehpad: bool):
        key = (band, reason, night, centres, ehpad)
        table = self._dispatch_cache.get(key)
        if table is None:
            multipliers = REASONS[reason].dispatch
            pairs = []
            for kind, base in zip(
                clinical.DISPATCH_KINDS, clinical.DISPATCH_BY_BAND[band], strict=True
            ):
                weight = base * multipliers.get(kind, 1.0)
                if kind == "CENTRE" and (night or not centres or ehpad):
                    weight = 0.0
                if ehpad and kind == "TELE":
                    weight *= 0.3
                pairs.append((kind, weight))
            if reason == clinical.DEATH_REASON:
                pairs = [("HOME", 1.0)]
            table = Weighted(pairs)
            self._dispatch_cache[key] = table
        return table

    def _diagnosis(self, rng: Rng, reason: str, age: int, sex: str, season: dict) -> str:
        pairs = []
        for key, weight in REASONS[reason].diagnoses:
            dx = self.dx.get(key)
            if dx is None or not dx.ages[0] <= age <= dx.ages[1] or (dx.sex and dx.sex != sex):
                continue
            pairs.append((key, weight * season[dx.season]))
        if not pairs:
            return "fever" if reason in {"RC01", "RC02"} else "fatigue"
        return rng.draw_pairs(pairs)

    def _secondary(self, rng: Rng, primary: str, age: int, chronic) -> str | None:
        dx = self.dx[primary]
        candidates = []
        if dx.fever == 2 and primary != "fever":
            candidates.append("fever")
        if dx.season == "gastro" and (age < 2 or age >= 75):
            candidates.extend(("dehydration", "dehydration"))
        if dx.season == "resp" and dx.resp:
            candidates.append("cough")
        candidates.extend(condition for condition in chronic if condition != primary)
        if not candidates or not rng.chance(0.4):
            return None
        choice = rng.pick(candidates)
        return None if choice == primary else choice

    # --- a person ---------------------------------------------------------------------------

    def person_rows(self, rng: Rng, person: Person, count: int, ids: Ids, out: dict) -> None:
        cal = self.calendar
        times = sorted(
            cal.start_ts + self._hour(rng) * HOUR + rng.below(HOUR) for _ in range(count)
        )
        episodes = [Episode(ts) for ts in times]
        # Some calls are the same problem coming back one to three days later.
        for index in range(1, count):
            if rng.chance(0.2):
                ts = episodes[index - 1].ts + rng.between(12 * HOUR, 72 * HOUR)
                limit = episodes[index + 1].ts if index + 1 < count else cal.end_ts
                if ts < limit:
                    episodes[index].ts = ts
                    episodes[index].followup = True

        identity = person.identity
        birth = person.birth_date
        out["person"].append(
            (
                person.person_id,
                cl.GENDER_MALE if person.sex == "M" else cl.GENDER_FEMALE,
                birth.year,
                birth.month,
                birth.day,
                utc_midnight(birth),
                person.location_id,
                person.association.care_site_id,
                person.key,
                person.sex,
            )
        )
        out["vault_identity"].append(
            (
                person.person_id,
                person.key,
                identity.birth_name,
                identity.used_name,
                identity.first_names,
                identity.sex,
                identity.birth_date,
                identity.birth_place_code,
                identity.birth_place_name,
                identity.nir,
                identity.postal_code,
            )
        )
        previous_visit = None
        previous_reason = ""
        last_end = episodes[0].ts
        for index, episode in enumerate(episodes):
            last = index == count - 1
            dies = person.dies and last
            if episode.followup and previous_reason not in {"", clinical.DEATH_REASON}:
                episode.reason = previous_reason
            visit_id, end_ts, died = self._episode(
                rng, person, episode, previous_visit, dies, last, ids, out
            )
            previous_visit = visit_id
            previous_reason = episode.reason
            last_end = max(last_end, end_ts)
            if died:
                break
        ids.period += 1
        out["observation_period"].append(
            (
                ids.period,
                person.person_id,
                cal.local_date(episodes[0].ts),
                cal.local_date(last_end),
                EHR,
            )
        )

    def _hour(self, rng: Rng) -> int:
        cumulative = self.calendar.cumulative
        return bisect_right(cumulative, rng.random() * cumulative[-1])

    # --- an episode -----------------------------------------------------------------------

    def _episode(
        self,
        rng: Rng,
        person: Person,
        episode: Episode,
        previous_visit,
        dies,
        last,
        ids: Ids,
        out: dict,
    ):
        cal = self.calendar
        ts = episode.ts
        hour_index = cal.hour_of(ts)
        day = cal.local_dates[hour_index]
        age = age_at(person.birth_date, day)
        band = band_of(age)
        season = self._factors_for(hour_index)
        association = person.association
        site = association.care_site_id

        if dies:
            reason = clinical.DEATH_REASON
        elif episode.reason:
            reason = episode.reason
        else:
            reason = rng.draw(self._reason_table(band, hour_index, person.ehpad))
        episode.reason = reason
        local_hour = cal.local_hours[hour_index]
        night = local_hour < 8 or local_hour >= 23
        dispatch = rng.draw(
            self._dispatch_table(
                band, reason, night, bool(self.reference.centres[site]), person.ehpad
            )
        )
        priority = 1 if dispatch == "SAMU" else (2 if rng.chance(REASONS[reason].urgent) else 3)

        ids.visit += 1
        visit_id = ids.visit
        call_end = ts + rng.between(2 * MINUTE, 8 * MINUTE)
        act = None
        if dispatch in ("HOME", "CENTRE", "TELE"):
            act = "EHPAD" if dispatch == "HOME" and person.ehpad else dispatch
        if act in ("HOME", "EHPAD"):
            delay = rng.between(20, 90) if priority == 2 else rng.between(40, 240)
            length = rng.between(15, 40)
        elif act == "CENTRE":
            delay, length = rng.between(15, 150), rng.between(10, 25)
        elif act == "TELE":
            delay, length = rng.between(5, 60), rng.between(8, 15)
        else:
            delay = length = 0
        act_start = call_end + delay * MINUTE
        act_end = act_start + length * MINUTE
        end_ts = act_end if act else call_end
        doctor = rng.pick(self.reference.doctors[site]) if act else None
        care_site = site
        if act == "CENTRE":
            care_site = rng.pick(self.reference.centres[site])

        # Clinical content of the act.
        diagnoses: list[str] = []
        if act:
            primary = self._diagnosis(rng, reason, age, person.sex, season)
            diagnoses.append(primary)
            secondary = None if dies else self._secondary(rng, primary, age, person.chronic)
            if secondary and secondary in self.dx:
                diagnoses.append(secondary)
        outcome = self._outcome(rng, dispatch, act, diagnoses, age, dies, last)
        died = outcome == "OUT_DEATH"

        call_date = cal.local_date(ts)
        start_dt = utc(ts)
        act_date = cal.local_date(act_start) if act else call_date
        act_dt = utc(act_start) if act else None
        end_date = cal.local_date(end_ts)
        visit_kind = f"VIS_{act}" if act else "VIS_CALL"
        out["visit_occurrence"].append(
            (
                visit_id,
                person.person_id,
                self.visits[visit_kind],
                call_date,
                start_dt,
                end_date,
                utc(end_ts),
                EHR,
                doctor,
                care_site,
                visit_kind,
                self.visits[visit_kind],
                outcome,
                previous_visit,
            )
        )
        ids.detail += 1
        call_detail = ids.detail
        out["visit_detail"].append(
            (
                call_detail,
                person.person_id,
                self.visits["VIS_CALL"],
                call_date,
                start_dt,
                cal.local_date(call_end),
                utc(call_end),
                EHR,
                None,
                site,
                "VIS_CALL",
                self.visits["VIS_CALL"],
                "" if act else outcome,
                None,
                visit_id,
            )
        )
        act_detail = None
        if act:
            ids.detail += 1
            act_detail = ids.detail
            out["visit_detail"].append(
                (
                    act_detail,
                    person.person_id,
                    self.visits[visit_kind],
                    act_date,
                    act_dt,
                    end_date,
                    utc(act_end),
                    EHR,
                    doctor,
                    care_site,
                    visit_kind,
                    self.visits[visit_kind],
                    outcome,
                    call_detail,
                    visit_id,
                )
            )

        # Observations of the call.
        observation = out["observation"]
        dispatch_code = f"DISP_{dispatch}"
        for concept, source, value_concept, value_code, number, text in (
            (self.obs_reason, "OBS_REASON", self.reasons[reason], reason, None, ""),
            (
                self.obs_dispatch,
                "OBS_DISPATCH",
                self.dispatches[dispatch_code],
                dispatch_code,
                None,
                "",
            ),
            (
                self.obs_priority,
                "OBS_PRIORITY",
                None,
                f"P{priority}",
                float(priority),
                f"P{priority}",
            ),
        ):
            ids.observation += 1
            observation.append(
                (
                    ids.observation,
                    person.person_id,
                    concept,
                    call_date,
                    start_dt,
                    EHR,
                    number,
                    text,
                    value_concept,
                    source,
                    value_code,
                    "",
                    None,
                    visit_id,
                    call_detail,
                )
            )

        vitals: dict[str, float] = {}
        drug_labels: list[str] = []
        if act:
            # An episode with a medical act has its doctor and its act's detail row (above).
            assert doctor is not None
            assert act_detail is not None
            vitals, drug_labels = self._act_rows(
                rng,
                _Act(
                    person,
                    age,
                    act,
                    diagnoses,
                    reason,
                    doctor,
                    visit_id,
                    act_detail,
                    act_date,
                    act_start,
                    died,
                ),
                ids,
                out,
            )
        # What the caller reports: the fever the doctor will find, or one of a fever reason.
        temperature_reported = vitals.get("temperature")
        if temperature_reported is None or temperature_reported < 38:
            febrile = reason in FEVER_REASONS or (diagnoses and self.dx[diagnoses[0]].fever)
            temperature_reported = round(rng.real(38.2, 40.0), 1) if febrile else None

        # Outcome, and sick leave for working adults.
        outcome_ts = act_end if act else call_end
        outcome_date = cal.local_date(outcome_ts)
        ids.observation += 1
        observation.append(
            (
                ids.observation,
                person.person_id,
                self.obs_outcome,
                outcome_date,
                utc(outcome_ts),
                EHR,
                None,
                "",
                self.outcomes[outcome],
                "OBS_OUTCOME",
                outcome,
                "",
                doctor,
                visit_id,
                act_detail or call_detail,
            )
        )
        if act and not died and 18 <= age <= 64:
            leave = self.dx[diagnoses[0]].leave
            if leave and rng.chance(0.5):
                ids.observation += 1
                observation.append(
                    (
                        ids.observation,
                        person.person_id,
                        self.obs_sick_leave,
                        outcome_date,
                        utc(outcome_ts),
                        EHR,
                        float(rng.between(*leave)),
                        "",
                        None,
                        "OBS_SICK_LEAVE",
                        "",
                        "jours",
                        doctor,
                        visit_id,
                        act_detail,
                    )
                )

        # Notes.
        patient = texts.Patient(
            person.sex,
            age,
            person.ehpad,
            person.identity.birth_name,
            person.identity.used_name,
            person.identity.first_name,
            person.birth_date,
            person.identity.nir,
            person.postal_code,
            person.city,
        )
        ids.note += 1
        out["note"].append(
            (
                ids.note,
                person.person_id,
                call_date,
                utc(call_end),
                self.note_call,
                "Appel de régulation",
                texts.call_note(rng, patient, reason, dispatch, temperature_reported),
                "NOTE_CALL",
                None,
                visit_id,
                call_detail,
            )
        )
        if act:
            labels = [self.icd_names[self.dx[key].icd_code] for key in diagnoses]
            ids.note += 1
            out["note"].append(
                (
                    ids.note,
                    person.person_id,
                    end_date,
                    utc(act_end),
                    self.note_doctor,
                    "Observation médicale",
                    texts.doctor_note(
                        rng, patient, diagnoses, labels, vitals, drug_labels, outcome
                    ),
                    "NOTE_DOCTOR",
                    doctor,
                    visit_id,
                    act_detail,
                )
            )
        if died:
            cause = self._cause(rng, person, diagnoses)
            out["death"].append(
                (
                    person.person_id,
                    act_date,
                    act_dt,
                    EHR,
                    self.icd_standard.get(cause, NONE),
                    cause,
                    self.icd[cause],
                )
            )
        return visit_id, end_ts, died

    def _factors_for(self, hour_index: int) -> dict:
        day = self.calendar.local_dates[hour_index]
        factors = self._factor_cache.get(day)
        if factors is None:
            factors = season_factors(self.calendar.seasons[hour_index])
            self._factor_cache[day] = factors
        return factors

    def _outcome(self, rng: Rng, dispatch, act, diagnoses, age, dies, last) -> str:
        if dies:
            return "OUT_DEATH"
        if dispatch == "SAMU":
            return rng.draw_pairs((("OUT_SMUR", 0.55), ("OUT_AMBULANCE", 0.4), ("OUT_HOME", 0.05)))
        if not act:
            return rng.draw_pairs((("OUT_HOME", 0.7), ("OUT_GP", 0.25), ("OUT_HOSP_OWN", 0.05)))
        dx = self.dx[diagnoses[0]]
        if dx.death and last and act in ("HOME", "EHPAD") and age >= 70 and rng.chance(dx.death):
            return "OUT_DEATH"
        # Older patients are referred more; infants too.
        multiplier = 1.0 + max(0, age - 55) / 30.0 + (0.5 if age < 1 else 0.0)
        if act == "TELE":
            multiplier *= 0.7
        if rng.chance(min(0.98, dx.refer * multiplier)):
            if rng.chance(dx.smur):
                return "OUT_SMUR"
            ambulance = 0.2 + (0.45 if age >= 75 else 0.0) + (0.2 if dx.refer > 0.5 else 0.0)
            return "OUT_AMBULANCE" if rng.chance(ambulance) else "OUT_HOSP_OWN"
        return "OUT_HOME" if rng.chance(0.65) else "OUT_GP"

    def _cause(self, rng: Rng, person: Person, diagnoses) -> str:
        if diagnoses and diagnoses[0] != "death":
            return self.dx[diagnoses[0]].icd_code
        causes = [
            self.dx[key].icd_code
            for key in person.chronic
            if key in ("hf", "dementia", "copd") and key in self.dx
        ]
        if causes and rng.chance(0.5):
            return rng.pick(causes)
        return self.dx["death"].icd_code

    def _act_rows(self, rng: Rng, act: _Act, ids: Ids, out: dict):
        """Conditions, procedures, vital signs and prescriptions of a medical act."""
        person, age, diagnoses, reason = act.person, act.age, act.diagnoses, act.reason
        doctor, visit_id, detail, day, start = (
            act.doctor,
            act.visit_id,
            act.detail_id,
            act.day,
            act.start_ts,
        )
        pid = person.person_id
        dt = utc(start)
        for rank, key in enumerate(diagnoses):
            dx = self.dx[key]
            status = "primary" if rank == 0 else "secondary"
            for code, concept, standard in (
                (dx.icpc_code, self.icpc[dx.icpc_code], self.icpc_standard),
                (dx.icd_code, self.icd[dx.icd_code], self.icd_standard),
            ):
                ids.condition += 1
                out["condition_occurrence"].append(
                    (
                        ids.condition,
                        pid,
                        standard.get(code, NONE),
                        day,
                        dt,
                        EHR,
                        status,
                        code,
                        concept,
                        doctor,
                        visit_id,
                        detail,
                    )
                )

        in_person = act.kind in IN_PERSON
        procedures = []
        for key in diagnoses[:1]:
            for probability, options in self.dx[key].procs:
                if rng.chance(probability):
                    procedures.append(options[0][0])
        if reason in {"RC08", "RC09"} and rng.chance(0.7):
            procedures.append("ACT_ECG")
        if reason == "RC25":
            procedures.append("ACT_MED_CERT")
        if reason == "RC29":
            procedures.append("ACT_GLYC")
        seen = set()
        for code in procedures:
            if code in seen or (not in_person and code not in {"ACT_MED_CERT"}):
                continue
            seen.add(code)
            ids.procedure += 1
            out["procedure_occurrence"].append(
                (
                    ids.procedure,
                    pid,
                    self.acts[code],
                    day,
                    utc(start + 5 * MINUTE),
                    EHR,
                    1,
                    code,
                    self.acts[code],
                    doctor,
                    visit_id,
                    detail,
                )
            )

        vitals: dict[str, float] = {}
        if in_person and not act.died:
            vitals = self._vitals(rng, age, diagnoses, "ACT_GLYC" in seen)
            self._measurement_rows(
                vitals, pid, day, utc(start + 3 * MINUTE), doctor, visit_id, detail, ids, out
            )

        drug_labels: list[str] = []
        if act.died:
            return vitals, drug_labels
        prescribed = []
        for rank, key in enumerate(diagnoses):
            for probability, options in self.dx[key].drugs:
                if not rng.chance(probability * (0.6 if rank else 1.0)):
                    continue
                allowed = [
                    (atc, weight)
                    for atc, weight in options
                    if atc not in prescribed
                    and (age >= 12 or DRUGS[atc].child_sig is not None)
                    and (in_person or DRUGS[atc].route not in INJECTED)
                ]
                if allowed:
                    prescribed.append(rng.draw_pairs(allowed))
        if not prescribed and reason not in {"RC25"} and rng.chance(0.25):
            prescribed.append("N02BE01")
        end_day = day
        for atc in prescribed:
            drug = DRUGS[atc]
            ids.drug += 1
            sig = drug.sig if age >= 12 else drug.child_sig
            end_day = day + timedelta(days=drug.days - 1)
            out["drug_exposure"].append(
                (
                    ids.drug,
                    pid,
                    self.atc_standard.get(atc, NONE),
                    day,
                    dt,
                    end_day,
                    EHR,
                    drug.quantity,
                    drug.days,
                    sig,
                    drug.route,
                    atc,
                    self.atc[atc],
                    doctor,
                    visit_id,
                    detail,
                )
            )
            drug_labels.append(self.atc_names[atc])
        return vitals, drug_labels

    def _vitals(self, rng: Rng, age: int, diagnoses, glucose_test: bool) -> dict[str, float]:
        dxs = [self.dx[key] for key in diagnoses]
        fever = max(dx.fever for dx in dxs)
        resp = max(dx.resp for dx in dxs)
        flags = {dx.vitals for dx in dxs}
        vitals: dict[str, float] = {}
        if rng.chance(0.9):
            if fever == 2:
                temperature = rng.clipped(39.0 if age >= 15 else 39.2, 0.5, 38.2, 41.0)
            elif fever == 1:
                temperature = rng.clipped(38.0, 0.4, 37.2, 39.5)
            else:
                temperature = rng.clipped(36.8, 0.3, 35.8, 37.6)
            vitals["temperature"] = round(temperature, 1)
        if rng.chance(0.85):
            base = 125 if age < 2 else 100 if age < 6 else 88 if age < 12 else 76
            rate = rng.normal(base, base * 0.1)
            rate += 10 * max(0.0, vitals.get("temperature", 37.0) - 37.5)
            if "af" in flags:
                rate = rng.clipped(125, 20, 90, 180)
            elif "tachy" in flags or "lowbp" in flags:
                rate += 25
            vitals["heart_rate"] = round(min(220.0, max(35.0, rate)))
        if resp or age >= 65 or rng.chance(0.5):
            mean = (98.0, 95.0, 93.0, 89.0)[resp]
            vitals["spo2"] = round(rng.clipped(mean, 1.2 + resp * 0.6, 75, 100))
        if resp:
            if age < 2:
                vitals["respiratory_rate"] = round(rng.clipped(35 + 10 * resp, 6, 25, 80))
            elif age >= 12:
                vitals["respiratory_rate"] = round(rng.clipped(15 + 4 * resp, 3, 10, 45))
        if age >= 15 and rng.chance(0.85):
            if "lowbp" in flags:
                systolic, diastolic = rng.normal(88, 8), rng.normal(52, 6)
            else:
                systolic = rng.normal(115 + 0.5 * max(0, age - 20), 12)
                diastolic = rng.normal(70 + 0.2 * max(0, age - 20), 8)
                if "htn" in flags:
                    systolic += 35
                    diastolic += 15
            systolic = min(240.0, max(70.0, systolic))
            diastolic = min(systolic - 20, max(40.0, diastolic))
            vitals["systolic"] = round(systolic)
            vitals["diastolic"] = round(diastolic)
        if "hypo" in flags:
            vitals["glucose"] = round(rng.real(35, 65))
        elif "hyper" in flags:
            vitals["glucose"] = round(rng.real(180, 450))
        elif glucose_test:
            vitals["glucose"] = round(rng.real(75, 150))
        if age < 6 and rng.chance(0.8):
            vitals["weight"] = round(_child_weight(age, rng), 1)
        return vitals

    def _measurement_rows(self, vitals, pid, day, dt, doctor, visit_id, detail, ids, out):
        rows = out["measurement"]
        for name, value in vitals.items():
            concept, unit, code, unit_code, low, high = _MEASURES[name]
            ids.measurement += 1
            rows.append(
                (
                    ids.measurement,
                    pid,
                    concept,
                    day,
                    dt,
                    EHR,
                    float(value),
                    unit,
                    low,
                    high,
                    code,
                    unit_code,
                    doctor,
                    visit_id,
                    detail,
                )
            )


def _child_weight(age: int, rng: Rng) -> float:
    months = age * 12 + rng.below(12)
    if months <= 12:
        mean = 3.4 + 0.8 * months - 0.03 * months * months
    else:
        mean = 9.5 + 2.1 * (months - 12) / 12
    return max(2.0, rng.normal(mean, mean * 0.08))


# name -> (concept, unit concept, LOINC code, UCUM code, normal low, normal high)
_MEASURES = {
    "temperature": (cl.BODY_TEMPERATURE, cl.UNIT_CELSIUS, "8310-5", "Cel", 36.1, 37.8),
    "heart_rate": (cl.HEART_RATE, cl.UNIT_PER_MINUTE, "8867-4", "/min", None, None),
    "spo2": (cl.OXYGEN_SATURATION, cl.UNIT_PERCENT, "59408-5", "%", 95.0, 100.0),
    "respiratory_rate": (cl.RESPIRATORY_RATE, cl.UNIT_PER_MINUTE, "9279-1", "/min", None, None),
    "systolic": (cl.SYSTOLIC_BP, cl.UNIT_MM_HG, "8480-6", "mm[Hg]", 90.0, 140.0),
    "diastolic": (cl.DIASTOLIC_BP, cl.UNIT_MM_HG, "8462-4", "mm[Hg]", 60.0, 90.0),
    "glucose": (cl.BLOOD_GLUCOSE, cl.UNIT_MG_PER_DL, "2339-0", "mg/dL", 70.0, 140.0),
    "weight": (cl.BODY_WEIGHT, cl.UNIT_KG, "29463-7", "kg", None, None),
}


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
