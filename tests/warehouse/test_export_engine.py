"""The export engine on a generated warehouse (PostgreSQL in CI; the XXS size)."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.db import connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eds_portal.routers import vault_access
from warehouse import reference
from warehouse.export import (
    ExportError,
    ExportRequest,
    export_dataset,
    plan_run,
    pseudonym,
    publish,
    run_part,
    shift_days,
    verify_dataset,
)
from warehouse.export import engine as engine_module
from warehouse.export import manifest as manifest_module
from warehouse.export.plan import column_name
from warehouse.export.scrub import EMAIL, PHONE
from warehouse.models import Identity, Person

from .export_helpers import BASIC, KEY, OTHER_KEY, WAREHOUSE_SECRET, spec

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])


def request_for(specification, **options):
    options.setdefault("key", KEY)
    options.setdefault("quasi_identifiers", ())
    return ExportRequest(specification=specification, **options)


def csv_rows(folder: Path, table: str) -> list[str]:
    return (folder / f"{table}.csv").read_text(encoding="utf-8").splitlines()[1:]


def pseudonyms_in(folder: Path) -> set[str]:
    found = set()
    for path in folder.glob("*.parquet"):
        table = pq.read_table(path)
        if "person_pseudonym" in table.column_names:
            found |= set(table.column("person_pseudonym").to_pylist())
    return found


# --- Who is in the dataset ---------------------------------------------------------------------


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_excluded_person_ever_appears(data, keys_by_person, tmp_path_factory):
    keys = sorted(keys_by_person)
    excluded = frozenset(data.draw(st.lists(st.sampled_from(keys), max_size=300)))
    folder = tmp_path_factory.mktemp("excluded") / "dataset"
    parts = data.draw(st.integers(min_value=1, max_value=3))
    manifest = export_dataset(
        request_for(BASIC, excluded_person_keys=excluded, register_snapshot=42),
        target=folder,
        parts=parts,
    )
    delivered = pseudonyms_in(folder)
    assert not delivered & {pseudonym(KEY, key) for key in excluded}
    everyone_else = {pseudonym(KEY, key) for key in keys if key not in excluded}
    assert delivered == everyone_else  # every other person of the cohort (all, no criteria)
    assert manifest["cohort"]["excluded_by_objection"] == len(excluded)
    assert manifest["register_snapshot"] == 42
    # Nothing anywhere in the files names an excluded person's internal key either.
    blob = b"".join(path.read_bytes() for path in folder.iterdir())
    assert not any(key.encode() in blob for key in excluded)


def test_consent_based_project_takes_only_consenting_persons(keys_by_person, tmp_path):
    allowed = frozenset(sorted(keys_by_person)[:25])
    manifest = export_dataset(
        request_for(BASIC, allowed_person_keys=allowed), target=tmp_path / "consent"
    )
    assert pseudonyms_in(tmp_path / "consent") == {pseudonym(KEY, key) for key in allowed}
    assert manifest["consent_based"] is True
    assert manifest["cohort"]["excluded_without_consent"] == len(keys_by_person) - 25


def test_cohort_criteria_select_episodes_by_sql(keys_by_person, tmp_path):
    criteria = {
        "period_start": "2025-11-01",
        "period_end": "2025-11-30",
        "visit_kinds": ["VIS_HOME"],
    }
    specification = spec(("person.pseudonym", "exact"), ("visit.kind", "exact"), criteria=criteria)
    manifest = export_dataset(request_for(specification), target=tmp_path / "cohort")
    visits = pq.read_table(tmp_path / "cohort" / "visit_occurrence.parquet")
    assert set(visits.column("visit_kind").to_pylist()) == {"VIS_HOME"}
    from warehouse.cohort import cohort_visits
    from warehouse.export.engine import criteria_from_dict

    visits = cohort_visits(criteria_from_dict(criteria))
    assert manifest["rows"]["visit_occurrence"] == visits.count()
    assert manifest["rows"]["person"] == visits.values("person_id").distinct().count()


# --- What is in the dataset --------------------------------------------------------------------


def test_no_column_outside_the_specification_and_no_direct_identifier(keys_by_person, tmp_path):
    specification = spec(
        ("person.pseudonym", "exact"),
        ("person.residence", "region"),
        ("visit.association", "departement"),
        ("vitals.temperature", "exact"),
        ("call.reason", "exact"),
        ("call.notes", "excluded"),
        ("death.date", "month"),
    )
    export_dataset(request_for(specification), target=tmp_path / "ds")
    folder = tmp_path / "ds"
    allowed = {column_name(e["code"]) for e in specification["variables"]} - {"call_notes"}
    allowed |= {"visit_pseudonym"}  # the link between a person's episodes and their rows
    tables = set()
    for path in folder.glob("*.parquet"):
        tables.add(path.stem)
        assert set(pq.read_schema(path).names) <= allowed
        header = (folder / f"{path.stem}.csv").read_text().splitlines()[0].split(",")
        assert header == pq.read_schema(path).names
    assert tables == {"person", "visit_occurrence", "measurement", "observation", "death"}
    assert not (folder / "note.csv").exists()  # excluded free text: no file at all
    blob = b"".join(path.read_bytes() for path in folder.iterdir() if path.suffix == ".csv")
    with vault_access("tests"):
        identities = list(Identity.objects.values_list("birth_name", "nir", "person_key")[:200])
    for _birth_name, nir, person_key in identities:
        assert person_key.encode() not in blob
        if nir:
            assert nir.encode() not in blob
    assert WAREHOUSE_SECRET.encode() not in blob
    dictionary = (folder / "data_dictionary.csv").read_text(encoding="utf-8")
    assert "Région" in dictionary
    assert "Region" in dictionary


def test_same_key_same_pseudonyms_two_keys_disjoint(keys_by_person, tmp_path):
    export_dataset(request_for(BASIC), target=tmp_path / "one")
    export_dataset(request_for(BASIC), target=tmp_path / "again")
    export_dataset(request_for(BASIC, key=OTHER_KEY), target=tmp_path / "two")
    one, again, two = (pseudonyms_in(tmp_path / name) for name in ("one", "again", "two"))
    assert one == again
    assert len(one) == len(two) == len(keys_by_person)
    assert not one & two
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in one)


def test_the_key_is_never_in_sql_text(keys_by_person, tmp_path):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["warehouse"]) as queries:
        export_dataset(request_for(BASIC), target=tmp_path / "ds")
    assert queries.captured_queries
    for query in queries.captured_queries:
        assert "project-key-one" not in query["sql"]


def test_generalisations(keys_by_person, tmp_path):
    from zoneinfo import ZoneInfo

    from warehouse.models import VisitDetail, VisitOccurrence

    specification = spec(
        ("person.pseudonym", "exact"),
        ("person.birth_date", "year"),
        ("person.residence", "departement"),
        ("visit.start", "shifted_date"),
        ("visit.end", "week"),
        ("visit.association", "region"),
        ("call.received", "month"),
        ("diagnosis.date", "shifted_date"),
    )
    export_dataset(request_for(specification), target=tmp_path / "ds")
    folder = tmp_path / "ds"
    person = pq.read_table(folder / "person.parquet").to_pylist()
    by_pseudonym = {pseudonym(KEY, key): key for key in keys_by_person}
    departements = set(reference.departement_names())
    regions = set(reference.region_names())
    for row in person:
        source = Person.objects.get(person_source_value=by_pseudonym[row["person_pseudonym"]])
        assert row["person_birth_date"] == source.year_of_birth
        assert row["person_residence"] in departements
    visits = pq.read_table(folder / "visit_occurrence.parquet").to_pylist()
    paris = ZoneInfo("Europe/Paris")
    key_of = dict(Person.objects.values_list("person_id", "person_source_value"))

    def shifted_day(moment, key):
        # The local wall-clock day, moved by the person's whole number of weeks.
        return moment.astimezone(paris).date() + timedelta(days=shift_days(KEY, key))

    expected = Counter()
    for visit in VisitOccurrence.objects.all():
        key = key_of[visit.person_id]
        end = shifted_day(visit.visit_end_datetime, key).isocalendar()
        expected[
            pseudonym(KEY, key),
            shifted_day(visit.visit_start_datetime, key),
            f"{end[0]}-W{end[1]:02d}",
        ] += 1
    delivered = Counter()
    for row in visits:
        offset = shift_days(KEY, by_pseudonym[row["person_pseudonym"]])
        assert offset % 7 == 0
        assert offset != 0
        assert abs(offset) <= 91
        assert row["visit_association"] in regions
        delivered[row["person_pseudonym"], row["visit_start"], row["visit_end"]] += 1
    # The start is the shifted day (no time of day), the end the week OF THE SHIFTED DAY.
    assert delivered == expected
    months = Counter(
        pq.read_table(folder / "visit_detail.parquet").column("call_received").to_pylist()
    )
    from warehouse import codelists

    call = codelists.concept_ids("SOS_VISIT")["VIS_CALL"]
    expected_months = Counter()
    for detail in VisitDetail.objects.filter(visit_detail_concept_id=call):
        day = shifted_day(detail.visit_detail_start_datetime, key_of[detail.person_id])
        expected_months[f"{day.year}-{day.month:02d}"] += 1
    assert months == expected_months
    conditions = pq.read_table(folder / "condition_occurrence.parquet").to_pylist()
    assert all(isinstance(row["diagnosis_date"], type(datetime.now().date())) for row in conditions)


def test_free_text_is_scrubbed(keys_by_person, tmp_path):
    specification = spec(
        ("person.pseudonym", "exact"), ("call.notes", "scrubbed"), ("doctor.notes", "scrubbed")
    )
    manifest = export_dataset(request_for(specification), target=tmp_path / "ds")
    notes = pq.read_table(tmp_path / "ds" / "note.parquet").to_pylist()
    assert len(notes) == manifest["rows"]["note"] > 0
    by_pseudonym = {pseudonym(KEY, key): key for key in keys_by_person}
    with vault_access("tests"):
        identities = {row.person_key: row for row in Identity.objects.all()}
    markers = Counter()
    for row in notes:
        for text in (row["call_notes"], row["doctor_notes"]):
            if not text:
                continue
            markers.update(re.findall(r"\[[A-Z]+\]", text))
            identity = identities[by_pseudonym[row["person_pseudonym"]]]
            assert not EMAIL.search(text)
            assert not PHONE.search(text)
            if identity.nir:
                assert identity.nir not in text.replace(" ", "")
            assert identity.birth_date.strftime("%d/%m/%Y") not in text
            for name in (identity.birth_name, identity.used_name):
                if len(name) >= 3:
                    assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I), text
    # The generator puts identifying details in a few notes: the scrubber met them.
    assert markers["[NOM]"]
    assert markers["[TEL]"]


def test_small_cells_are_suppressed_and_reported_by_counts(keys_by_person, tmp_path):
    specification = spec(
        ("person.pseudonym", "exact"),
        ("person.sex", "exact"),
        ("person.birth_date", "five_year_band"),
        ("person.residence", "region"),
        ("visit.kind", "exact"),
    )
    request = ExportRequest(specification=specification, key=KEY, threshold=11)
    manifest = export_dataset(request, target=tmp_path / "ds")
    report = manifest["suppression"]
    assert report["quasi_identifiers"] == ["person.sex", "person.birth_date", "person.residence"]
    assert report["classes_below_threshold"] > 0
    assert report["persons_suppressed"] == len(keys_by_person) - manifest["rows"]["person"]
    classes = Counter(tuple(line.split(",")[1:]) for line in csv_rows(tmp_path / "ds", "person"))
    assert all(len(key) == 3 for key in classes)
    assert classes
    assert min(classes.values()) >= 11
    # A suppressed person is gone from every table, not only from the person file.
    people = set(pq.read_table(tmp_path / "ds" / "person.parquet").column(0).to_pylist())
    visits = set(pq.read_table(tmp_path / "ds" / "visit_occurrence.parquet").column(0).to_pylist())
    assert visits == people
    # Counts only: no value of a small class is written anywhere in the manifest.
    assert set(report) == {
        "threshold",
        "quasi_identifiers",
        "classes",
        "classes_below_threshold",
        "persons_suppressed",
        "event_quasi_identifiers",
    }


# --- Files, parts, publication ----------------------------------------------------------------


def test_manifest_checksums_verify_and_tampering_shows(keys_by_person, tmp_path):
    manifest = export_dataset(request_for(BASIC, register_snapshot=7), target=tmp_path / "ds")
    folder = tmp_path / "ds"
    assert verify_dataset(folder) == []
    names = {entry["name"] for entry in manifest["files"]}
    assert names == {p.name for p in folder.iterdir()} - {"manifest.json", "dataset.zip"}
    assert manifest["key_id"] == "pk-one"
    assert "project-key" not in json.dumps(manifest)
    assert manifest["specification"]["sha256"] == "f" * 64
    assert manifest["code_version"]
    for entry in manifest["files"]:
        if entry["name"].endswith(".parquet"):
            assert pq.read_metadata(folder / entry["name"]).num_rows == entry["rows"]
    with (folder / "person.csv").open("a") as handle:
        handle.write("x\n")
    assert verify_dataset(folder) == ["person.csv"]


def test_parts_assembled_equal_a_single_part_run(keys_by_person, tmp_path):
    specification = spec(
        ("person.pseudonym", "exact"),
        ("person.birth_date", "year"),
        ("visit.start", "shifted_date"),
        ("vitals.temperature", "exact"),
        ("vitals.heart_rate", "exact"),
        ("call.notes", "scrubbed"),
        ("association.departement", "departement"),
    )
    single = export_dataset(request_for(specification), target=tmp_path / "single")
    split = export_dataset(request_for(specification), target=tmp_path / "split", parts=4)
    assert split["parts"] == 4
    assert single["rows"] == split["rows"]
    for table in single["rows"]:
        one = sorted(csv_rows(tmp_path / "single", table))
        four = sorted(csv_rows(tmp_path / "split", table))
        assert one == four, table
        parquet_one = pq.read_table(tmp_path / "single" / f"{table}.parquet")
        parquet_four = pq.read_table(tmp_path / "split" / f"{table}.parquet")
        assert parquet_one.schema == parquet_four.schema
        assert sorted(map(str, parquet_one.to_pylist())) == sorted(
            map(str, parquet_four.to_pylist())
        )


def test_parts_in_any_order_publish_refuses_until_all_are_done(keys_by_person, tmp_path):
    request = request_for(BASIC)
    plan = plan_run(request, target=tmp_path / "ds", parts=3)
    plan = type(plan).from_dict(json.loads(json.dumps(plan.as_dict())))  # as a run row keeps it
    run_part(request, plan, 2)
    with pytest.raises(ExportError):
        publish(request, plan)
    first = run_part(request, plan, 0)
    assert run_part(request, plan, 0) == first  # a redelivered part does the same again
    run_part(request, plan, 1)
    publish(request, plan)
    assert verify_dataset(tmp_path / "ds") == []
    assert not Path(plan.staging).exists()
    with pytest.raises(ExportError):
        plan_run(request, target=tmp_path / "ds")


def test_a_failure_while_publishing_leaves_no_dataset(keys_by_person, tmp_path, monkeypatch):
    def broken(manifest, work):
        raise OSError("disk full")

    monkeypatch.setattr(manifest_module, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        export_dataset(request_for(BASIC), target=tmp_path / "ds")
    assert list(tmp_path.iterdir()) == []  # no dataset, no temporary folder, no parts


def test_a_failure_in_a_part_leaves_no_dataset(keys_by_person, tmp_path, monkeypatch):
    calls = []

    def broken(chunks, columns, csv_path, parquet_path):
        calls.append(csv_path.name)
        if len(calls) == 2:
            next(iter(chunks))  # in the middle of the COPY
            raise RuntimeError("worker lost")
        return original(chunks, columns, csv_path, parquet_path)

    original = engine_module.write_from_csv_stream
    monkeypatch.setattr(engine_module, "write_from_csv_stream", broken)
    with pytest.raises(RuntimeError, match="worker lost"):
        export_dataset(request_for(BASIC), target=tmp_path / "ds")
    assert list(tmp_path.iterdir()) == []
