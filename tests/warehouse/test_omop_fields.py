"""The OMOP CDM v5.4 field list kept in the repository, and the check of an OMOP-shaped folder."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pytest
from django.utils import translation

from warehouse.export import omop

OFFICIAL = Path("/work/shared/data/omop/OMOP_CDMv5.4_Field_Level.csv")
COLUMNS = ["cdmTableName", "cdmFieldName", "isRequired", "cdmDatatype"]
TABLES = {
    "person",
    "observation_period",
    "visit_occurrence",
    "visit_detail",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
    "note",
    "death",
    "care_site",
    "provider",
    "location",
    "cdm_source",
    "concept",
}


@pytest.fixture(autouse=True)
def _english():
    """The problems are translated; these tests read their msgids."""
    with translation.override("en"):
        yield


def _copied_rows() -> list[list[str]]:
    with omop.FIELDS_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- The field list -------------------------------------------------------------------------


def test_the_copy_has_the_four_columns_and_the_tables_of_the_warehouse():
    rows = _copied_rows()
    assert rows[0] == COLUMNS
    assert {row[0] for row in rows[1:]} == TABLES
    assert set(omop.tables()) == TABLES


@pytest.mark.skipif(not OFFICIAL.exists(), reason="the official OHDSI field list is not here")
def test_every_copied_row_is_the_official_row_in_the_official_order():
    with OFFICIAL.open(encoding="utf-8", newline="") as handle:
        official = [
            [row[column] for column in COLUMNS]
            for row in csv.DictReader(handle)
            if row["cdmTableName"] in TABLES
        ]
    assert _copied_rows()[1:] == official


def test_fields_read_the_copy():
    person = omop.fields("person")
    assert person[0] == omop.OmopField("person_id", True, "integer")
    assert [f.name for f in person][:3] == ["person_id", "gender_concept_id", "year_of_birth"]
    assert omop.fields("person") is person  # read once
    visit = {f.name: f for f in omop.fields("visit_occurrence")}
    assert visit["visit_start_datetime"] == omop.OmopField(
        "visit_start_datetime", False, "datetime"
    )
    with pytest.raises(KeyError):
        omop.fields("payer_plan_period")


@pytest.mark.parametrize(
    ("datatype", "good", "bad"),
    [
        ("integer", ["0", "-12", "8507"], ["1.5", "x", "1e3", " 1"]),
        ("Integer", ["44818518"], ["one"]),
        ("float", ["36.6", "-1", "1e-3", ".5"], ["abc", "nan", "inf", "1_000", "1,5"]),
        ("date", ["2024-02-29"], ["2023-02-29", "2024-1-05", "20240105", "05/01/2024"]),
        (
            "datetime",
            ["2024-01-05T10:30:00Z", "2024-01-05T10:30", "2024-01-05 10:30:00.123+01:00"],
            ["2024-01-05", "2024-01-05T25:00:00", "yesterday"],
        ),
        ("varchar(3)", ["abc", "é"], ["abcd"]),
        ("varchar(MAX)", ["x" * 100_000], []),
    ],
)
def test_value_problem(datatype, good, bad):
    assert [omop.value_problem(datatype, v) for v in good] == [None] * len(good)
    assert all(omop.value_problem(datatype, v) for v in bad)


# --- check_folder ---------------------------------------------------------------------------


def _names(table: str) -> list[str]:
    return [f.name for f in omop.fields(table)]


def _write(folder: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    with (folder / name).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _person(person_id="1", **values) -> list[str]:
    row = dict.fromkeys(_names("person"), "")
    row.update(person_id=person_id, gender_concept_id="8507", year_of_birth="1980")
    row.update(race_concept_id="0", ethnicity_concept_id="0")
    row.update(values)
    return [row[name] for name in _names("person")]


def _death(**values) -> list[str]:
    row = dict.fromkeys(_names("death"), "")
    row.update(person_id="1", death_date="2024-03-01", death_datetime="2024-03-01T10:00:00Z")
    row.update(values)
    return [row[name] for name in _names("death")]


@pytest.fixture
def folder(tmp_path):
    """A folder that conforms: person and death, with a manifest the check does not read."""
    _write(tmp_path, "person.csv", _names("person"), [_person("1"), _person("2")])
    _write(tmp_path, "death.csv", _names("death"), [_death()])
    (tmp_path / "person.parquet").write_bytes(b"PAR1")
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    return tmp_path


def test_a_conforming_folder_has_no_problem(folder):
    assert omop.check_folder(folder) == []


def test_an_empty_table_is_not_a_problem(tmp_path):
    _write(tmp_path, "death.csv", _names("death"), [])
    assert omop.check_folder(tmp_path) == []


def test_a_missing_folder(tmp_path):
    assert omop.check_folder(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'}: not a folder"]


def test_a_file_that_is_not_an_omop_table(folder):
    _write(folder, "episodes.csv", ["id"], [["1"]])
    _write(folder, "PERSON.csv", _names("person"), [_person()])
    problems = omop.check_folder(folder)
    assert problems == [
        "PERSON.csv: “PERSON” is not an OMOP CDM v5.4 table",
        "episodes.csv: “episodes” is not an OMOP CDM v5.4 table",
    ]


def test_a_header_with_a_missing_column(folder):
    header = [name for name in _names("death") if name != "cause_source_value"]
    _write(folder, "death.csv", header, [_death()[: len(header)]])
    (problem,) = omop.check_folder(folder)
    assert problem.startswith("death.csv: the header differs from OMOP CDM v5.4")
    assert "missing: cause_source_value" in problem


def test_a_header_with_an_extra_column(folder):
    _write(folder, "death.csv", [*_names("death"), "pseudonym"], [[*_death(), "abc"]])
    (problem,) = omop.check_folder(folder)
    assert "not OMOP fields: pseudonym" in problem


def test_a_header_in_another_order(folder):
    names = _names("death")
    header = [names[1], names[0], *names[2:]]
    row = _death()
    _write(folder, "death.csv", header, [[row[1], row[0], *row[2:]]])
    (problem,) = omop.check_folder(folder)
    assert problem == (
        "death.csv: the header differs from OMOP CDM v5.4 "
        "(the fields are not in the official order)"
    )


def test_a_line_with_another_number_of_cells(folder):
    with (folder / "death.csv").open("a", encoding="utf-8") as handle:
        handle.write("1,2024-03-02\n")
    assert omop.check_folder(folder) == [
        "death.csv: 1 line(s) do not have 7 cells (the first: line 3)"
    ]


def test_a_required_field_empty_on_every_line(folder):
    _write(folder, "person.csv", _names("person"), [_person("1", year_of_birth="")] * 2)
    assert omop.check_folder(folder) == [
        "person.csv: year_of_birth is required by OMOP and empty on every line"
    ]


def test_a_required_field_the_caller_allows_to_be_null(folder):
    _write(folder, "person.csv", _names("person"), [_person("1", year_of_birth="")])
    assert omop.check_folder(folder, allowed_null={("person", "year_of_birth")}) == []
    # Allowing it in another table changes nothing.
    assert omop.check_folder(folder, allowed_null=[("death", "year_of_birth")]) != []


def test_a_required_field_empty_on_some_lines_only_is_not_reported_as_empty(folder):
    _write(folder, "person.csv", _names("person"), [_person("1"), _person("2", year_of_birth="")])
    assert omop.check_folder(folder) == []


def test_an_optional_field_may_be_empty_everywhere(folder):
    _write(folder, "death.csv", _names("death"), [_death(death_datetime="")])
    assert omop.check_folder(folder) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"person_id": "P-1"},
            "person.csv: person_id (integer): 1 value(s) not valid (expected: an integer), "
            "the first 'P-1' on line 2",
        ),
        (
            {"birth_datetime": "1980-05-02 ??"},
            "person.csv: birth_datetime (datetime): 1 value(s) not valid (expected: an ISO "
            "8601 date and time), the first '1980-05-02 ??' on line 2",
        ),
        (
            {"gender_source_value": "x" * 51},
            "person.csv: gender_source_value (varchar(50)): 1 value(s) not valid (expected: "
            f"at most 50 characters), the first '{'x' * 40}…' on line 2",
        ),
    ],
    ids=["integer", "datetime", "varchar"],
)
def test_values_not_of_the_datatype(folder, values, expected):
    _write(folder, "person.csv", _names("person"), [_person(**{"person_id": "1", **values})])
    assert omop.check_folder(folder) == [expected]


def test_dates_and_floats_are_checked(tmp_path):
    _write(tmp_path, "death.csv", _names("death"), [_death(death_date="01/03/2024")] * 3)
    names = _names("measurement")
    row = dict.fromkeys(names, "0")
    row.update(measurement_date="2024-03-01", measurement_datetime="", measurement_time="")
    row.update(value_as_number="38,5", measurement_source_value="8310-5")
    row.update(unit_source_value="", value_source_value="", range_low="", range_high="")
    row.update(operator_concept_id="", value_as_concept_id="", unit_concept_id="")
    row.update(provider_id="", visit_occurrence_id="", visit_detail_id="", measurement_event_id="")
    row.update(meas_event_field_concept_id="", unit_source_concept_id="")
    _write(tmp_path, "measurement.csv", names, [[row[n] for n in names]])
    assert omop.check_folder(tmp_path) == [
        "death.csv: death_date (date): 3 value(s) not valid (expected: a date YYYY-MM-DD), "
        "the first '01/03/2024' on line 2",
        "measurement.csv: value_as_number (float): 1 value(s) not valid (expected: a number), "
        "the first '38,5' on line 2",
    ]


def test_values_are_checked_under_their_column_even_when_the_header_is_reordered(folder):
    names = _names("death")
    header = [names[1], names[0], *names[2:]]
    row = _death(person_id="abc")
    _write(folder, "death.csv", header, [[row[1], row[0], *row[2:]]])
    problems = omop.check_folder(folder)
    assert len(problems) == 2
    assert "(expected: an integer), the first 'abc'" in problems[1]


def test_a_file_that_is_not_utf8(folder):
    (folder / "death.csv").write_bytes(",".join(_names("death")).encode() + b"\n1,\xe9\n")
    assert omop.check_folder(folder) == ["death.csv: not UTF-8 text"]


def test_an_empty_file(folder):
    (folder / "death.csv").write_bytes(b"")
    assert omop.check_folder(folder) == ["death.csv: empty file, without the header line"]


def test_a_long_note_text_is_read(tmp_path):
    names = _names("note")
    row = dict.fromkeys(names, "0")
    row.update(note_date="2024-03-01", note_datetime="", note_title="", note_source_value="")
    row.update(provider_id="", visit_occurrence_id="", visit_detail_id="", note_event_id="")
    row.update(note_event_field_concept_id="", note_text="mots " * 100_000)
    _write(tmp_path, "note.csv", names, [[row[n] for n in names]])
    assert omop.check_folder(tmp_path) == []


# --- cdm_source -----------------------------------------------------------------------------


def _source(**overrides):
    values = {
        "source_name": "Entrepôt CONTACT de SOS Médecins France",
        "abbreviation": "CONTACT",
        "holder": "SOS Médecins France",
        "description": "Soins non programmés : appels, visites à domicile, consultations.",
        "release_date": datetime.date(2025, 1, 15),
        "vocabulary_version": "v5.0 30-AUG-24",
    }
    values.update(overrides)
    return omop.cdm_source_row(**values)


def test_cdm_source_row_has_every_field_in_order():
    row = _source()
    assert list(row) == _names("cdm_source")
    assert row["cdm_version"] == "v5.4"
    assert row["cdm_version_concept_id"] == 756265
    assert row["source_release_date"] == row["cdm_release_date"] == "2025-01-15"
    assert row["source_documentation_reference"] is None


def test_cdm_source_row_passes_the_check(tmp_path):
    row = _source(cdm_release_date="2025-02-01", etl_reference="eds-portal 1.0")
    _write(
        tmp_path,
        "cdm_source.csv",
        list(row),
        [["" if v is None else str(v) for v in row.values()]],
    )
    assert omop.check_folder(tmp_path) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"abbreviation": "x" * 26}, "cdm_source_abbreviation: longer than 25"),
        ({"vocabulary_version": ""}, "vocabulary_version is required"),
        ({"holder": ""}, "cdm_holder is required"),
        ({"release_date": "15/01/2025"}, "release_date must be a date"),
        ({"cdm_version": "v5.3"}, "unknown CDM version"),
    ],
)
def test_cdm_source_row_refuses_what_omop_refuses(overrides, message):
    with pytest.raises(ValueError, match=message):
        _source(**overrides)
