"""The organisation: associations, their consultation centres, doctors and the places around.

Care sites: each association (id from associations.csv) and each of its centres (id
association * 100 + n). Locations: one per care site (same id), and the residence postal codes
around each association (ids from 100,000), shared by the persons living there. Doctors are
pseudonymised: a number ("DR-0123"), a sex, a birth year, an association; no name.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse import codelists

from .names import street_address
from .rand import STREAM_REFERENCE, Weighted, stream

DOCTORS = 1300
RESIDENCE_LOCATION_BASE = 100_000

# Postal codes around a town: the town's own, then codes of the same département. They follow
# the real pattern (département + 3 digits, round numbers for the main post offices).
_SUFFIXES = (
    "100",
    "110",
    "120",
    "130",
    "140",
    "150",
    "160",
    "170",
    "180",
    "190",
    "200",
    "210",
    "220",
    "230",
    "240",
    "250",
    "260",
    "270",
    "280",
    "290",
    "300",
    "310",
    "320",
    "330",
    "340",
    "350",
    "360",
    "370",
    "380",
    "390",
    "400",
    "410",
    "420",
    "430",
    "440",
    "450",
    "460",
    "470",
    "480",
    "490",
    "500",
    "600",
    "700",
    "800",
)
_SPECIAL_POSTAL_CODES = {
    "75": tuple(f"750{n:02d}" for n in range(1, 21)),
    "2A": ("20000", "20090", "20100", "20110", "20117", "20129", "20166"),
    "2B": ("20200", "20220", "20230", "20250", "20260", "20290", "20600"),
    "974": ("97400", "97410", "97411", "97420", "97430", "97440", "97450", "97460", "97470"),
}
_CITY_POSTAL_CODES = {
    "Lyon": tuple(f"6900{n}" for n in range(1, 10)),
    "Marseille": tuple(f"130{n:02d}" for n in range(1, 17)),
}


@dataclass(frozen=True)
class Reference:
    locations: list[tuple]
    care_sites: list[tuple]
    providers: list[tuple]
    associations: Weighted
    # association id -> ((location_id, postal_code, city), ...), the first being the town's own
    residences: dict[int, tuple[tuple[int, str, str], ...]]
    doctors: dict[int, tuple[int, ...]]
    centres: dict[int, tuple[int, ...]]


LOCATION_COLUMNS = (
    "location_id",
    "address_1",
    "city",
    "state",
    "zip",
    "county",
    "location_source_value",
    "country_source_value",
)
CARE_SITE_COLUMNS = (
    "care_site_id",
    "care_site_name",
    "location_id",
    "care_site_source_value",
    "place_of_service_source_value",
)
PROVIDER_COLUMNS = (
    "provider_id",
    "specialty_concept_id",
    "care_site_id",
    "year_of_birth",
    "gender_concept_id",
    "provider_source_value",
    "specialty_source_value",
    "gender_source_value",
)


def _residence_codes(association) -> tuple[str, ...]:
    own = association.postal_code
    special = _CITY_POSTAL_CODES.get(association.city) or _SPECIAL_POSTAL_CODES.get(
        association.departement
    )
    if special:
        codes = special
    else:
        prefix = own[:2]
        # A fixed, association-specific spread of nearby codes.
        start = association.care_site_id % 7
        codes = tuple(prefix + suffix for suffix in _SUFFIXES[start::5][:8])
    return (own, *(code for code in codes if code != own))


def build_reference(seed: int) -> Reference:
    rng = stream(seed, STREAM_REFERENCE, 0)
    departements = codelists.departements()
    associations = codelists.associations()
    gp = codelists.concept_id("SOS", "SPEC_GP")
    emergency = codelists.concept_id("SOS", "SPEC_EM")
    locations: list[tuple] = []
    care_sites: list[tuple] = []
    providers: list[tuple] = []
    residences: dict[int, tuple[tuple[int, str, str], ...]] = {}
    doctors: dict[int, tuple[int, ...]] = {}
    centres: dict[int, tuple[int, ...]] = {}
    total_weight = sum(association.weight for association in associations)
    next_residence = RESIDENCE_LOCATION_BASE + 1
    next_doctor = 1
    for association in associations:
        region = departements[association.departement].region_code
        site_id = association.care_site_id
        source = f"SOS-{site_id:02d}"
        locations.append(
            (
                site_id,
                street_address(rng),
                association.city,
                region,
                association.postal_code,
                association.departement,
                source,
                "FR",
            )
        )
        care_sites.append((site_id, association.name, site_id, source, "association"))
        centre_ids = []
        for number in range(1, association.centres + 1):
            centre_id = site_id * 100 + number
            centre_ids.append(centre_id)
            name = f"{association.name}, centre de consultation"
            if association.centres > 1:
                name += f" n° {number}"
            locations.append(
                (
                    centre_id,
                    street_address(rng),
                    association.city,
                    region,
                    association.postal_code,
                    association.departement,
                    f"{source}-C{number}",
                    "FR",
                )
            )
            care_sites.append(
                (centre_id, name, centre_id, f"{source}-C{number}", "centre de consultation")
            )
        centres[site_id] = tuple(centre_ids)
        places = []
        for index, code in enumerate(_residence_codes(association)):
            city = association.city if index == 0 else ""
            locations.append(
                (
                    next_residence,
                    "",
                    city,
                    region,
                    code,
                    association.departement,
                    f"{association.departement}-{code}",
                    "FR",
                )
            )
            places.append((next_residence, code, city))
            next_residence += 1
        residences[site_id] = tuple(places)
        count = max(2, round(DOCTORS * association.weight / total_weight))
        ids = []
        for _ in range(count):
            female = rng.chance(0.45)
            emergency_trained = rng.chance(0.1)
            providers.append(
                (
                    next_doctor,
                    emergency if emergency_trained else gp,
                    site_id,
                    rng.between(1958, 1996),
                    codelists.GENDER_FEMALE if female else codelists.GENDER_MALE,
                    f"DR-{next_doctor:04d}",
                    "SPEC_EM" if emergency_trained else "SPEC_GP",
                    "F" if female else "M",
                )
            )
            ids.append(next_doctor)
            next_doctor += 1
        doctors[site_id] = tuple(ids)
    weighted = Weighted([(association, association.weight) for association in associations])
    return Reference(locations, care_sites, providers, weighted, residences, doctors, centres)
