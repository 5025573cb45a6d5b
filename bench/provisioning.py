# ruff: noqa: S608 (SQL from our own constants and concept ids, no input)
"""Provisioning benchmark: the export engine against hand-written SQL and a bare COPY.

Three child processes on the same warehouse and the same approved specification, one after
the other, each measured for its work time and its peak memory (VmHWM from /proc):

- A: ``COPY (SELECT <approved columns> ...) TO STDOUT`` of the same rows, into nothing: what
  reading the rows costs, without exclusion, pseudonyms, shifts or generalisation;
- B: the best hand-written export: the same person map computed in Python (pseudonyms and
  shifts, once per person) and loaded by COPY, opposed persons left out, k-anonymity
  suppression with a window function, generalisation in SQL, CSV files written by COPY;
- C: the engine (``warehouse.export.export_dataset``): Parquet, CSV, data dictionary and
  manifest, published atomically.

Then it checks that C and B delivered the same rows (sorted hashes of the CSV lines, table by
table) and writes bench/results/provisioning-postgresql-<size>.json. Targets: C/B <= 1.5,
C/A <= 4, peak memory of C under 300 MB. The ratios use the work time measured inside each
child (a worker is a long-lived process); process wall times are reported as well.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PERIOD = ("2025-01-01", "2025-12-31")
SPECIFICATION = {
    "variables": [
        {"code": "person.pseudonym", "generalisation": "exact"},
        {"code": "person.sex", "generalisation": "exact"},
        {"code": "person.birth_date", "generalisation": "year"},
        {"code": "person.residence", "generalisation": "departement"},
        {"code": "visit.kind", "generalisation": "exact"},
        {"code": "visit.start", "generalisation": "shifted_date"},
        {"code": "visit.end", "generalisation": "week"},
        {"code": "visit.association", "generalisation": "departement"},
        {"code": "diagnosis.icpc2", "generalisation": "exact"},
        {"code": "diagnosis.date", "generalisation": "shifted_date"},
        {"code": "vitals.temperature", "generalisation": "exact"},
        {"code": "vitals.heart_rate", "generalisation": "exact"},
        {"code": "vitals.spo2", "generalisation": "exact"},
    ],
    "refused": [],
    "criteria": {"period_start": PERIOD[0], "period_end": PERIOD[1]},
    "expected_persons": None,
    "access_months": 12,
    "recipients": [],
    "version": 1,
}
TABLES = ("person", "visit_occurrence", "condition_occurrence", "measurement")
# One person in a hundred has objected.
EXCLUDED_SQL = "SELECT person_source_value FROM person WHERE person_id % 100 = 7"


# --- Children ----------------------------------------------------------------------------------


def _django() -> None:
    import django

    django.setup()


def _inputs(path: str) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    from warehouse.keys import SecretKey

    data["key"] = SecretKey(bytes.fromhex(data["key_hex"]), "bench-project-key")
    data["excluded"] = frozenset(Path(data["excluded_file"]).read_text().split())
    return data


def _concept_ids(vocabulary: str, codes: str) -> str:
    from warehouse import codelists

    ids = codelists.concept_ids(vocabulary)
    wanted = ids.values() if codes == "*" else [ids[code] for code in codes.split("|")]
    return ", ".join(str(value) for value in sorted(wanted))


def _vitals() -> dict[str, str]:
    return {
        "temperature": _concept_ids("LOINC", "8310-5"),
        "heart_rate": _concept_ids("LOINC", "8867-4"),
        "spo2": _concept_ids("LOINC", "59408-5"),
    }


def child_a(data: dict) -> dict:
    """Bare COPY of the approved columns of the cohort's rows, read and dropped."""
    from django.db import connections, transaction

    period = f"visit_start_date BETWEEN '{PERIOD[0]}' AND '{PERIOD[1]}'"
    in_period = (
        f"visit_occurrence_id IN (SELECT visit_occurrence_id FROM visit_occurrence WHERE {period})"
    )
    vitals = _vitals()
    all_vitals = ", ".join(vitals.values())
    queries = {
        "person": "SELECT person_id, gender_concept_id, year_of_birth, location_id FROM person "
        f"WHERE person_id IN (SELECT person_id FROM visit_occurrence WHERE {period})",
        "visit_occurrence": "SELECT person_id, visit_concept_id, visit_start_datetime, "
        f"visit_end_datetime, care_site_id FROM visit_occurrence WHERE {period}",
        "condition_occurrence": "SELECT person_id, condition_source_value, condition_start_date "
        "FROM condition_occurrence WHERE condition_source_concept_id IN "
        f"({_concept_ids('ICPC2', '*')}) AND {in_period}",
        "measurement": "SELECT person_id, measurement_concept_id, value_as_number "
        f"FROM measurement WHERE measurement_concept_id IN ({all_vitals}) AND {in_period}",
    }
    started = time.perf_counter()
    rows = {}
    with transaction.atomic(using="warehouse"), connections["warehouse"].cursor() as cursor:
        for table, sql in queries.items():
            count = 0
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT") as copy:
                for chunk in copy:
                    count += bytes(chunk).count(b"\n")
            rows[table] = count
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_b(data: dict) -> dict:
    """Hand-written SQL export to CSV, with the same person map as the engine."""
    from django.db import connections, transaction

    from warehouse.export import pseudonym, shift_days

    key, excluded, out = data["key"], data["excluded"], Path(data["b_dir"])
    out.mkdir(parents=True, exist_ok=True)
    vitals = _vitals()
    icpc2 = _concept_ids("ICPC2", "*")
    started = time.perf_counter()
    rows = {}
    with transaction.atomic(using="warehouse"), connections["warehouse"].cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute("SET LOCAL TimeZone = 'Europe/Paris'")
        cursor.execute(
            "CREATE TEMP TABLE b_person (person_id bigint PRIMARY KEY, pseudonym varchar(32), "
            "shift_days integer) ON COMMIT DROP"
        )
        cursor.execute(
            "CREATE TEMP TABLE b_visit (visit_occurrence_id bigint PRIMARY KEY) ON COMMIT DROP"
        )
        raw = connections["warehouse"].connection
        with raw.cursor(name="b_persons") as persons:
            persons.execute(
                "SELECT person_id, person_source_value FROM person WHERE person_id IN "
                "(SELECT person_id FROM visit_occurrence WHERE visit_start_date BETWEEN %s AND %s)",
                PERIOD,
            )
            while batch := persons.fetchmany(20_000):
                with cursor.copy("COPY b_person FROM STDIN") as copy:
                    for person_id, person_key in batch:
                        if person_key not in excluded:
                            copy.write_row(
                                (person_id, pseudonym(key, person_key), shift_days(key, person_key))
                            )
        # k-anonymity on sex, birth year and département: classes below 11 persons go.
        cursor.execute(
            "DELETE FROM b_person WHERE person_id IN (SELECT person_id FROM ("
            " SELECT b.person_id, count(*) OVER (PARTITION BY p.gender_concept_id,"
            " p.year_of_birth, l.county) AS size FROM b_person b"
            " JOIN person p ON p.person_id = b.person_id"
            " LEFT JOIN location l ON l.location_id = p.location_id) classes WHERE size < 11)"
        )
        cursor.execute("ANALYZE b_person")
        cursor.execute(
            "INSERT INTO b_visit SELECT v.visit_occurrence_id FROM visit_occurrence v"
            " JOIN b_person b ON b.person_id = v.person_id"
            " WHERE v.visit_start_date BETWEEN %s AND %s",
            PERIOD,
        )
        cursor.execute("ANALYZE b_visit")
        queries = {
            "person": "SELECT b.pseudonym, c.concept_code, p.year_of_birth, l.county"
            " FROM person p JOIN b_person b ON b.person_id = p.person_id"
            " LEFT JOIN concept c ON c.concept_id = p.gender_concept_id"
            " LEFT JOIN location l ON l.location_id = p.location_id",
            "visit_occurrence": "SELECT b.pseudonym, c.concept_code,"
            " v.visit_start_datetime + b.shift_days * INTERVAL '1 day',"
            " to_char(v.visit_end_datetime, 'IYYY-\"W\"IW'), l.county"
            " FROM visit_occurrence v JOIN b_person b ON b.person_id = v.person_id"
            " JOIN b_visit bv ON bv.visit_occurrence_id = v.visit_occurrence_id"
            " LEFT JOIN concept c ON c.concept_id = v.visit_concept_id"
            " LEFT JOIN care_site s ON s.care_site_id = v.care_site_id"
            " LEFT JOIN location l ON l.location_id = s.location_id",
            "condition_occurrence": "SELECT b.pseudonym, o.condition_source_value,"
            " o.condition_start_date + b.shift_days"
            " FROM condition_occurrence o JOIN b_person b ON b.person_id = o.person_id"
            " JOIN b_visit bv ON bv.visit_occurrence_id = o.visit_occurrence_id"
            f" WHERE o.condition_source_concept_id IN ({icpc2})",
            "measurement": "SELECT b.pseudonym,"
            f" CASE WHEN m.measurement_concept_id IN ({vitals['temperature']})"
            " THEN m.value_as_number END,"
            f" CASE WHEN m.measurement_concept_id IN ({vitals['heart_rate']})"
            " THEN m.value_as_number END,"
            f" CASE WHEN m.measurement_concept_id IN ({vitals['spo2']})"
            " THEN m.value_as_number END"
            " FROM measurement m JOIN b_person b ON b.person_id = m.person_id"
            " JOIN b_visit bv ON bv.visit_occurrence_id = m.visit_occurrence_id"
            " WHERE m.measurement_concept_id IN"
            f" ({vitals['temperature']}, {vitals['heart_rate']}, {vitals['spo2']})",
        }
        for table, sql in queries.items():
            count = 0
            with (out / f"{table}.csv").open("wb") as handle:
                with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                    for chunk in copy:
                        handle.write(chunk)
                        count += bytes(chunk).count(b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            rows[table] = count
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_c(data: dict) -> dict:
    from warehouse.export import ExportRequest, export_dataset

    request = ExportRequest(
        specification=SPECIFICATION,
        key=data["key"],
        excluded_person_keys=data["excluded"],
        register_snapshot=1,
    )
    started = time.perf_counter()
    manifest = export_dataset(request, target=data["c_dir"], parts=int(data.get("parts", 1)))
    return {"seconds": time.perf_counter() - started, "rows": manifest["rows"]}


def _peak_rss_mb() -> float:
    # VmHWM: the peak resident set of this process since its exec. (getrusage's maxrss of a
    # child also counts the parent's pages the child was forked with.)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child_main(which: str, inputs: str, output: str) -> int:
    _django()
    data = _inputs(inputs)
    result = {"a": child_a, "b": child_b, "c": child_c}[which](data)
    result["peak_rss_mb"] = _peak_rss_mb()
    Path(output).write_text(json.dumps(result), encoding="utf-8")
    return 0


# --- Parent ------------------------------------------------------------------------------------


def _run_child(which: str, inputs: Path, folder: Path) -> dict:
    output = folder / f"result-{which}.json"
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (our own module)
        [sys.executable, "-m", "bench.provisioning", "--child", which, str(inputs), str(output)]
    )
    if process.wait() != 0:
        raise RuntimeError(f"benchmark child {which} failed ({process.returncode})")
    result = json.loads(output.read_text(encoding="utf-8"))
    result["process_seconds"] = time.perf_counter() - started
    return result


def _line_hashes(path: Path, skip_header: bool) -> array:
    hashes = array("Q")
    with path.open("rb") as handle:
        if skip_header:
            handle.readline()
        for line in handle:
            digest = hashlib.blake2b(line.rstrip(b"\n"), digest_size=8).digest()
            hashes.append(int.from_bytes(digest, "big"))
    return array("Q", sorted(hashes))


def run(size: str) -> dict:
    """Runs A, B and C on the bench warehouse (already generated) and writes the figures."""
    from django.conf import settings
    from django.db import connections

    if settings.DATABASE_BACKEND_LABEL != "PostgreSQL":
        print("provisioning benchmark: PostgreSQL only, skipped")
        return {}
    folder = Path(tempfile.mkdtemp(prefix="eds-bench-provisioning-"))
    try:
        with connections["warehouse"].cursor() as cursor:
            cursor.execute(EXCLUDED_SQL)
            excluded = [row[0] for row in cursor.fetchall()]
        (folder / "excluded.txt").write_text("\n".join(excluded), encoding="utf-8")
        inputs = folder / "inputs.json"
        inputs.write_text(
            json.dumps(
                {
                    "key_hex": secrets.token_hex(32),
                    "excluded_file": str(folder / "excluded.txt"),
                    "b_dir": str(folder / "b"),
                    "c_dir": str(folder / "c"),
                    "parts": os.environ.get("BENCH_PARTS", "1"),
                }
            ),
            encoding="utf-8",
        )
        os.chmod(inputs, 0o600)
        results = {which: _run_child(which, inputs, folder) for which in ("a", "b", "c")}
        same = {}
        for table in TABLES:
            c_hashes = _line_hashes(folder / "c" / f"{table}.csv", skip_header=True)
            b_hashes = _line_hashes(folder / "b" / f"{table}.csv", skip_header=False)
            same[table] = c_hashes == b_hashes and len(c_hashes) > 0
        c_rows = sum(results["c"]["rows"].get(table, 0) for table in TABLES)
        figures = {}
        for which, label in (("a", "raw_copy"), ("b", "hand_written_sql"), ("c", "engine")):
            result = results[which]
            rows = sum(result["rows"].values())
            figures[label] = {
                "rows": rows,
                "seconds": round(result["seconds"], 3),
                "rows_per_second": round(rows / result["seconds"]),
                "process_seconds": round(result["process_seconds"], 3),
                "peak_rss_mb": round(result["peak_rss_mb"], 1),
            }
        ratio_ca = results["c"]["seconds"] / results["a"]["seconds"]
        ratio_cb = results["c"]["seconds"] / results["b"]["seconds"]
        verdict = {
            "c_over_b": round(ratio_cb, 2),
            "c_over_a": round(ratio_ca, 2),
            "c_over_b_target": 1.5,
            "c_over_a_target": 4,
            "peak_rss_target_mb": 300,
            "same_rows_as_b": same,
            "within_targets": ratio_cb <= 1.5
            and ratio_ca <= 4
            and results["c"]["peak_rss_mb"] < 300
            and all(same.values()),
        }
        result = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "machine": {"cpus": os.cpu_count()},
            "database": settings.DATABASE_BACKEND_LABEL,
            "size": size,
            "variables": [variable["code"] for variable in SPECIFICATION["variables"]],
            "excluded_persons": len(excluded),
            "engine_rows_by_table": results["c"]["rows"],
            "engine_rows_compared": c_rows,
            **figures,
            **verdict,
        }
        RESULTS.mkdir(exist_ok=True)
        name = f"provisioning-{settings.DATABASE_BACKEND_LABEL.lower()}-{size}.json"
        (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        raise SystemExit(_child_main(*sys.argv[2:]))
    raise SystemExit("usage: python -m bench (the provisioning figures are part of make bench)")
