"""Free-text scrubbing (MIN-05): what identifies goes, what the clinician wrote stays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warehouse.export.scrub import AgePrecision, TextPolicy, name_pattern, scrub
from warehouse.synthetic.names import phone_number, street_address
from warehouse.synthetic.rand import stream


@pytest.mark.parametrize(
    "text",
    [
        "Rappeler au 06 12 34 56 78.",
        "Tél. 06.12.34.56.78",
        "Joignable au 0612345678",
        "N° de rappel : +33 6 12 34 56 78",
        "N° de rappel : +33612345678",
        "Rappeler au 01-45-67-89-12",
        "appel du 0033 1 45 67 89 12",
    ],
)
def test_phone_numbers_go(text):
    assert "[TEL]" in scrub(text)
    assert not any(ch.isdigit() for ch in scrub(text))


def test_every_phone_style_of_the_generator_goes():
    rng = stream(7, 0, 0)
    for _ in range(300):
        number = phone_number(rng)
        assert scrub(f"Rappeler au {number}.") == "Rappeler au [TEL].", number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail : jean.dupont42@orange.fr", "Mail : [EMAIL]"),
        ("écrire à m-c.le-gall@laposte.net svp", "écrire à [EMAIL] svp"),
    ],
)
def test_emails_go(text, expected):
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "nir",
    ["185057512345678", "1 85 05 75 123 456 78", "2 85 05 2A 123 456 12", "285052B12345612"],
)
def test_nir_goes_with_or_without_spaces(nir):
    assert scrub(f"NIR {nir}.") == "NIR [NIR]."
    assert scrub(f"Carte Vitale {nir}") == "Carte Vitale [NIR]"


@pytest.mark.parametrize(
    "text",
    [
        "Née le 03/04/1985.",
        "DDN 03.04.1985.",
        "Né le 3 avril 1985.",
        "le 1er mai 2001",
        "1985-04-03",
    ],
)
def test_dates_go(text):
    assert "[DATE]" in scrub(text)
    assert "1985" not in scrub(text)
    assert "2001" not in scrub(text)


def test_addresses_and_postal_codes_go():
    rng = stream(11, 0, 0)
    for _ in range(200):
        address = street_address(rng)
        result = scrub(f"Adresse : {address}, 75012.")
        assert result == "Adresse : [ADRESSE], [CP].", address


def test_clinical_text_stays():
    text = (
        "T° 38,5 prise à domicile. TA 120/80, FC 80/min, SpO2 97 %. Douleur cotée 7/10 "
        "depuis 48 h. Glycémie 1,20 g/l. Enfant de 7 ans, 2 jours de fièvre."
    )
    assert scrub(text, policy=TextPolicy(age=AgePrecision.YEAR)) == text
    # Without an approved birth date the age goes, and nothing else.
    assert scrub(text) == text.replace("7 ans", "[AGE]")


def test_names_from_the_vault_go_in_every_case_and_without_accents():
    names = name_pattern(["Lefèvre", "", "Marie-Hélène, Anne"])
    text = "Mme LEFEVRE, connue du cabinet. Marie-Hélène a appelé; Lefèvre rappelle. Hélène aussi."
    result = scrub(text, names)
    assert "LEFEVRE" not in result
    assert "Lefèvre" not in result
    assert "Marie" not in result
    assert "Hélène" not in result
    assert result.count("[NOM]") == 4


def test_particles_and_short_words_are_not_names():
    names = name_pattern(["de La Fontaine", "", "Al"])
    result = scrub("M. de La Fontaine, vu de la part de sa fille.", names)
    assert "Fontaine" not in result
    assert "de la part de sa fille" in result


def test_no_names_no_pattern():
    assert name_pattern(["", "  "]) is None
    assert scrub(None) is None
    assert scrub("") == ""


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200))
def test_scrub_never_fails_and_is_stable(text):
    once = scrub(text, name_pattern(["Martin", "Jean"]))
    assert scrub(once, name_pattern(["Martin", "Jean"])) == once
