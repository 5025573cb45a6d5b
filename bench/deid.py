"""Free-text de-identification on the gold corpus: recall and precision per kind of identifier,
overall, and notes per second on one core (issue 16). Written to bench/results/deid.json."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def run() -> dict[str, object]:
    from warehouse.deid.evaluation import evaluate

    report = evaluate()
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "deid": report.as_dict(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "deid.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result
