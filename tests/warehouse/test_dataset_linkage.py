"""Datasets a researcher can join and nobody can link (issue 19): pseudonyms in every table,
identifiers keyed per project, rows in a per-run order, time at the approved precision, and no
pair of date columns that gives the date shift away."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest

from warehouse import catalogue
from warehouse.export import ExportRequest, export_dataset, pseudonym, shift_days
from warehouse.export.plan import keyed_pseudonym
from warehouse.models import Person, VisitOccurrence

from .export_helpers import KEY, OTHER_KEY, spec

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

PARIS = ZoneInfo("Europe/Paris")

# Every table the engine delivers, with variables whose rows reach each one.
MULTI_TABLE = spec(
    ("person.sex", "exact"),
    ("person.birth_date", "year"),
    ("observation_period.start", "shifted_date"),
    ("visit.kind", "exact"),
    ("visit.start", "shifted_date"),
    ("visit.doctor", "exact"),
    ("visit.association", "exact"),
    ("visit.preceding", "exact"),
    ("call.received", "shifted_date"),
    ("call.reason", "exact"),
    ("diagnosis.icpc2", "exact"),
    ("prescription.atc", "exact"),
    ("procedure.code", "exact"),
    ("vitals.temperature", "exact"),
    ("call.notes", "scrubbed"),
    ("death.date", "shifted_date"),
    ("association.departement", "departement"),
)


def export(tmp_path, specification, name="ds", key=KEY):
    request = ExportRequest(specification=specification, key=key, quasi_identifiers=())
    export_dataset(request, target=tmp_path / name)
    folder = tmp_path / name
    return {path.stem: pq.read_table(path) for path in folder.glob("*.parquet")}


def test_every_table_joins_on_the_pseudonyms(warehouse_rows, tmp_path):
    tables = export(tmp_path, MULTI_TABLE)
    assert set(tables) == {
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
    }
    persons = tables["person"].column("person_pseudonym").to_pylist()
    assert len(persons) == len(set(persons)) == Person.objects.count()
    episodes = tables["visit_occurrence"].column("visit_pseudonym").to_pylist()
    assert len(episodes) == len(set(episodes)) == VisitOccurrence.objects.count()
    owner = dict(
        zip(
            episodes, tables["visit_occurrence"].column("person_pseudonym").to_pylist(), strict=True
        )
    )
    for name, table in tables.items():
        if name == "care_site":
            continue
        rows = table.to_pylist()
        assert rows, name
        # Every row of every table finds its person, and every episode row its episode (of the
        # same person): the files join without any other key.
        assert {row["person_pseudonym"] for row in rows} <= set(persons), name
        if "visit_pseudonym" in table.column_names:
            for row in rows:
                assert owner[row["visit_pseudonym"]] == row["person_pseudonym"], name
    # The association of an episode is found in the care_site file by its pseudonym.
    sites = set(tables["care_site"].column("care_site_pseudonym").to_pylist())
    assert set(tables["visit_occurrence"].column("visit_association").to_pylist()) <= sites
    # A preceding episode is named by its pseudonym, the one its own row carries.
    preceding = {
        value for value in tables["visit_occurrence"].column("visit_preceding").to_pylist() if value
    }
    assert preceding
    assert preceding <= set(episodes)


def test_doctor_association_and_episode_ids_differ_between_projects(
    warehouse_rows,
    tmp_path,
):
    one = export(tmp_path, MULTI_TABLE, "one", KEY)["visit_occurrence"].to_pylist()
    two = export(tmp_path, MULTI_TABLE, "two", OTHER_KEY)["visit_occurrence"].to_pylist()
    raw = list(VisitOccurrence.objects.values_list("provider_id", "care_site_id"))
    warehouse_ids = {str(value) for pair in raw for value in pair if value is not None}
    for column in ("visit_doctor", "visit_association", "visit_pseudonym", "person_pseudonym"):
        first = {row[column] for row in one if row[column]}
        second = {row[column] for row in two if row[column]}
        assert first, column
        assert second, column
        assert not first & second, column  # nothing links the two projects' files
        assert not first & warehouse_ids, column  # and no warehouse id leaves
    # Within one project a doctor keeps one pseudonym: the same as the key computes.
    doctors = {row["visit_doctor"] for row in one if row["visit_doctor"]}
    expected = {keyed_pseudonym(KEY, "provider", provider) for provider, _site in raw if provider}
    assert doctors == expected


def _rank_correlation(first: list[int], second: list[int]) -> float:
    n = len(first)
    rank_a = {value: rank for rank, value in enumerate(sorted(first))}
    rank_b = {value: rank for rank, value in enumerate(sorted(second))}
    d2 = sum((rank_a[a] - rank_b[b]) ** 2 for a, b in zip(first, second, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_rows_are_shuffled_per_run(warehouse_rows, tmp_path):
    specification = spec(("person.sex", "exact"), ("visit.kind", "exact"))
    first = export(tmp_path, specification, "first")["person"].column(0).to_pylist()
    again = export(tmp_path, specification, "again")["person"].column(0).to_pylist()
    id_of = {
        pseudonym(KEY, key): pk
        for key, pk in Person.objects.values_list("person_source_value", "person_id")
    }
    ids = [id_of[value] for value in first]
    # The file's order says nothing of the warehouse's ids (it was 1.000 before)...
    assert abs(_rank_correlation(list(range(len(ids))), ids)) < 0.2
    # ...and two runs of the same project differ in order, not in content.
    assert sorted(first) == sorted(again)
    assert first != again


def test_default_delivery_has_no_time_of_day(warehouse_rows, tmp_path):
    timestamps = [
        variable
        for variable in catalogue.VARIABLES
        if catalogue.Generalisation.SHIFTED_MINUTE in variable.generalisations
    ]
    assert {variable.code for variable in timestamps} >= {"visit.start", "act.end"}
    specification = spec(*[(variable.code, variable.default) for variable in timestamps])
    tables = export(tmp_path, specification)
    folder = tmp_path / "ds"
    for variable in timestamps:
        assert variable.default == catalogue.Generalisation.SHIFTED_DATE
        table = tables[variable.table]
        name = variable.code.replace(".", "_")
        assert str(table.schema.field(name).type) == "date32[day]"
        # The CSV too: a day, no time.
        header, *lines = (folder / f"{variable.table}.csv").read_text().splitlines()
        position = header.split(",").index(name)
        values = {line.split(",")[position] for line in lines} - {""}
        assert values
        assert all(len(value) == 10 for value in values), name


@pytest.mark.parametrize(("how", "unit"), [("shifted_hour", "hour"), ("shifted_minute", "minute")])
def test_time_of_day_only_to_the_approved_precision(warehouse_rows, tmp_path, how, unit):
    tables = export(tmp_path, spec(("visit.start", how)))
    starts = tables["visit_occurrence"].column("visit_start").to_pylist()
    assert starts
    assert all(moment.second == 0 and moment.microsecond == 0 for moment in starts)
    if unit == "hour":
        # Whole hours in local time (and so in UTC for France's whole-hour offsets).
        assert all(moment.minute == 0 for moment in starts)
    else:
        assert any(moment.minute != 0 for moment in starts)
    # The CSV writes the same instants in UTC with a Z, as the dictionary says.
    header, *lines = (tmp_path / "ds" / "visit_occurrence.csv").read_text().splitlines()
    position = header.split(",").index("visit_start")
    written = [datetime.fromisoformat(line.split(",")[position]) for line in lines]
    assert all(line.split(",")[position].endswith("Z") for line in lines)
    assert sorted(written) == sorted(starts)


# --- No pair of date columns reveals the shift --------------------------------------------------

DATE_VARIABLES = [
    variable
    for variable in catalogue.VARIABLES
    if variable.exportable
    and catalogue.Generalisation.SHIFTED_DATE in variable.generalisations
    and variable.table in {"visit_occurrence", "visit_detail", "condition_occurrence"}
]


def _real_values(variable) -> dict[str, datetime | date]:
    """episode pseudonym (of KEY) -> the real value of the variable, for the concept it covers."""
    from django.apps import apps

    model = next(
        model
        for model in apps.get_app_config("warehouse").get_models()
        if model._meta.db_table == variable.table
    )
    rows = model.objects.all()
    if variable.concept_filter:
        from warehouse import codelists

        column, vocabulary, codes = variable.concept_filter
        ids = codelists.concept_ids(vocabulary)
        rows = rows.filter(**{f"{column}__in": [ids[code] for code in codes.split("|")]})
    values = defaultdict(list)
    for visit_id, value in rows.values_list("visit_occurrence_id", variable.column):
        if value is not None:
            values[keyed_pseudonym(KEY, "visit", visit_id)].append(value)
    return values


def _shifted_day(value, shift: int) -> date:
    day = value.astimezone(PARIS).date() if isinstance(value, datetime) else value
    return day + timedelta(days=shift)


def _generalised(value, shift: int, how: str):
    day = _shifted_day(value, shift)
    if how == "shifted_date":
        return day
    if how == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


@pytest.mark.parametrize(
    ("first", "second"),
    list(itertools.combinations([variable.code for variable in DATE_VARIABLES], 2)),
)
def test_no_pair_of_date_columns_gives_the_shift_away(
    warehouse_rows,
    tmp_path,
    first,
    second,
):
    """Each pair of date variables, under every pair of allowed day-level generalisations: every
    delivered value is the generalisation of the SHIFTED day, so the gap between two columns is
    the gap between the shifted days, which is the real gap: it carries no shift."""
    shift_of = {
        pseudonym(KEY, key): shift_days(KEY, key)
        for key in Person.objects.values_list("person_source_value", flat=True)
    }
    variables = [catalogue.BY_CODE[first], catalogue.BY_CODE[second]]
    real = [_real_values(variable) for variable in variables]
    choices = [("shifted_date", "week", "month")] * 2
    gaps = Counter()
    for how_a, how_b in itertools.product(*choices):
        name = f"{how_a}-{how_b}"
        tables = export(tmp_path, spec((first, how_a), (second, how_b)), name)
        for variable, how, values in zip(variables, (how_a, how_b), real, strict=True):
            column = variable.code.replace(".", "_")
            for row in tables[variable.table].to_pylist():
                if row[column] is None:
                    continue
                shift = shift_of[row["person_pseudonym"]]
                expected = {_generalised(v, shift, how) for v in values[row["visit_pseudonym"]]}
                assert row[column] in expected, (variable.code, how)
        if (how_a, how_b) == ("shifted_date", "shifted_date") and variables[0].table == (
            variables[1].table
        ):
            rows = tables[variables[0].table].to_pylist()
            a, b = (v.code.replace(".", "_") for v in variables)
            gaps.update(
                (row[b] - row[a]).days for row in rows if row[a] is not None and row[b] is not None
            )
    # The attack of the audit: gaps that are the persons' shifts (whole weeks, -13..+13, never
    # 0) on nearly every row. Here the gaps are the real ones (a day or two at most).
    if gaps:
        assert all(abs(gap) <= 2 for gap in gaps), gaps


@pytest.mark.parametrize(
    ("birth", "allowed_age"),
    [
        ("five_year_band", r"\[\d+-\d+ ans\]|\[90 ans et plus\]|\[0-4 ans\]"),
        (None, r"\[AGE\]"),
    ],
)
def test_notes_follow_the_approved_precision(warehouse_rows, tmp_path, birth, allowed_age):
    """Exact ages and times of day stay out of the notes unless the structured variables
    deliver them to that precision (the audit found 1,752 exact ages under a 5-year band)."""
    import re

    entries = [("call.notes", "scrubbed"), ("doctor.notes", "scrubbed"), ("visit.start", "week")]
    if birth:
        entries.append(("person.birth_date", birth))
    tables = export(tmp_path, spec(*entries))
    texts = [
        text
        for row in tables["note"].to_pylist()
        for text in (row["call_notes"], row["doctor_notes"])
        if text
    ]
    assert texts
    blob = "\n".join(texts)
    # No "47 ans" outside a bracketed marker, and no clock time.
    bare_ages = re.findall(r"(?<![\[\d-])\b\d{1,3} ?ans\b(?![^\[]*\])", blob)
    assert not bare_ages, bare_ages[:5]
    assert re.search(allowed_age, blob)
    assert not re.search(r"\b\d{1,2} ?[h:] ?\d{2}\b", blob)
