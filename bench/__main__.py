"""Benchmarks: ``make bench``. Figures go to bench/results/<name>.json and to the terminal.

Speed is compared side by side in one run, as ratios, because these machines are noisy:
- generator: seconds and rows per second to generate a warehouse of the chosen size;
- feasibility: the time of a typical masked feasibility count, as a ratio of a bare
  ``COUNT(*)`` of the episodes measured in the same run (what the criteria cost);
- fill rates: the time to compute every catalogue fill rate, as the same ratio;
- deid: recall and precision of free-text scrubbing per kind on the gold corpus, notes/second.

Run against PostgreSQL (DATABASE_URL) for meaningful figures; BENCH_SIZE chooses the warehouse
(XS by default, S for the "under 2 minutes" target). It uses its own databases
(suffix _bench) and never touches the demo's.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eds_portal.settings")
    os.environ["DJANGO_ENV"] = "development"
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/eds_portal")
    if url.startswith("postgres"):
        base = url.rsplit("/", 1)[0]
        os.environ["DATABASE_URL"] = f"{base}/eds_bench"
        _create_databases(base, ["eds_bench", "eds_bench_warehouse", "eds_bench_vault"])
    else:
        os.environ["EDS_VAR_DIR"] = str(Path("var") / "bench")
    import django

    django.setup()
    from django.core.management import call_command

    for alias in ("default", "warehouse", "vault"):
        call_command("migrate", database=alias, verbosity=0)


def _create_databases(base: str, names: list[str]) -> None:
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(base + "/postgres")
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                conn.execute(f'CREATE DATABASE "{name}"')


def _timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    _setup()
    from django.conf import settings
    from django.db import connections

    from warehouse.cohort import CohortCriteria, feasibility_count
    from warehouse.selectors import compute_fill_rates
    from warehouse.synthetic.generator import generate

    size = os.environ.get("BENCH_SIZE", "XS")
    summary = generate(size=size, seed=1, replace=True)
    rows = sum(summary.rows.values())

    def baseline():
        with connections["warehouse"].cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM visit_occurrence")
            cursor.fetchone()

    criteria = CohortCriteria(
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        age_max=5,
        icpc2_codes=("R7",),
        visit_kinds=("VIS_HOME",),
    )
    base = statistics.median(_timed(baseline, 15))
    feasibility = statistics.median(_timed(lambda: feasibility_count(criteria), 15))
    rates = statistics.median(_timed(compute_fill_rates, 3))
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "database": settings.DATABASE_BACKEND_LABEL,
        "size": size,
        "generator": {
            "seconds": round(summary.seconds, 2),
            "episodes": summary.episodes,
            "rows": rows,
            "rows_per_second": round(rows / summary.seconds),
        },
        "count_star_seconds": round(base, 5),
        "feasibility": {
            "seconds": round(feasibility, 5),
            "ratio_to_count_star": round(feasibility / base, 1),
        },
        "fill_rates": {"seconds": round(rates, 4), "ratio_to_count_star": round(rates / base, 1)},
    }
    RESULTS.mkdir(exist_ok=True)
    name = f"warehouse-{settings.DATABASE_BACKEND_LABEL.lower()}-{size}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    from bench import provisioning

    provisioning_result = provisioning.run(size)
    if provisioning_result:
        json.dump(provisioning_result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    from bench import deid

    json.dump(deid.run(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
