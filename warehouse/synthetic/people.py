"""Persons: the age pyramid of on-call care, and an identity for each one.

Who calls SOS Médecins is not the population: young children and the very old dominate, and
women outnumber men among the old. Each person also gets a civil identity (vault) consistent
with the warehouse row: same sex and birth date, a NIR whose digits encode them, a birth place
that is a real commune or country.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from warehouse.codelists import Association
from warehouse.keys import SecretKey, nir_key, person_key

from . import names
from .clinical import BANDS, CHRONIC
from .rand import Rng, Weighted

# Share of episodes by age band (0-1, 2-5, 6-14, 15-24, 25-44, 45-64, 65-74, 75-84, 85+).
EPISODE_SHARE = (7.5, 11.0, 10.0, 10.0, 19.0, 16.0, 8.5, 9.0, 9.0)
# Mean number of further episodes in a year, by band: the very young and the very old return.
REPEAT_RATE = (0.6, 0.45, 0.25, 0.2, 0.2, 0.3, 0.45, 0.7, 0.9)
BAND_AGES = ((0, 1), (2, 5), (6, 14), (15, 24), (25, 44), (45, 64), (65, 74), (75, 84), (85, 104))
FEMALE_SHARE = (0.48, 0.48, 0.48, 0.54, 0.55, 0.52, 0.54, 0.6, 0.7)
# Share of people living in a nursing home (EHPAD), from these ages up.
EHPAD_SHARE = ((90, 0.35), (85, 0.2), (80, 0.1), (75, 0.04))
# Probability of dying during a year of the period, for people who called.
DEATH_RATE = (0, 0, 0, 0, 0.0002, 0.0012, 0.004, 0.012, 0.035)


@dataclass(frozen=True)
class PersonModel:
    """What does not change from one person to the next within a run."""

    year_fraction: float  # the period's length in years, scales repeat visits and deaths
    bands: Weighted
    ages_by_band: tuple[Weighted, ...]

    @classmethod
    def for_period(cls, days: int) -> PersonModel:
        fraction = days / 365.0
        repeat_scale = 0.5 + 0.5 * fraction
        # Persons per band = episodes per band / mean episodes per person in that band.
        bands = Weighted(
            [
                (band, EPISODE_SHARE[band] / (1 + REPEAT_RATE[band] * repeat_scale))
                for band in range(BANDS)
            ]
        )
        ages = []
        for low, high in BAND_AGES:
            pairs = []
            for age in range(low, high + 1):
                # Beyond 85 the population thins out fast.
                weight = 0.8 ** (age - 85) if age > 85 else 1.0
                pairs.append((age, weight))
            ages.append(Weighted(pairs))
        return cls(fraction, bands, tuple(ages))


@dataclass
class CivilIdentity:
    birth_name: str
    used_name: str
    first_names: str
    sex: str
    birth_date: date
    birth_place_code: str
    birth_place_name: str
    nir: str
    postal_code: str

    @property
    def first_name(self) -> str:
        return self.first_names.split(",")[0].strip()


@dataclass
class Person:
    person_id: int
    sex: str
    birth_date: date
    age: int  # at the start of the period
    association: Association
    location_id: int
    postal_code: str
    city: str
    ehpad: bool
    chronic: tuple[str, ...]
    dies: bool
    repeat_rate: float
    identity: CivilIdentity
    key: str


def _ehpad_share(age: int) -> float:
    return next((share for threshold, share in EHPAD_SHARE if age >= threshold), 0.0)


def _nir(rng: Rng, sex: str, birth: date, place_code: str) -> str:
    """A NIR whose digits agree with sex, birth month and year, and birth place."""
    if place_code.startswith("99"):
        place = place_code  # 99 + the INSEE country code
    elif place_code[:2] in {"2A", "2B"} and birth.year < 1976:
        # Corsica was département 20 before its 1976 split; NIRs kept it.
        place = "20" + place_code[2:]
    else:
        place = place_code
    first13 = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{place}"
    first13 += f"{rng.between(1, 999):03d}"
    return f"{first13}{nir_key(first13):02d}"


def _birth_place(rng: Rng, origin: str, born_abroad: bool, departement: str):
    if born_abroad:
        return rng.draw(names.BIRTH_COUNTRIES[origin])
    local = names.COMMUNES_BY_DEPARTEMENT.get(departement)
    if local and rng.chance(0.65):
        return rng.pick(local)
    return rng.pick(names.ALL_COMMUNES)


class KeyFilter:
    """A Bloom filter of the person keys issued so far.

    Two synthetic persons must never share a key (same NIR, or same name, first name, birth
    date and sex), or they would be one person. Memory stays small for millions of persons; a
    false positive only makes the generator redraw a detail, which is still deterministic.
    """

    HASHES = 7

    def __init__(self, capacity: int) -> None:
        self.size = max(1 << 16, capacity * 12)
        self.bits = bytearray(self.size // 8 + 1)

    def _positions(self, key: str):
        return [int(key[i * 8 : i * 8 + 8], 16) % self.size for i in range(self.HASHES)]

    def add_if_new(self, key: str) -> bool:
        positions = self._positions(key)
        bits = self.bits
        if all(bits[p >> 3] & (1 << (p & 7)) for p in positions):
            return False
        for p in positions:
            bits[p >> 3] |= 1 << (p & 7)
        return True


def make_person(
    rng: Rng,
    *,
    person_id: int,
    model: PersonModel,
    period_start: date,
    associations: Weighted,
    residences: dict[int, tuple[tuple[int, str, str], ...]],
    secret: SecretKey,
    keys: KeyFilter,
) -> Person:
    band = rng.draw(model.bands)
    age = rng.draw(model.ages_by_band[band])
    sex = "F" if rng.chance(FEMALE_SHARE[band]) else "M"
    # Born between age+1 and age years before the period starts.
    birth = period_start - timedelta(days=int((age + rng.random()) * 365.25) + 1)
    association = rng.draw(associations)
    choices = residences[association.care_site_id]
    # Most live in the association's main town, the others around it.
    location_id, postal_code, city = choices[0] if rng.chance(0.45) else rng.pick(choices)

    ehpad = age >= 75 and rng.chance(_ehpad_share(age))
    chronic = tuple(condition for condition, rates in CHRONIC.items() if rng.chance(rates[band]))
    dies = rng.chance(DEATH_RATE[band] * model.year_fraction * (2.5 if ehpad else 1.0))
    repeat = REPEAT_RATE[band] * (0.5 + 0.5 * model.year_fraction) + (0.5 if ehpad else 0.0)

    identity, key = _identity(
        rng, sex, birth, association.departement, postal_code, age, secret, keys
    )
    return Person(
        person_id,
        sex,
        birth,
        age,
        association,
        location_id,
        postal_code,
        city,
        ehpad,
        chronic,
        dies,
        repeat,
        identity,
        key,
    )


def _identity(rng: Rng, sex, birth, departement, postal_code, age, secret, keys):
    origin = rng.draw(names.ORIGINS)
    # Older people of foreign origin were more often born abroad.
    abroad_share = 0.02 if origin == "france" else (0.75 if age >= 40 else 0.25)
    born_abroad = rng.chance(abroad_share)
    place_code, place_name = _birth_place(rng, origin, born_abroad, departement)
    birth_name = names.surname_for(rng, origin, departement)
    if birth.year >= 2005 and rng.chance(0.08):
        # Double family names, allowed since 2005.
        other = names.surname_for(rng, "france", departement)
        if other != birth_name:
            birth_name = f"{birth_name}-{other}"
    used_name = ""
    if sex == "F" and age >= 25 and rng.chance(0.3 if age < 35 else 0.5):
        spouse = names.surname_for(rng, origin if rng.chance(0.7) else "france", departement)
        if spouse != birth_name:
            used_name = spouse if rng.chance(0.85) else f"{spouse}-{birth_name}"
    given = names.first_names(rng, sex, birth.year, origin)
    has_nir = rng.chance(0.985 if not born_abroad else 0.75)

    for _attempt in range(50):
        nir = _nir(rng, sex, birth, place_code) if has_nir else ""
        key = person_key(
            birth_name=birth_name, first_names=given, birth_date=birth, sex=sex, nir=nir, key=secret
        )
        if keys.add_if_new(key):
            break
        if not has_nir:
            # Same name, first name and birth date as someone already drawn: another first
            # name makes them distinct people.
            given = names.first_names(rng, sex, birth.year, origin)
    else:
        raise RuntimeError("could not draw a distinct identity")
    identity = CivilIdentity(
        birth_name, used_name, given, sex, birth, place_code, place_name, nir, postal_code
    )
    return identity, key


def age_at(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
