# ruff: noqa: S608 (SQL from our own constants and concept ids, no input)
"""Provisioning benchmark: the export engine against hand-written SQL and a bare COPY.

Three child processes on the same warehouse and the same approved specification, one after
the other, each measured for its work time and its peak memory (VmHWM from /proc):

- A: ``COPY (SELECT <approved columns> ...) TO STDOUT`` of the same rows, into nothing: what
  reading the rows costs, without exclusion, pseudonyms, shifts or generalisation;
- B: the best hand-written export: the same person map computed in Python (pseudonyms and
  shifts, once per person) and loaded by COPY, opposed persons left out, k-anonymity
  suppression with a window function, generalisation in SQL, CSV files written by COPY;
- C: the product's run through a REAL Celery worker on Redis: a published project whose
  decision approves the specification, the objections in the opposition register, then
  ``start_run`` by a data steward; a ``celery worker`` process (solo pool, its own queue)
  checks the gates, reads the register snapshot, plans, writes the parts, re-checks the
  register, publishes Parquet, CSV, data dictionary and manifest atomically, records the
  pseudonyms delivered and activates the project. C's time runs from ``start_run`` to the run
  row reading "published"; its memory is the worker process's peak (VmHWM), from its start.

Then it checks that C and B delivered the same rows (sorted hashes of the CSV lines, table by
table) and writes bench/results/provisioning-postgresql-<size>.json. Targets: C/B <= 1.5,
C/A <= 4, peak memory of C's worker under 300 MB. A and B are timed inside their child (a
worker is a long-lived process: its start-up is reported apart, not in the ratios); process
wall times are reported as well.
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
    from access.provisioning.keys import project_key

    # B uses the key the product derives for C's project: the same pseudonyms and shifts.
    data["key"] = project_key(data["reference"], 1)
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
    from warehouse.export.plan import keyed_params

    key, excluded, out = data["key"], data["excluded"], Path(data["b_dir"])
    seed = secrets.token_hex(16)
    # The episode pseudonym, HMAC in SQL with the padded keys as bind parameters (as C does).
    hmac_params = keyed_params(key)
    visit_pseudonym = (
        "left(encode(sha256(%(visit_o)s::bytea || sha256(%(visit_i)s::bytea || "
        "convert_to(v.visit_occurrence_id::text, 'UTF8'))), 'hex'), 32)"
    )
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
            "shift_days integer, rank bigint) ON COMMIT DROP"
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
                            name = pseudonym(key, person_key)
                            # The rows' order: drawn per run from a seed, as C orders them.
                            rank = (
                                int.from_bytes(
                                    hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8]
                                )
                                >> 1
                            )
                            copy.write_row((person_id, name, shift_days(key, person_key), rank))
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
        # Columns as the engine writes them: the person pseudonym, the episode pseudonym, then
        # the approved variables; every date from the shifted day; rows in the run's order.
        shifted_start = "(v.visit_start_datetime + b.shift_days * INTERVAL '1 day')::date"
        shifted_end = "(v.visit_end_datetime + b.shift_days * INTERVAL '1 day')::date"
        queries = {
            "person": "SELECT b.pseudonym, c.concept_code, p.year_of_birth, l.county"
            " FROM person p JOIN b_person b ON b.person_id = p.person_id"
            " LEFT JOIN concept c ON c.concept_id = p.gender_concept_id"
            " LEFT JOIN location l ON l.location_id = p.location_id ORDER BY b.rank",
            "visit_occurrence": f"SELECT b.pseudonym, {visit_pseudonym}, c.concept_code,"
            f" {shifted_start}, to_char({shifted_end}, 'IYYY-\"W\"IW'), l.county"
            " FROM visit_occurrence v JOIN b_person b ON b.person_id = v.person_id"
            " JOIN b_visit bv ON bv.visit_occurrence_id = v.visit_occurrence_id"
            " LEFT JOIN concept c ON c.concept_id = v.visit_concept_id"
            " LEFT JOIN care_site s ON s.care_site_id = v.care_site_id"
            " LEFT JOIN location l ON l.location_id = s.location_id ORDER BY b.rank",
            "condition_occurrence": "SELECT b.pseudonym,"
            f" {visit_pseudonym.replace('v.visit', 'o.visit')}, o.condition_source_value,"
            " o.condition_start_date + b.shift_days"
            " FROM condition_occurrence o JOIN b_person b ON b.person_id = o.person_id"
            " JOIN b_visit bv ON bv.visit_occurrence_id = o.visit_occurrence_id"
            f" WHERE o.condition_source_concept_id IN ({icpc2}) ORDER BY b.rank",
            "measurement": "SELECT b.pseudonym,"
            f" {visit_pseudonym.replace('v.visit', 'm.visit')},"
            f" CASE WHEN m.measurement_concept_id IN ({vitals['temperature']})"
            " THEN m.value_as_number END,"
            f" CASE WHEN m.measurement_concept_id IN ({vitals['heart_rate']})"
            " THEN m.value_as_number END,"
            f" CASE WHEN m.measurement_concept_id IN ({vitals['spo2']})"
            " THEN m.value_as_number END"
            " FROM measurement m JOIN b_person b ON b.person_id = m.person_id"
            " JOIN b_visit bv ON bv.visit_occurrence_id = m.visit_occurrence_id"
            " WHERE m.measurement_concept_id IN"
            f" ({vitals['temperature']}, {vitals['heart_rate']}, {vitals['spo2']})"
            " ORDER BY b.rank",
        }
        for table, sql in queries.items():
            count = 0
            with (out / f"{table}.csv").open("wb") as handle:
                statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
                params = hmac_params if "%(" in statement else None
                with cursor.copy(statement, params) as copy:
                    for chunk in copy:
                        handle.write(chunk)
                        count += bytes(chunk).count(b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            rows[table] = count
    return {"seconds": time.perf_counter() - started, "rows": rows}


WORKER_SCRIPT = """
import sys
import django
django.setup()
from eds_portal.celery import app
app.conf.task_default_queue = sys.argv[1]
app.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "-Q", sys.argv[1],
                 "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "-n", sys.argv[2]])
"""


def _vm_hwm_mb(pid: int | str = "self") -> float:
    # VmHWM: the peak resident set of the process since its exec. (getrusage's maxrss of a
    # child also counts the parent's pages the child was forked with.)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_c(data: dict) -> dict:
    """The product's run, started by the data steward, carried out by a real worker."""
    import socket
    import uuid

    from django.conf import settings

    from access.models_provisioning import ProvisioningRun, RunStatus
    from access.provisioning import runs
    from eds_portal.celery import app
    from eds_portal.models import User
    from projects.models import Project

    if settings.QUEUE_BACKEND_LABEL != "Redis":
        raise RuntimeError("benchmark C needs Redis: set REDIS_URL (or CELERY_BROKER_URL)")
    queue = f"bench-provisioning-{uuid.uuid4().hex[:8]}"
    node = f"{queue}@{socket.gethostname()}"
    app.conf.task_default_queue = queue
    log = (Path(data["c_dir"]).parent / "worker-c.log").open("w")
    spawned = time.perf_counter()
    worker = subprocess.Popen(  # noqa: S603 (our own script)
        [sys.executable, "-c", WORKER_SCRIPT, queue, node],
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        ready = False
        while not ready and time.perf_counter() - spawned < 120:
            if worker.poll() is not None:
                raise RuntimeError("the benchmark worker stopped; see worker-c.log")
            ready = bool(app.control.ping(destination=[node], timeout=0.5))
        if not ready:
            raise RuntimeError("the benchmark worker did not answer within two minutes")
        worker_start = time.perf_counter() - spawned
        project = Project.objects.get(pk=data["project_id"])
        steward = User.objects.get(pk=data["steward_id"])

        started = time.perf_counter()
        run = runs.start_run(project=project, by=steward)
        while True:
            status = ProvisioningRun.objects.filter(pk=run.pk).values_list("status", flat=True)[0]
            if status not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WRITING):
                break
            if worker.poll() is not None:
                raise RuntimeError("the benchmark worker stopped; see worker-c.log")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        run.refresh_from_db()
        if run.status != RunStatus.PUBLISHED:
            raise RuntimeError(f"run {run.pk} ended {run.status}: {run.reasons}")
        peak = _vm_hwm_mb(worker.pid)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    project.refresh_from_db()
    return {
        "seconds": seconds,
        "rows": run.manifest["rows"],
        "dataset": run.dataset_path,
        "worker_peak_rss_mb": peak,
        "worker_start_seconds": worker_start,
        "run_seconds": (run.finished_at - run.started_at).total_seconds(),
        "project_status": project.status,
        "persons_delivered": run.delivery.persons,
    }


def _child_main(which: str, inputs: str, output: str) -> int:
    _django()
    data = _inputs(inputs)
    result = {"a": child_a, "b": child_b, "c": child_c}[which](data)
    # C's memory is its worker's; its own process only waits.
    result["peak_rss_mb"] = result.pop("worker_peak_rss_mb", None) or _vm_hwm_mb()
    Path(output).write_text(json.dumps(result), encoding="utf-8")
    return 0


# --- Parent ------------------------------------------------------------------------------------


def _run_child(which: str, inputs: Path, folder: Path, env: dict | None = None) -> dict:
    output = folder / f"result-{which}.json"
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 (our own module)
        [sys.executable, "-m", "bench.provisioning", "--child", which, str(inputs), str(output)],
        env=env,
    )
    if process.wait() != 0:
        raise RuntimeError(f"benchmark child {which} failed ({process.returncode})")
    result = json.loads(output.read_text(encoding="utf-8"))
    result["process_seconds"] = time.perf_counter() - started
    return result


def _worker_env(folder: Path) -> dict:
    """C's child and its worker: Redis, a datasets folder of this run, no information window."""
    from django.conf import settings

    env = os.environ.copy()
    env.update(
        {
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL
            if settings.QUEUE_BACKEND_LABEL == "Redis"
            else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "EDS_DATASETS_DIR": str(folder / "datasets"),
            "EDS_INFORMATION_WINDOW_DAYS": "0",
            "EDS_PROVISIONING_PARTS": os.environ.get("BENCH_PARTS", "1"),
        }
    )
    return env


def _bench_user(email: str, name: str, role):
    from datetime import timedelta

    from django.utils import timezone

    from eds_portal.actions import grant_role
    from eds_portal.models import User

    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=None, full_name=name
    )
    grant_role(
        user=user,
        role=role,
        validated_by="bench",
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    return user


def _prepare_product(excluded: list[str]) -> dict:
    """A published project whose decision approves SPECIFICATION, and the objections.

    Built with the product's own actions (the demo's protocol), in the bench's databases; the
    information window is set to zero for C's worker (``_worker_env``).
    """
    from datetime import date

    from django.db import transaction
    from django.utils import timezone

    from access.formalities.actions import publish_project, record_formalities
    from access.models import EntryEffect, RequesterRole, RequestStatus, Scope
    from access.opposition import register
    from access.opposition.actions import Intake, submit_online_request
    from eds_portal.roles import Role
    from projects import workflow
    from projects.actions import check_admissibility
    from projects.demo import _complete_project, _sections_with
    from projects.models import Decision, Recommendation

    researcher = _bench_user("chercheuse@bench.eds", "Claire Chercheuse", Role.RESEARCHER)
    secretariat = _bench_user("secretariat@bench.eds", "Bureau des données", Role.SECRETARIAT)
    chair = _bench_user("presidente@bench.eds", "Présidente", Role.CHAIR)
    steward = _bench_user("steward@bench.eds", "Data steward", Role.DATA_STEWARD)
    stamp = time.strftime("%Y%m%d%H%M%S")
    project = _complete_project(
        researcher,
        _sections_with(
            identification={"lay_title": f"Banc d'essai {stamp}", "acronym": f"BENCH{stamp}"}
        ),
    )
    check_admissibility(project=project, by=secretariat, accept=True)
    recipients = [{"user_id": researcher.pk, "email": researcher.email, "name": "", "role": "lead"}]
    Decision.objects.create(
        number=f"BENCH-{project.pk}-{secrets.token_hex(2)}",
        project=project,
        version=project.versions.order_by("-number").first(),
        opinion=Recommendation.FAVOURABLE,
        reasons="Banc d'essai.",
        approved_specification={**SPECIFICATION, "recipients": recipients},
        signed_by=chair,
    )
    workflow.fire(project, "approve", by=chair)
    today = date.today()
    record_formalities(
        project=project,
        by=secretariat,
        formality_type="mr004",
        formality_reference=f"MR004-{project.reference}",
        formality_date=today,
        directory="hdh",
        directory_reference=f"HDH-{project.reference}",
        directory_date=today,
    )
    publish_project(project=project, by=secretariat)
    # The objections of the excluded persons, in the register C reads (earlier benchmark runs
    # on the same warehouse may have recorded some already).
    in_force = register.current_snapshot(purpose="benchmark set-up").all_reuse
    missing = [key for key in excluded if key not in in_force]
    if missing:
        with transaction.atomic(), transaction.atomic(using="vault"):
            request = submit_online_request(
                intake=Intake(
                    requester_role=RequesterRole.SELF,
                    scope=Scope.ALL,
                    projects=[],
                    reply_by_email=False,
                    identity={
                        "birth_name": "Banc",
                        "first_names": "Essai",
                        "sex": "F",
                        "birth_date": date(1970, 1, 1),
                        "birth_place": "Paris",
                        "contact_email": "",
                        "contact_address": "1 rue du Banc\n75001 Paris",
                    },
                ),
                origin="benchmark",
            )
            for key in missing:
                register.append_entry(
                    by=None,
                    request=request,
                    effect=EntryEffect.OBJECT,
                    person_key=key,
                    scope=Scope.ALL,
                    project_references=[],
                )
            # Its entries are written: the request is settled, not waiting for matching (a
            # pending objection holds every run, OPP-09).
            request.status = RequestStatus.APPLIED
            request.effective_at = timezone.now()
            request.save(update_fields=["status", "effective_at"])
    return {
        "project_id": project.pk,
        "reference": project.reference,
        "steward_id": steward.pk,
    }


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
        product = _prepare_product(excluded)
        inputs = folder / "inputs.json"
        inputs.write_text(
            json.dumps(
                {
                    **product,
                    "excluded_file": str(folder / "excluded.txt"),
                    "b_dir": str(folder / "b"),
                    "c_dir": str(folder / "c"),
                }
            ),
            encoding="utf-8",
        )
        os.chmod(inputs, 0o600)
        results = {which: _run_child(which, inputs, folder) for which in ("a", "b")}
        results["c"] = _run_child("c", inputs, folder, env=_worker_env(folder))
        c_dir = Path(results["c"]["dataset"])
        same = {}
        for table in TABLES:
            c_hashes = _line_hashes(c_dir / f"{table}.csv", skip_header=True)
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
            "engine_path": "start_run -> Celery worker on Redis (solo pool) -> published",
            "engine_parts": int(os.environ.get("BENCH_PARTS", "1")),
            "engine_worker_start_seconds": round(results["c"]["worker_start_seconds"], 2),
            "engine_run_row_seconds": round(results["c"]["run_seconds"], 3),
            "engine_persons_delivered": results["c"]["persons_delivered"],
            "engine_project_status": results["c"]["project_status"],
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
