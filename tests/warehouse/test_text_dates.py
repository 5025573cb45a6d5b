"""Dates in free text move with the person's date shift, at the approved precision (MIN-05).

A date the scrubber finds in a note ("le 4 mai", "04/05/2026", "le 4") becomes the shifted date,
so that the gap between it and the columns of the same episode is the real gap and the shift
is not given away; a date that cannot be read, a birth date, or a date far from the note's day
stays ``[DATE]``, and without an approved shifted date (or without a person) every date does.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from django.conf import settings as django_settings
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from warehouse import codelists
from warehouse.export import ExportRequest, export_dataset, shift_days
from warehouse.export.scrub import (
    DatePrecision,
    DateShift,
    ScrubCounts,
    TextPolicy,
    parse_text_date,
    replaced_kinds,
    scrub,
)
from warehouse.models import Note, Person, VisitOccurrence

from .export_helpers import KEY, spec

NOTE_DAY = date(2026, 5, 6)
SHIFT = DateShift(days=21, reference=NOTE_DAY)
DAY = TextPolicy(date=DatePrecision.DAY)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("04/05/2026", date(2026, 5, 4)),
        ("4/5/26", date(2026, 5, 4)),
        ("2026-05-04", date(2026, 5, 4)),
        ("4 mai 2026", date(2026, 5, 4)),
        ("4 mai", date(2026, 5, 4)),
        ("1er sept", date(2026, 9, 1)),
        ("le 4 mai", date(2026, 5, 4)),
        ("04/05", date(2026, 5, 4)),
        ("28/12", date(2025, 12, 28)),  # the nearest 28 December is the last one
        ("4", date(2026, 5, 4)),
        ("30", date(2026, 4, 30)),
        ("1er", date(2026, 5, 1)),
        ("31/02", None),
        ("mai 2026", None),
        ("demain", None),
    ],
)
def test_a_written_date_is_read_as_the_nearest_such_day(written, expected):
    assert parse_text_date(written, NOTE_DAY) == expected


def test_the_dates_of_a_note_are_shifted_like_the_columns():
    note = "Fievre depuis le 4 mai, vu le 04/05/2026, revu le 4/05. Rappeler le 12."
    assert scrub(note, None, DAY, shift=SHIFT) == (
        "Fievre depuis le [2026-05-25], vu le [2026-05-25], revu le [2026-05-25]. "
        "Rappeler le [2026-06-02]."
    )


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (DatePrecision.DAY, "vu le [2026-05-25]"),
        (DatePrecision.WEEK, "vu le [2026-W22]"),
        (DatePrecision.MONTH, "vu le [2026-05]"),
        (DatePrecision.NONE, "vu le [DATE]"),
    ],
)
def test_the_precision_is_the_approved_one(precision, expected):
    assert scrub("vu le 4 mai", None, TextPolicy(date=precision), shift=SHIFT) == expected


@pytest.mark.parametrize(
    ("approved", "precision"),
    [
        ({}, DatePrecision.NONE),
        ({"call.notes": "scrubbed", "person.birth_date": "year"}, DatePrecision.NONE),
        ({"visit.start": "shifted_date"}, DatePrecision.DAY),
        ({"call.received": "shifted_hour"}, DatePrecision.DAY),
        ({"visit.start": "week"}, DatePrecision.WEEK),
        ({"visit.start": "month"}, DatePrecision.MONTH),
        ({"visit.start": "month", "act.start": "week"}, DatePrecision.WEEK),
        ({"visit.start": "month", "act.start": "shifted_minute"}, DatePrecision.DAY),
    ],
)
def test_the_date_precision_follows_the_finest_approved_date(approved, precision):
    assert TextPolicy.from_generalisations(approved).date is precision


@pytest.mark.parametrize(
    "note",
    [
        "ddn 04/05/1985",  # a birth date: shifted, it would give the age to the day
        "nee le 4 mai",
        "date de naissance : 04/05/2026",
        "opere le 04/05/2019",  # too far from the note's day to be a step of the episode
        "vu en mai 2026",  # no day
    ],
)
def test_what_cannot_be_shifted_stays_a_placeholder(note):
    scrubbed = scrub(note, None, DAY, shift=SHIFT)
    assert "[DATE]" in scrubbed
    assert "[20" not in scrubbed


def test_without_a_shift_every_date_is_a_placeholder():
    note = "vu le 4 mai, revu le 04/05/2026"
    assert scrub(note, None, DAY) == "vu le [DATE], revu le [DATE]"
    assert scrub(note, None, TextPolicy(), shift=SHIFT) == "vu le [DATE], revu le [DATE]"


@pytest.mark.parametrize("precision", list(DatePrecision))
def test_scrubbing_twice_changes_nothing(precision):
    policy = TextPolicy(date=precision)
    note = "Vu le 4 mai, revu le 2026-05-04 et le 04/05, rappel le 12. Mme Durand."
    once = scrub(note, None, policy, shift=SHIFT)
    assert scrub(once, None, policy, shift=SHIFT) == once


@given(
    st.text(alphabet="0123456789/.-: lemaijuinsptdcbrx[]", max_size=40),
    st.integers(min_value=-91, max_value=91),
    st.dates(),
)
def test_any_text_any_shift_any_day_never_fails(text, days, reference):
    scrubbed = scrub(text, None, DAY, shift=DateShift(days, reference), entities=False)
    assert isinstance(scrubbed, str) or scrubbed == text


def test_clinical_fractions_are_not_dates():
    assert scrub("TA 14/9, EVA 7/10, 1/2 cp", None, DAY, shift=SHIFT) == (
        "TA 14/9, EVA 7/10, 1/2 cp"
    )


def test_replacements_are_counted_per_kind_never_kept():
    counts = ScrubCounts()
    original = "Mme Durand, tel 06 12 34 56 78, vue le 4 mai, ddn 03/04/1941"
    scrubbed = scrub(original, None, DAY, shift=SHIFT)
    counts.add(original, scrubbed)
    counts.add("RAS", "RAS")
    assert counts.as_dict() == {
        "texts": 2,
        "texts_changed": 1,
        "identifiers": {"DATE": 1, "DATE_SHIFTED": 1, "NOM": 1, "TEL": 1},
    }
    # A marker already in the note is not counted as found.
    assert replaced_kinds("[NOM] a appele", "[NOM] a appele") == Counter()


# --- Through the export engine ------------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "warehouse", "vault"])
def test_a_note_and_the_columns_of_its_episode_keep_the_real_gap(warehouse_rows, tmp_path):
    call = codelists.concept_ids("SOS")["NOTE_CALL"]
    note = Note.objects.filter(note_type_concept_id=call, visit_occurrence__isnull=False).first()
    assert note is not None
    visit = VisitOccurrence.objects.get(pk=note.visit_occurrence_id)
    paris = ZoneInfo(django_settings.TIME_ZONE)
    start = visit.visit_start_datetime.astimezone(paris).date()
    months = "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre"
    before = start - timedelta(days=2)
    text = (
        f"Fievre depuis le {before.day} {months.split()[before.month - 1]}, "
        f"appel le {start:%d/%m/%Y}."
    )
    with transaction.atomic(using="warehouse"):
        Note.objects.filter(pk=note.pk).update(note_text=text, note_date=start)
    specification = spec(
        ("person.pseudonym", "exact"),
        ("visit.start", "shifted_date"),
        ("call.notes", "scrubbed"),
    )
    manifest = export_dataset(
        ExportRequest(specification=specification, key=KEY, quasi_identifiers=()),
        target=tmp_path / "ds",
    )
    person_key = Person.objects.get(pk=note.person_id).person_source_value
    shift = shift_days(KEY, person_key)
    visits = pq.read_table(tmp_path / "ds" / "visit_occurrence.parquet").to_pylist()
    notes = pq.read_table(tmp_path / "ds" / "note.parquet").to_pylist()
    delivered = [row for row in notes if row["call_notes"] and "Fievre depuis" in row["call_notes"]]
    assert len(delivered) == 1
    row = delivered[0]
    starts = {v["visit_pseudonym"]: v["visit_start"] for v in visits}
    column_day = starts[row["visit_pseudonym"]]
    assert column_day == start + timedelta(days=shift)
    shifted_before = column_day - timedelta(days=2)
    assert row["call_notes"] == (
        f"Fievre depuis le [{shifted_before.isoformat()}], appel le [{column_day.isoformat()}]."
    )
    # The gaps are the real ones; the real dates are gone.
    assert start.isoformat() not in row["call_notes"]
    assert f"{start:%d/%m/%Y}" not in row["call_notes"]
    assert manifest["free_text"]["identifiers_found"]["DATE_SHIFTED"] >= 2
    assert manifest["free_text"]["policy"]["dates"] == "day"
