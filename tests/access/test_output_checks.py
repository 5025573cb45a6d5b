"""The automatic disclosure checks on crafted tables: one table that must fail per rule, one
that must pass (issue 12, MIN-08, TRA-12)."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from openpyxl import Workbook

from access.outputs import checks
from access.outputs.checks import Rule

T = 11


def table(text: str) -> checks.Table:
    return checks.parse_csv(text.strip().encode("utf-8"))


def rules(found) -> set[str]:
    return {f.rule for f in found}


CLEAN = """
age band;boys;girls;Total
0-4;120;115;235
5-9;98;101;199
Total;218;216;434
"""


def test_clean_table_passes():
    assert checks.check_table(table(CLEAN), threshold=T) == []


def test_small_cell_fails_with_its_place():
    found = checks.check_table(table("age band;boys;girls\n0-4;4;120\n5-9;98;101"), threshold=T)
    assert [(f.rule, f.row, f.column, f.value) for f in found] == [
        (Rule.SMALL_CELL, "0-4", "boys", "4")
    ]


def test_threshold_itself_passes_and_suppressed_cells_are_skipped():
    found = checks.check_table(table("age;a;b\nx;11;<11\ny;50;*"), threshold=T)
    assert found == []


def test_french_number_formats_are_read():
    found = checks.check_table(table("age;a;b\nx;1 204;3,0\ny;50;60"), threshold=T)
    assert rules(found) == {Rule.SMALL_CELL}


def test_zero_fails_and_structural_zero_needs_a_justification():
    found = checks.check_table(
        table("sex;pregnant;not pregnant\nmale;0;120\nfemale;30;95"), threshold=T
    )
    assert [(f.rule, f.row, f.column) for f in found] == [(Rule.ZERO, "male", "pregnant")]


def test_full_cell_equal_to_its_row_total_fails():
    text = "commune;hospitalised;at home;Total\nA;40;0;40\nB;30;50;80"
    found = checks.check_table(table(text), threshold=T)
    assert Rule.FULL_CELL in rules(found)
    full = next(f for f in found if f.rule == Rule.FULL_CELL)
    assert (full.row, full.column) == ("A", "hospitalised")


def test_full_cell_equal_to_its_column_total_fails():
    text = "outcome;A;B\nhome;40;30\nhospital;0;50\nTotal;40;80"
    found = checks.check_table(table(text), threshold=T)
    assert (Rule.FULL_CELL, "home", "A") in {(f.rule, f.row, f.column) for f in found}


def test_percentages_without_denominators_fail():
    found = checks.check_table(table("age;% boys;% girls\n0-4;51.1;48.9"), threshold=T)
    assert rules(found) == {Rule.PERCENT_WITHOUT_DENOMINATOR}


def test_percentages_with_their_counts_pass():
    text = "age;boys;% boys\n0-4;120;51.1\n5-9;98;49.2"
    assert checks.check_table(table(text), threshold=T) == []


def test_differencing_with_a_released_table_fails():
    released = table("age;visits\n0-14;340\n15-64;1200")
    new = table("age;visits\n0-14;345\n15-64;1200")
    found = checks.check_table(new, threshold=T, released=[("EDS-1-R01", released)])
    assert [(f.rule, f.row, f.params["release"]) for f in found] == [
        (Rule.DIFFERENCING, "0-14", "EDS-1-R01")
    ]


def test_differencing_with_a_large_difference_passes():
    released = table("age;visits\n0-14;340")
    new = table("age;visits\n0-14;400")
    assert checks.check_table(new, threshold=T, released=[("R01", released)]) == []


MAGNITUDE_HEADER = "department;cost;cost__n;cost__top1;cost__top2"


def test_dominance_nk_fails():
    text = f"{MAGNITUDE_HEADER}\n75;10000;40;4800;4500"
    found = checks.check_table(table(text), threshold=T, magnitude=True)
    assert rules(found) == {Rule.DOMINANCE_NK}


def test_dominance_p_percent_fails():
    # The rest (200) lets the second contributor estimate the first (6000) within 10 %.
    text = f"{MAGNITUDE_HEADER}\n75;10000;40;6000;3800"
    found = checks.check_table(table(text), threshold=T, magnitude=True)
    assert rules(found) == {Rule.DOMINANCE_P, Rule.DOMINANCE_NK}


def test_magnitude_with_few_contributors_fails(english):
    text = f"{MAGNITUDE_HEADER}\n75;10000;4;3000;2800"
    found = checks.check_table(table(text), threshold=T, magnitude=True)
    assert rules(found) == {Rule.SMALL_CELL}
    with translation.override("en"):
        assert "contributors" in checks.describe(found[0].as_dict())


def test_magnitude_without_contributors_fails():
    found = checks.check_table(table("department;cost\n75;10000"), threshold=T, magnitude=True)
    assert rules(found) == {Rule.MISSING_CONTRIBUTORS}


def test_spread_magnitude_passes_and_is_released_without_its_companions():
    text = f"{MAGNITUDE_HEADER}\n75;10000;40;900;800\n92;8000;35;700;600"
    assert checks.check_table(table(text), threshold=T, magnitude=True) == []
    copy = checks.release_copy(text.strip().encode())
    assert copy.decode().splitlines() == ["department;cost", "75;10000", "92;8000"]


def test_figure_needs_declared_counts():
    assert rules(checks.check_declared_counts("", threshold=T)) == {Rule.MISSING_DECLARED_COUNTS}
    assert rules(checks.check_declared_counts("winter; 4\nsummer; 80", threshold=T)) == {
        Rule.SMALL_CELL
    }
    assert checks.check_declared_counts("winter: 40\nsummer: 80", threshold=T) == []


def test_xlsx_is_read_like_csv():
    workbook = Workbook()
    sheet = workbook.active
    for row in [["age", "boys", "girls"], ["0-4", 4, 120], ["5-9", 98, 101]]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    found = checks.check_table(checks.parse_xlsx(buffer.getvalue()), threshold=T)
    assert [(f.rule, f.row, f.column) for f in found] == [(Rule.SMALL_CELL, "0-4", "boys")]


@pytest.mark.parametrize("data", [b"", b"\xff\xfe\x00garbage", b"only a header"])
def test_unreadable_tables_are_refused(data):
    with pytest.raises(checks.TableUnreadable):
        checks.parse_csv(data)


def test_every_rule_is_described(settings):
    settings.LANGUAGE_CODE = "en"
    for rule in Rule:
        text = checks.describe(
            {"rule": rule, "row": "r", "column": "c", "value": "4", "params": {"threshold": 11}}
        )
        assert text, rule
        assert "%(" not in text, rule
