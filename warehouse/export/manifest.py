"""The dataset's manifest and data dictionary, and the assembly of parts (MIN-14, LOG-07).

The manifest is written last: a dataset without one is not a dataset. It names the approved
specification (its SHA-256 and version), the register snapshot the exclusions came from, the
project key by its id (never the key), the code that produced the files, every file with its
size, rows and SHA-256, and the small-cell report (counts only, never the values of a class).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import translation

from warehouse.catalogue import Generalisation

from .output import HashingFile, sha256_of
from .plan import DatasetPlan

MANIFEST = "manifest.json"
DICTIONARY = "data_dictionary.csv"
FORMAT_VERSION = 1


def canonical_sha256(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    base = Path(settings.BASE_DIR)
    if (base / ".git").exists():
        try:
            described = subprocess.run(
                ["git", "describe", "--always", "--dirty", "--tags"],  # noqa: S607
                cwd=base,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            if described:
                return described
        except (OSError, subprocess.SubprocessError):
            pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "eds-portal " + version("eds-portal")
    except PackageNotFoundError:
        import tomllib

        with (base / "pyproject.toml").open("rb") as handle:
            return "eds-portal " + tomllib.load(handle)["project"]["version"]


def _file_entry(path: Path, digest: str | None = None, rows: int | None = None) -> dict:
    entry = {"name": path.name, "bytes": path.stat().st_size, "sha256": digest or sha256_of(path)}
    if rows is not None:
        entry["rows"] = rows
    return entry


def assemble(dataset: DatasetPlan, plan, summaries: list[dict], work: Path) -> list[dict]:
    """The parts' files, one CSV and one Parquet per table, moved (one part) or concatenated."""
    entries = []
    for table in dataset.tables:
        pieces = [
            (plan.part_dir(summary["index"]), summary["tables"][table.table])
            for summary in summaries
            if table.table in summary["tables"]
        ]
        rows = sum(piece["rows"] for _, piece in pieces)
        csv_name, parquet_name = f"{table.table}.csv", f"{table.table}.parquet"
        if not table.person_linked and len(pieces) > 1:
            entries += _assemble_distinct(pieces, csv_name, parquet_name, work)
            continue
        if len(pieces) == 1:
            folder, piece = pieces[0]
            for name in (csv_name, parquet_name):
                os.rename(folder / name, work / name)
                entries.append(_file_entry(work / name, piece["files"][name], rows))
            continue
        sink = HashingFile(work / csv_name)
        for number, (folder, _piece) in enumerate(pieces):
            with (folder / csv_name).open("rb") as source:
                header = source.readline()
                if number == 0:
                    sink.write(header)
                for block in iter(lambda source=source: source.read(1 << 20), b""):
                    sink.write(block)
        entries.append(_file_entry(work / csv_name, sink.close(), rows))
        schema = pq.read_schema(pieces[0][0] / parquet_name)
        with pq.ParquetWriter(work / parquet_name, schema, compression="zstd") as writer:
            for folder, _piece in pieces:
                source = pq.ParquetFile(folder / parquet_name)
                for group in range(source.num_row_groups):
                    writer.write_table(source.read_row_group(group))
        entries.append(_file_entry(work / parquet_name, rows=rows))
    return entries


def _assemble_distinct(pieces, csv_name: str, parquet_name: str, work: Path) -> list[dict]:
    """A reference table (a few places, no person): every part has it, delivered once."""
    header, lines = b"", []
    for folder, _piece in pieces:
        with (folder / csv_name).open("rb") as source:
            header = source.readline()
            lines += source.read().splitlines()
    distinct = sorted(set(lines))
    sink = HashingFile(work / csv_name)
    sink.write(header + b"".join(line + b"\n" for line in distinct))
    entries = [_file_entry(work / csv_name, sink.close(), len(distinct))]
    tables = [pq.read_table(folder / parquet_name) for folder, _piece in pieces]
    combined = pa.concat_tables(tables)
    unique = combined.group_by(combined.column_names).aggregate([])
    pq.write_table(unique.select(combined.column_names), work / parquet_name, compression="zstd")
    entries.append(_file_entry(work / parquet_name, rows=unique.num_rows))
    return entries


def write_dictionary(dataset: DatasetPlan, work: Path) -> dict:
    by_code = {item.variable.code: item.variable for item in dataset.variables}
    path = work / DICTIONARY
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "table",
                "column",
                "variable",
                "label_fr",
                "label_en",
                "generalisation",
                "generalisation_fr",
                "generalisation_en",
                "type",
                "description_fr",
                "description_en",
            ]
        )
        for table in dataset.tables:
            for column in table.columns:
                variable = by_code[column.code]
                how = Generalisation(column.generalisation)
                with translation.override("fr"):
                    how_fr = str(how.label)
                with translation.override("en"):
                    how_en = str(how.label)
                writer.writerow(
                    [
                        table.table,
                        column.name,
                        variable.code,
                        variable.label_fr,
                        variable.label_en,
                        how.value,
                        how_fr,
                        how_en,
                        column.kind,
                        variable.description_fr,
                        variable.description_en,
                    ]
                )
        handle.flush()
        os.fsync(handle.fileno())
    return _file_entry(path)


def build(request, plan, dataset: DatasetPlan, summaries, files: list[dict]) -> dict:
    by_file = {entry["name"]: entry.get("rows") for entry in files}
    rows = {table.table: by_file[f"{table.table}.csv"] for table in dataset.tables}
    persons = rows.get("person")
    return {
        "format": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "specification": {
            "sha256": plan.spec_sha256,
            "version": request.specification.get("version"),
            "variables": [item.variable.code for item in dataset.variables],
        },
        "register_snapshot": request.register_snapshot,
        "consent_based": request.allowed_person_keys is not None,
        "key_id": request.key.key_id,
        "code_version": code_version(),
        "cohort": {
            "persons": plan.persons_in_cohort,
            "excluded_by_objection": plan.persons_excluded,
            "excluded_without_consent": plan.persons_without_consent,
            "delivered": persons,
        },
        "rows": rows,
        "suppression": plan.suppression,
        "parts": len(plan.parts),
        "files": files,
    }


def write(manifest: dict, work: Path) -> None:
    path = work / MANIFEST
    with path.open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def verify(folder: Path | str) -> list[str]:
    """Names of the files whose size or SHA-256 differs from the manifest (empty: all good)."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    wrong = []
    listed = {entry["name"] for entry in manifest["files"]}
    for entry in manifest["files"]:
        path = folder / entry["name"]
        intact = path.exists() and path.stat().st_size == entry["bytes"]
        if not intact or sha256_of(path) != entry["sha256"]:
            wrong.append(entry["name"])
    wrong += sorted(p.name for p in folder.iterdir() if p.name not in listed | {MANIFEST})
    return wrong
