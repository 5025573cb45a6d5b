"""Ages and times of day in scrubbed notes follow the approved precision of the columns (MIN-05).

A note must not tell more than the structured variables delivered beside it: no exact age when
the birth date leaves as a 5-year band, no "appel à 14h32" when visits leave as a date.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warehouse.export.scrub import AgePrecision, TextPolicy, TimePrecision, name_pattern, scrub

NO_BIRTH = TextPolicy(age=AgePrecision.NONE, time=TimePrecision.MINUTE)
BAND = TextPolicy(age=AgePrecision.BAND, time=TimePrecision.MINUTE)
YEAR = TextPolicy(age=AgePrecision.YEAR, time=TimePrecision.MINUTE)
NO_TIME = TextPolicy(age=AgePrecision.YEAR, time=TimePrecision.NONE)
HOUR = TextPolicy(age=AgePrecision.YEAR, time=TimePrecision.HOUR)
MINUTE = YEAR
POLICIES = [TextPolicy(), NO_BIRTH, BAND, YEAR, NO_TIME, HOUR]


# --- The policy from the approved specification ----------------------------------------------


@pytest.mark.parametrize(
    ("approved", "age", "time"),
    [
        ({}, AgePrecision.NONE, TimePrecision.NONE),
        ({"person.birth_date": "year"}, AgePrecision.YEAR, TimePrecision.NONE),
        ({"person.birth_date": "five_year_band"}, AgePrecision.BAND, TimePrecision.NONE),
        ({"person.birth_date": "excluded"}, AgePrecision.NONE, TimePrecision.NONE),
        ({"person.sex": "exact", "call.notes": "scrubbed"}, AgePrecision.NONE, TimePrecision.NONE),
        ({"visit.start": "shifted_date"}, AgePrecision.NONE, TimePrecision.NONE),
        ({"visit.start": "week", "call.received": "month"}, AgePrecision.NONE, TimePrecision.NONE),
        ({"call.received": "shifted_hour"}, AgePrecision.NONE, TimePrecision.HOUR),
        ({"act.end": "shifted_minute"}, AgePrecision.NONE, TimePrecision.MINUTE),
        # The finest timestamp decides: one column to the minute gives the minute away.
        (
            {
                "visit.start": "shifted_date",
                "visit.end": "shifted_hour",
                "call.ended": "shifted_minute",
            },
            AgePrecision.NONE,
            TimePrecision.MINUTE,
        ),
        (
            {"person.birth_date": "five_year_band", "act.start": "shifted_hour"},
            AgePrecision.BAND,
            TimePrecision.HOUR,
        ),
    ],
)
def test_policy_from_the_approved_generalisations(approved, age, time):
    policy = TextPolicy.from_generalisations(approved)
    assert (policy.age, policy.time) == (age, time)


def test_the_default_policy_is_the_strictest():
    note = "Appel a 14h32 de la fille, pt 83a, chute. Nourrisson de 3 mois vu le 4/05."
    strict = "Appel a [HEURE] de la fille, pt [AGE], chute. Nourrisson de [AGE] vu le [DATE]."
    assert scrub(note) == strict
    assert scrub(note, None, None) == strict
    assert scrub(note, None, TextPolicy()) == strict
    assert scrub(note, None, TextPolicy.from_generalisations({})) == strict


def test_the_policy_is_frozen():
    with pytest.raises(AttributeError):
        TextPolicy().age = AgePrecision.YEAR  # type: ignore[misc]


# --- Ages ------------------------------------------------------------------------------------

# (note, birth date not approved, five-year band, birth year)
AGES = [
    ("Pt 47 ans, chute.", "Pt [AGE], chute.", "Pt [45-49 ans], chute.", "Pt 47 ans, chute."),
    ("Mme 47ans HTA", "Mme [AGE] HTA", "Mme [45-49 ans] HTA", "Mme 47ans HTA"),
    (
        "appel fille pt 83a chute",
        "appel fille pt [AGE] chute",
        "appel fille pt [80-84 ans] chute",
        "appel fille pt 83a chute",
    ),
    (
        "F 47a, douleur thoracique",
        "F [AGE], douleur thoracique",
        "F [45-49 ans], douleur thoracique",
        "F 47a, douleur thoracique",
    ),
    ("H 52 a. DT2", "H [AGE]. DT2", "H [50-54 ans]. DT2", "H 52 a. DT2"),
    ("MR 63A, BPCO", "MR [AGE], BPCO", "MR [60-64 ans], BPCO", "MR 63A, BPCO"),
    (
        "patiente agee de 84 ans",
        "patiente agee de [AGE]",
        "patiente agee de [80-84 ans]",
        "patiente agee de 84 ans",
    ),
    (
        "Patiente âgée de 75 ans",
        "Patiente âgée de [AGE]",
        "Patiente âgée de [75-79 ans]",
        "Patiente âgée de 75 ans",
    ),
    (
        "ENFANT 4 ANS FIEVRE",
        "ENFANT [AGE] FIEVRE",
        "ENFANT [0-4 ans] FIEVRE",
        "ENFANT 4 ANS FIEVRE",
    ),
    (
        "enfant de 1 an, otalgie",
        "enfant de [AGE], otalgie",
        "enfant de [0-4 ans], otalgie",
        "enfant de 1 an, otalgie",
    ),
    (
        "Appel du pere, 12 ans.",
        "Appel du pere, [AGE].",
        "Appel du pere, [10-14 ans].",
        "Appel du pere, 12 ans.",
    ),
    ("pt de 35a", "pt de [AGE]", "pt de [35-39 ans]", "pt de 35a"),
    ("age: 20 ans", "age: [AGE]", "age: [20-24 ans]", "age: 20 ans"),
    ("Pt env 47 ans", "Pt env [AGE]", "Pt env [45-49 ans]", "Pt env 47 ans"),
    # A range spans the bands it touches; a decimal age is whole years under a birth year.
    ("patiente 80-85 ans", "patiente [AGE]", "patiente [80-89 ans]", "patiente 80-85 ans"),
    ("enfant 2,5 ans", "enfant [AGE]", "enfant [0-4 ans]", "enfant [2 ans]"),
    # A person's age even after a preposition that usually brings a duration.
    (
        "Mme de 47 ans depuis ce matin",
        "Mme de [AGE] depuis ce matin",
        "Mme de [45-49 ans] depuis ce matin",
        "Mme de 47 ans depuis ce matin",
    ),
]


@pytest.mark.parametrize(("note", "none", "band", "year"), AGES)
def test_ages_follow_the_birth_date(note, none, band, year):
    assert scrub(note, policy=NO_BIRTH) == none
    assert scrub(note, policy=BAND) == band
    assert scrub(note, policy=YEAR) == year


@pytest.mark.parametrize(
    "note",
    ["Patiente agee de 91 ans.", "Mr 90 ans, chute", "pt 103a", "H 96 a, EHPAD", "F 95ANS"],
)
def test_ninety_and_over_is_one_class(note):
    assert "[90 ans et plus]" in scrub(note, policy=YEAR)
    assert "[90 ans et plus]" in scrub(note, policy=BAND)
    assert "[AGE]" in scrub(note, policy=NO_BIRTH)
    for policy in (YEAR, BAND, NO_BIRTH):
        result = scrub(note, policy=policy).replace("[90 ans et plus]", "")
        assert not re.search(r"\d", result), result


def test_a_range_reaching_ninety_is_open():
    assert scrub("Mme 88-92 ans", policy=YEAR) == "Mme [88 ans et plus]"
    assert scrub("Mme 88-92 ans", policy=BAND) == "Mme [85 ans et plus]"


# Infants: a birth year does not give the month of birth, so months, weeks and days become
# whole years under "year"; a band gives the band.
INFANTS = [
    (
        "nourrisson de 3 mois",
        "nourrisson de [AGE]",
        "nourrisson de [0-4 ans]",
        "nourrisson de [moins d'un an]",
    ),
    (
        "NRS 18 mois, bronchiolite",
        "NRS [AGE], bronchiolite",
        "NRS [0-4 ans], bronchiolite",
        "NRS [1 an], bronchiolite",
    ),
    (
        "nourrisson de 3 semaines",
        "nourrisson de [AGE]",
        "nourrisson de [0-4 ans]",
        "nourrisson de [moins d'un an]",
    ),
    (
        "bebe 2 sem, pleurs",
        "bebe [AGE], pleurs",
        "bebe [0-4 ans], pleurs",
        "bebe [moins d'un an], pleurs",
    ),
    (
        "NNE de 10 jours, ictere",
        "NNE de [AGE], ictere",
        "NNE de [0-4 ans], ictere",
        "NNE de [moins d'un an], ictere",
    ),
    (
        "Appel de la mere, 3 mois. Fievre 39.",
        "Appel de la mere, [AGE]. Fievre 39.",
        "Appel de la mere, [0-4 ans]. Fievre 39.",
        "Appel de la mere, [moins d'un an]. Fievre 39.",
    ),
    ("fille de 30 mois", "fille de [AGE]", "fille de [0-4 ans]", "fille de [2 ans]"),
    ("Pt 9 mois", "Pt [AGE]", "Pt [0-4 ans]", "Pt [moins d'un an]"),
]


@pytest.mark.parametrize(("note", "none", "band", "year"), INFANTS)
def test_infant_ages_never_tell_more_than_the_birth_date(note, none, band, year):
    assert scrub(note, policy=NO_BIRTH) == none
    assert scrub(note, policy=BAND) == band
    assert scrub(note, policy=YEAR) == year


@given(
    st.integers(min_value=0, max_value=120),
    st.sampled_from(["Pt {} ans", "Mme {}ans", "pt {}a", "F {}a", "agee de {} ans", "{} ans"]),
)
def test_a_band_never_leaks_more_than_the_band(age, spelling):
    result = scrub(spelling.format(age), policy=BAND)
    if age >= 90:
        assert result.endswith("[90 ans et plus]")
        return
    low, high = map(int, re.search(r"\[(\d+)-(\d+) ans\]", result).groups())
    assert low % 5 == 0
    assert high == low + 4
    assert low <= age <= high


@given(st.integers(min_value=0, max_value=23), st.sampled_from(["mois", "semaines", "sem"]))
def test_months_and_weeks_of_an_infant_never_stay(count, unit):
    note = f"nourrisson de {count} {unit}, fievre"
    for policy in (YEAR, BAND, NO_BIRTH):
        assert f"{count} {unit}" not in scrub(note, policy=policy)


# Durations, doses, codes and addresses: not ages, whatever the policy.
AGE_LOOK_ALIKES = [
    "Diabetique depuis 10 ans.",
    "HTA depuis plus de 20 ans",
    "ATCD AVC il y a 2 ans.",
    "10 ans de tabac, 2 ans d'evolution",
    "Traitement 3 mois puis controle.",
    "Enceinte de 3 mois.",
    "Fievre depuis 3 jours, 2 jours de diarrhee.",
    "Toux depuis 2 sem.",
    "Arret de travail pendant 2 sem.",
    "Amoxicilline 1g x3/j pendant 6 jours",
    "Bat 47a, code 47A, digicode 12a, porte 3a",
    "Paracetamol 1 g de 2 a 3 cp/j",
    "Grossesse 12 SA, tabac 20 PA",
    "Suivi tous les 6 mois par le cardiologue",
    "J3 de fievre, 7j/7, 3 x/j",
]


@pytest.mark.parametrize("note", AGE_LOOK_ALIKES)
def test_durations_and_codes_are_not_ages(note):
    assert scrub(note, policy=TextPolicy()) == note


# --- Times of day ----------------------------------------------------------------------------

# (note, no time approved, to the hour, to the minute)
TIMES = [
    (
        "Appel a 14h32 de la fille",
        "Appel a [HEURE] de la fille",
        "Appel a 14h de la fille",
        "Appel a 14h32 de la fille",
    ),
    ("rappel 14 h 32", "rappel [HEURE]", "rappel 14h", "rappel 14 h 32"),
    ("vu a 14:32", "vu a [HEURE]", "vu a 14h", "vu a 14:32"),
    ("VAD 14:32:10", "VAD [HEURE]", "VAD 14h", "VAD 14:32"),
    (
        "chute vers 3h du matin",
        "chute vers [HEURE] du matin",
        "chute vers 3h du matin",
        "chute vers 3h du matin",
    ),
    ("a 3h du matin", "a [HEURE] du matin", "a 3h du matin", "a 3h du matin"),
    ("APPEL A 22H15. ", "APPEL A [HEURE]. ", "APPEL A 22h. ", "APPEL A 22H15. "),
    (
        "vers 23h45 agitation",
        "vers [HEURE] agitation",
        "vers 23h agitation",
        "vers 23h45 agitation",
    ),
    (
        "Doliprane à 18 h sans effet.",
        "Doliprane à [HEURE] sans effet.",
        "Doliprane à 18 h sans effet.",
        "Doliprane à 18 h sans effet.",
    ),
    ("RDV centre 10h", "RDV centre [HEURE]", "RDV centre 10h", "RDV centre 10h"),
    ("entre 14h et 16h30", "entre [HEURE] et [HEURE]", "entre 14h et 16h", "entre 14h et 16h30"),
    ("dispo 14h-16h", "dispo [HEURE]-[HEURE]", "dispo 14h-16h", "dispo 14h-16h"),
    ("a 14 heures 30", "a [HEURE]", "a 14h", "a 14 heures 30"),
    ("08:15 appel EHPAD", "[HEURE] appel EHPAD", "08h appel EHPAD", "08:15 appel EHPAD"),
    # "depuis" with an afternoon or evening hour is a time of day.
    ("douleur depuis 14h", "douleur depuis [HEURE]", "douleur depuis 14h", "douleur depuis 14h"),
    ("depuis 22h30", "depuis [HEURE]", "depuis 22h", "depuis 22h30"),
    (
        "vomit depuis 3h du matin",
        "vomit depuis [HEURE] du matin",
        "vomit depuis 3h du matin",
        "vomit depuis 3h du matin",
    ),
]


@pytest.mark.parametrize(("note", "none", "hour", "minute"), TIMES)
def test_times_of_day_follow_the_finest_timestamp(note, none, hour, minute):
    assert scrub(note, policy=NO_TIME) == none
    assert scrub(note, policy=HOUR) == hour
    assert scrub(note, policy=MINUTE) == minute


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_the_hour_drops_every_minute(hour, minute):
    for written, kept in (
        (f"{hour}h{minute:02d}", f"{hour}h"),
        (f"{hour} h {minute:02d}", f"{hour}h"),
        (f"{hour:02d}:{minute:02d}", f"{hour:02d}h"),
    ):
        assert scrub(f"appel a {written}.", policy=HOUR) == f"appel a {kept}."
        assert scrub(f"appel a {written}.", policy=NO_TIME) == "appel a [HEURE]."


# Durations, frequencies and vitals: not times of day, whatever the policy.
TIME_LOOK_ALIKES = [
    "Douleur thoracique depuis 2h.",
    "A pris du paracetamol il y a 3 h.",
    "A revoir sous 48 h.",
    "fievre depuis 24 h, depuis 48h",
    "2h de marche, 1h30 de route",
    "pendant 1h30, dans 2h, en 1h",
    "a jeun depuis 12h",
    "Doliprane 1g toutes les 6h, 1g/6h, q6h",
    "Heparine 25000 UI/j, Lovenox 4000 UI",
    "FC 120/min, TA 14/9, T 38.5, SpO2 97 %",
    "O2 24h/24, 12h/24",
    "2h apres la prise, H+2",
    "depuis 3 heures, 2 heures de route",
    "dilution 1:10, ratio 1:2",
]


@pytest.mark.parametrize("note", TIME_LOOK_ALIKES)
def test_durations_and_vitals_are_not_times(note):
    assert scrub(note, policy=TextPolicy()) == note


# --- Dates without a year --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("vu le 4 mai", "vu le [DATE]"),
        ("Chute le 1er sept.", "Chute le [DATE]."),
        ("consult 12 DECEMBRE", "consult [DATE]"),
        ("le 4/05", "le [DATE]"),
        ("le 4/5 au soir", "le [DATE] au soir"),
        ("04/05", "[DATE]"),
        ("RDV 04/05 au centre", "RDV [DATE] au centre"),
        ("du 2/3 au 6/3", "du [DATE] au [DATE]"),
        ("DDN: 12/10", "DDN: [DATE]"),
        ("hospitalise le 12.05", "hospitalise le [DATE]"),
        ("Ne le 4-05", "Ne le [DATE]"),
    ],
)
def test_a_day_and_month_without_year_is_a_date(note, expected):
    assert scrub(note) == expected


@pytest.mark.parametrize(
    "note",
    [
        "GB 12000/mm3",
        "1/2 cp le soir, 3/4 cp",
        "le 1/2 cp",
        "2/j, 3 x/j",
        "TA 12/8, TA 14/9, PA 13/08",
        "TA: 12/08",
        "EVA 7/10, douleur cotee 8/10",
        "Glasgow 15/15, Apgar 9/10, AV 10/10",
        "souffle 2/6",
        "prendre 1/2",
        "4-5 cp, 2-3 j",
        "31/12/ invalide 32/12 et 12/13",
        "Heparine 25000 UI",
    ],
)
def test_doses_ratios_and_scores_are_not_dates(note):
    assert scrub(note, policy=TextPolicy()) == note


# --- Whole notes -----------------------------------------------------------------------------


def test_a_call_takers_note_under_each_policy():
    note = (
        "Appel de la fille a 14h32, pt 83a, chute vers 3h du matin, au sol depuis 2h. "
        "Doliprane a 18 h. TA 14/9, FC 120/min. Vu le 4/05 par le MT."
    )
    assert scrub(note) == (
        "Appel de la fille a [HEURE], pt [AGE], chute vers [HEURE] du matin, au sol depuis 2h. "
        "Doliprane a [HEURE]. TA 14/9, FC 120/min. Vu le [DATE] par le MT."
    )
    band_hour = TextPolicy.from_generalisations(
        {"person.birth_date": "five_year_band", "visit.start": "shifted_hour"}
    )
    assert scrub(note, policy=band_hour) == (
        "Appel de la fille a 14h, pt [80-84 ans], chute vers 3h du matin, au sol depuis 2h. "
        "Doliprane a 18 h. TA 14/9, FC 120/min. Vu le [DATE] par le MT."
    )
    year_minute = TextPolicy.from_generalisations(
        {"person.birth_date": "year", "call.received": "shifted_minute"}
    )
    assert scrub(note, policy=year_minute) == note.replace("4/05", "[DATE]")


def test_a_doctors_note_with_names_under_a_policy():
    names = name_pattern(["Lefèvre", "", "Jeanne"])
    note = "Mme LEFEVRE Jeanne, 91 ans, vue a 23h45. T 38.5, SpO2 92 %. Appel a 2h du matin."
    policy = TextPolicy.from_generalisations(
        {"person.birth_date": "year", "visit.start": "shifted_date"}
    )
    assert scrub(note, names, policy) == (
        "Mme [NOM] [NOM], [90 ans et plus], vue a [HEURE]. T 38.5, SpO2 92 %. "
        "Appel a [HEURE] du matin."
    )


@pytest.mark.parametrize("policy", POLICIES)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_scrub_is_stable_under_every_policy(policy, text):
    once = scrub(text, name_pattern(["Martin", "Jean"]), policy)
    assert scrub(once, name_pattern(["Martin", "Jean"]), policy) == once


@pytest.mark.parametrize("policy", POLICIES)
@given(
    st.lists(
        st.sampled_from(
            [
                "pt",
                "Mme",
                "F",
                "de",
                "agee de",
                "depuis",
                "il y a",
                "a",
                "vers",
                "le",
                "TA",
                "47",
                "83a",
                "3",
                "14h32",
                "14:32",
                "2h",
                "ans",
                "mois",
                "sem",
                "4/05",
                "12/8",
                "1/2",
                "cp",
                "du matin",
                ",",
                ".",
                "-",
                "[AGE]",
                "[HEURE]",
                "[DATE]",
                "Martin",
            ]
        ),
        max_size=12,
    )
)
def test_scrub_is_stable_on_note_like_text(policy, words):
    text = " ".join(words)
    once = scrub(text, name_pattern(["Martin"]), policy)
    assert scrub(once, name_pattern(["Martin"]), policy) == once


def test_an_hour_kept_does_not_take_the_next_figure_for_minutes():
    once = scrub("appel a 14h32 47 ans", policy=HOUR)
    assert once == "appel a 14h 47 ans"
    assert scrub(once, policy=HOUR) == once
