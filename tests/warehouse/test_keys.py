"""Internal person keys: normalisation, NIR checks and the secret's discretion."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse import keys
from warehouse.keys import (
    SecretKey,
    check_nir,
    nir_key,
    normalise_first_name,
    normalise_surname,
    person_key,
)

KEY = SecretKey(b"k" * 32, "test")
BIRTH = date(1984, 3, 7)

SURNAME_TOKENS = st.sampled_from(
    [
        "Dupont",
        "Lefèvre",
        "Müller",
        "Gall",
        "Fontaine",
        "Ngô",
        "Boëlle",
        "Œuvray",
        "Artagnan",
        "Hélène",
        "Marie",
        "Saint",
        "Côté",
        "Bénédicte",
        "Nguyen",
        "Ferrand",
    ]
)
FIRST_TOKENS = st.sampled_from(
    [
        "Jean",
        "Pierre",
        "Marie",
        "Anaïs",
        "Éloïse",
        "Chloé",
        "Noël",
        "Zoé",
        "Jérôme",
        "François",
        "Loïc",
        "Gaëlle",
    ]
)


@st.composite
def surnames(draw):
    tokens = draw(st.lists(SURNAME_TOKENS, min_size=1, max_size=3))
    particle = draw(st.sampled_from(["", "de ", "du ", "van "]))
    joiner = draw(st.sampled_from([" ", "-"]))
    return particle + joiner.join(tokens)


@st.composite
def typed_variant(draw, text: str):
    """How a person or a call-taker might type the same name."""
    variant = text
    if draw(st.booleans()):
        variant = variant.upper()
    elif draw(st.booleans()):
        variant = variant.lower()
    if draw(st.booleans()):
        variant = keys._ascii_upper(variant)  # accents dropped, as on an old keyboard
    separator = draw(st.sampled_from([" ", "  ", "-", " - "]))
    variant = variant.replace("-", separator)
    if draw(st.booleans()):
        variant = f"  {variant} "
    return variant


@settings(max_examples=300, deadline=None)
@given(data=st.data(), name=surnames(), first=st.lists(FIRST_TOKENS, min_size=1, max_size=2))
def test_the_spellings_a_person_would_type_map_to_one_key(data, name, first):
    first_name = "-".join(first)
    reference = person_key(
        birth_name=name, first_names=first_name, birth_date=BIRTH, sex="F", key=KEY
    )
    typed_name = data.draw(typed_variant(name))
    typed_first = data.draw(typed_variant(first_name))
    assert (
        person_key(
            birth_name=typed_name, first_names=typed_first, birth_date=BIRTH, sex="f", key=KEY
        )
        == reference
    )


@settings(max_examples=200, deadline=None)
@given(name=surnames(), used=surnames(), first=FIRST_TOKENS)
def test_a_used_name_given_with_the_birth_name_finds_the_birth_name(name, used, first):
    reference = person_key(birth_name=name, first_names=first, birth_date=BIRTH, sex="F", key=KEY)
    for typed in (
        f"{used} née {name}",
        f"{used} nee {name}",
        f"{name} épouse {used}",
        f"{name} ep. {used}",
        f"{name.upper()} EPOUSE {used.upper()}",
    ):
        assert (
            person_key(birth_name=typed, first_names=first, birth_date=BIRTH, sex="F", key=KEY)
            == reference
        ), typed


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("de La Fontaine", "LAFONTAINE"),
        ("La Fontaine", "LAFONTAINE"),
        ("LA  FONTAINE", "LAFONTAINE"),
        ("d'Artagnan", "DARTAGNAN"),
        ("D\u2019ARTAGNAN", "DARTAGNAN"),
        ("Dartagnan", "DARTAGNAN"),
        ("Le Gall", "LEGALL"),
        ("Le-Gall", "LEGALL"),
        ("LEGALL", "LEGALL"),
        ("Lefèvre-Müller", "LEFEVREMULLER"),
        ("Œuvray", "OEUVRAY"),
        ("van der Berg", "DERBERG"),
        ("De", "DE"),
    ],
)
def test_surname_normalisation(typed, normalised):
    assert normalise_surname(typed) == normalised


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("Jean-Pierre", "JEANPIERRE"),
        ("jean pierre", "JEANPIERRE"),
        ("Jean-Pierre, Marie", "JEANPIERRE"),
        ("Éloïse", "ELOISE"),
        ("Zoé; Anne", "ZOE"),
    ],
)
def test_first_name_normalisation(typed, normalised):
    assert normalise_first_name(typed) == normalised


def test_different_people_get_different_keys():
    base = {"birth_name": "Dupont", "first_names": "Marie", "birth_date": BIRTH, "sex": "F"}
    reference = person_key(**base, key=KEY)
    assert person_key(**{**base, "sex": "M"}, key=KEY) != reference
    assert person_key(**{**base, "birth_date": date(1984, 3, 8)}, key=KEY) != reference
    assert person_key(**{**base, "first_names": "Marion"}, key=KEY) != reference
    assert person_key(**base, key=SecretKey(b"x" * 32, "other")) != reference
    assert len(reference) == 64
    int(reference, 16)


def _valid_nir(sex="2", yy="84", mm="03", dept="75", commune="056", order="123"):
    first13 = f"{sex}{yy}{mm}{dept}{commune}{order}"
    return first13 + f"{nir_key(first13):02d}"


def test_nir_takes_precedence_and_its_spellings_agree():
    nir = _valid_nir()
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    a = person_key(
        birth_name="Dupont", first_names="Marie", birth_date=BIRTH, sex="F", nir=nir, key=KEY
    )
    b = person_key(
        birth_name="Martin", first_names="M", birth_date=BIRTH, sex="F", nir=spaced, key=KEY
    )
    assert a == b


def test_an_invalid_nir_falls_back_to_the_identity():
    bad = _valid_nir()[:-2] + "00"
    with_bad = person_key(
        birth_name="Dupont", first_names="Marie", birth_date=BIRTH, sex="F", nir=bad, key=KEY
    )
    without = person_key(
        birth_name="Dupont", first_names="Marie", birth_date=BIRTH, sex="F", key=KEY
    )
    assert with_bad == without


def test_nir_checks():
    assert check_nir(_valid_nir()).valid
    assert check_nir(_valid_nir(dept="2A", commune="004")).valid
    assert check_nir(_valid_nir(dept="2B", commune="033")).valid
    assert check_nir(_valid_nir()[:-2] + "00").reason == "key"
    assert check_nir("12345").reason == "format"
    assert check_nir(_valid_nir(), sex="M").reason == "sex"
    assert check_nir(_valid_nir(), sex="F", birth_date=BIRTH).valid
    assert check_nir(_valid_nir(), birth_date=date(1985, 3, 7)).reason == "birth year"
    assert check_nir(_valid_nir(), birth_date=date(1984, 4, 7)).reason == "birth month"


def test_the_secret_never_shows_in_repr_or_logs(caplog, settings):
    secret = "super-secret-warehouse-key-do-not-leak-0123456789"
    settings.EDS_WAREHOUSE_KEY = secret
    key = keys.warehouse_key()
    assert secret not in repr(key)
    assert secret not in str(key)
    assert key.key_id.startswith("wk-")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("key in use: %s", key)
        person_key(birth_name="Dupont", first_names="Marie", birth_date=BIRTH, sex="F")
    assert secret not in caplog.text


def test_short_secrets_are_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        SecretKey(b"short", "x")
