"""The dataset's manifest, data dictionary and archive, and the assembly of parts (MIN-14, LOG-07).

The manifest is written last: a dataset without one is not a dataset. It names the decision
that approved the specification (its number and the SHA-256 of its approved specification), the
protocol version and its content SHA-256, every variable with its generalisation, the register
snapshot the exclusions came from, the project key by its id (never the key), the code that
produced the files, every file with its size, rows and SHA-256, the persons of the cohort and
where they went (excluded by objection, without consent, suppressed by the small-cell check,
delivered), and the small-cell report (counts only, never the values of a class).

Besides the files, ``write_archive`` puts every file of the manifest and the manifest itself in
one zip (``dataset.zip``), for recipients who prefer one download; the archive is not listed in
the manifest (it contains it): its SHA-256 is kept with the run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import uuid
import zipfile
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import translation

from warehouse import catalogue, codelists
from warehouse.catalogue import Generalisation

from . import plan as plan_module
from .output import HashingFile, fsync_path, sha256_of
from .plan import DatasetPlan

MANIFEST = "manifest.json"
DICTIONARY = "data_dictionary.csv"
VALUE_LABELS = "value_labels.csv"
ARCHIVE = "dataset.zip"
# 2: the decision, variables as objects with their generalisation, the persons suppressed by
# the small-cell check, the tables' columns, the conventions, the value labels.
# 3: ``free_text``, the residual-risk note of scrubbed free text (null without free text).
FORMAT_VERSION = 3

# What the scrubber replaces, by marker (the manifest's ``free_text.replaced``): data, in both
# languages side by side.
REPLACED = {
    "NOM": (
        "noms (patient, proches, tiers, médecins)",
        "names (patient, relatives, third parties, doctors)",
    ),
    "TEL": ("numéros de téléphone", "phone numbers"),
    "EMAIL": ("adresses électroniques", "e-mail addresses"),
    "NIR": ("NIR/INS", "NIR/INS numbers"),
    "ADRESSE": ("adresses postales", "street addresses"),
    "CP": ("codes postaux", "postal codes"),
    "VILLE": ("villes qui situent une personne", "towns that locate a person"),
    "DATE": (
        "dates non décalables (naissance, illisibles, lointaines)",
        "dates that cannot be shifted (birth, unreadable, distant)",
    ),
    "DATE_SHIFTED": (
        "dates décalées comme les colonnes, à la précision approuvée",
        "dates shifted like the columns, at the approved precision",
    ),
    "HEURE": ("heures plus fines que celles approuvées", "times of day finer than approved"),
    "AGE": (
        "âges plus fins que la naissance approuvée, et 90 ans et plus",
        "ages finer than the approved birth date, and 90 and over",
    ),
    "ID": ("autres identifiants (modèle entraîné)", "other identifiers (trained model)"),
}

# How values are written in the files (the dictionary's "format" columns and the manifest's
# "conventions"): data, in both languages side by side, like the catalogue's labels.
TIMESTAMP_CONVENTION = "UTC, ISO 8601 with Z (2024-03-05T14:00:00Z)"
_FORMATS = {
    # kind or generalisation -> (French, English)
    "timestamp": (
        "Horodatage UTC, ISO 8601 avec Z (2024-03-05T14:00:00Z)",
        "Timestamp in UTC, ISO 8601 with Z (2024-03-05T14:00:00Z)",
    ),
    "date": ("Date ISO 8601 (2024-03-05)", "ISO 8601 date (2024-03-05)"),
    "week": ("Semaine ISO (2024-W10)", "ISO week (2024-W10)"),
    "month": ("Mois (2024-03)", "Month (2024-03)"),
    "five_year_band": ("Tranche de 5 ans (1980-1984)", "5-year band (1980-1984)"),
    "int": ("Entier", "Integer"),
    "float": ("Nombre décimal (point décimal)", "Decimal number (decimal point)"),
    "text": ("Texte UTF-8", "UTF-8 text"),
    "scrubbed": (
        "Texte UTF-8 nettoyé : identifiants remplacés par des marqueurs ([NOM], [TEL], [DATE]…), "
        "dates décalées comme les colonnes ([2026-06-01], [2026-W23] ou [2026-06]) ; voir "
        "free_text dans le manifeste",
        "Scrubbed UTF-8 text: identifiers replaced by markers ([NOM], [TEL], [DATE]…), dates "
        "shifted like the columns ([2026-06-01], [2026-W23] or [2026-06]); see free_text in the "
        "manifest",
    ),
}

# The code lists of coded variables: the vocabulary (warehouse/data/concepts.csv) whose codes
# a variable's column holds. The value labels file gives each code its French and English name.
VALUE_VOCABULARIES: dict[str, str] = {
    "person.sex": "Gender",
    "visit.kind": "SOS_VISIT",
    "call.reason": "SOS_REASON",
    "call.dispatch": "SOS_DISPATCH",
    "outcome.kind": "SOS_OUTCOME",
    "diagnosis.icpc2": "ICPC2",
    "diagnosis.icd10": "ICD10",
    "prescription.atc": "ATC",
    "procedure.code": "SOS_ACT",
    "death.cause": "ICD10",
}


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
                for block in iter(partial(source.read, 1 << 20), b""):
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


def _describe(column) -> tuple[str, str, str, str]:
    """Labels and descriptions of an output column: the plan's, the catalogue's, or its name."""
    describe = getattr(plan_module, "describe", None)
    if describe is not None:
        try:
            return describe(column)
        except (KeyError, LookupError):
            pass
    variable = catalogue.BY_CODE.get(column.code)
    if variable is not None:
        return (
            variable.label_fr,
            variable.label_en,
            variable.description_fr,
            variable.description_en,
        )
    return column.name, column.name, "", ""


def _generalisation_labels(value: str) -> tuple[str, str]:
    try:
        how = Generalisation(value)
    except ValueError:
        return value, value
    with translation.override("fr"):
        french = str(how.label)
    with translation.override("en"):
        english = str(how.label)
    return french, english


def _format_of(column) -> tuple[str, str]:
    if column.generalisation in _FORMATS:
        return _FORMATS[column.generalisation]
    return _FORMATS.get(column.kind, ("", ""))


def _fsynced_csv(path: Path, header: list[str], rows) -> dict:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
        handle.flush()
        os.fsync(handle.fileno())
    return _file_entry(path)


def write_dictionary(dataset: DatasetPlan, work: Path) -> dict:
    """The data dictionary: one row per column of every table, in French and English.

    Its ``format_fr``/``format_en`` columns say how values are written; timestamps are UTC,
    ISO 8601 with Z. Coded columns name their code list (``code_list``), whose labels are in
    ``value_labels.csv`` (``write_value_labels``).
    """
    rows = []
    for table in dataset.tables:
        for column in table.columns:
            label_fr, label_en, description_fr, description_en = _describe(column)
            how_fr, how_en = _generalisation_labels(column.generalisation)
            format_fr, format_en = _format_of(column)
            rows.append(
                [
                    table.table,
                    column.name,
                    column.code,
                    label_fr,
                    label_en,
                    column.generalisation,
                    how_fr,
                    how_en,
                    column.kind,
                    format_fr,
                    format_en,
                    VALUE_VOCABULARIES.get(column.code, ""),
                    description_fr,
                    description_en,
                ]
            )
    header = [
        "table",
        "column",
        "variable",
        "label_fr",
        "label_en",
        "generalisation",
        "generalisation_fr",
        "generalisation_en",
        "type",
        "format_fr",
        "format_en",
        "code_list",
        "description_fr",
        "description_en",
    ]
    return _fsynced_csv(work / DICTIONARY, header, rows)


def _value_of(column, concept: codelists.ConceptRow) -> str:
    # An OMOP-shaped column holds concept ids; the others hold the source codes.
    return str(concept.concept_id) if column.name.endswith("concept_id") else concept.concept_code


def write_value_labels(dataset: DatasetPlan, work: Path) -> dict:
    """Labels of the codes of every coded column: table, column, value, label_fr, label_en."""
    rows = []
    for table in dataset.tables:
        for column in table.columns:
            vocabulary = VALUE_VOCABULARIES.get(column.code)
            if vocabulary is None:
                continue
            concepts = [row for row in codelists.concepts() if row.vocabulary_id == vocabulary]
            for concept in sorted(concepts, key=lambda row: row.concept_code):
                rows.append(
                    [
                        table.table,
                        column.name,
                        _value_of(column, concept),
                        concept.name_fr,
                        concept.name_en,
                    ]
                )
    return _fsynced_csv(
        work / VALUE_LABELS, ["table", "column", "value", "label_fr", "label_en"], rows
    )


def _variables(dataset: DatasetPlan) -> list[dict]:
    """Every approved variable: where it is delivered, and under which generalisation."""
    variables = []
    for item in dataset.variables:
        code = item.variable.code
        places = [
            (table.table, column.name)
            for table in dataset.tables
            for column in table.columns
            if column.code == code
        ]
        # The variable's own table first (the pseudonym is in every table, its home is person).
        places.sort(key=lambda place: place[0] != item.variable.table)
        table, column = (places or [(item.variable.table, plan_module.column_name(code))])[0]
        variables.append(
            {
                "code": code,
                "table": table,
                "column": column,
                "generalisation": str(Generalisation(item.generalisation).value),
            }
        )
    return variables


def free_text(request, dataset: DatasetPlan, summaries) -> dict | None:
    """The residual-risk note of a dataset that delivers free text (None when it delivers none).

    What was scrubbed and how (the policy that follows the approved precision), what this run
    found and replaced per kind (counts added up from the parts), the pipeline's version and its
    recall and precision measured on the gold corpus (shipped as data: ``measured``), and the data
    steward's review of a random sample (who, when, how many notes).
    """
    from warehouse.deid.pipeline import VERSION, measured, model_path

    from .scrub import TextPolicy

    columns = [
        {"table": table.table, "column": column.name, "variable": column.code}
        for table in dataset.tables
        for column in table.columns
        if column.scrub
    ]
    if not columns:
        return None
    texts = changed = 0
    found: dict[str, int] = {}
    for summary in summaries:
        for entry in summary["tables"].values():
            counts = entry.get("scrubbed") or {}
            texts += int(counts.get("texts") or 0)
            changed += int(counts.get("texts_changed") or 0)
            for kind, count in (counts.get("identifiers") or {}).items():
                found[kind] = found.get(kind, 0) + int(count)
    policy = TextPolicy.from_generalisations(
        {item.variable.code: str(item.generalisation) for item in dataset.variables}
    )
    figures = measured()
    review = getattr(request, "text_review", None)
    return {
        "columns": columns,
        "replaced": {kind: {"fr": fr, "en": en} for kind, (fr, en) in REPLACED.items()},
        "policy": {
            "dates": policy.date.value,
            "ages": policy.age.value,
            "times_of_day": policy.time.value,
        },
        "texts": texts,
        "texts_changed": changed,
        "identifiers_found": dict(sorted(found.items())),
        "pipeline": {
            "version": VERSION,
            "trained_model": bool(model_path()),
            "evaluation": {
                "source": "warehouse/deid/data/measured.json",
                "measured_at": figures.get("measured_at"),
                "pipeline": figures.get("pipeline"),
                "notes": figures.get("notes"),
                "overall_recall": figures.get("overall_recall"),
                "overall_precision": figures.get("overall_precision"),
                "recall": figures.get("recall"),
                "precision": figures.get("precision"),
                "look_alikes_blanked": figures.get("look_alikes_blanked"),
                "look_alikes": figures.get("look_alikes"),
            },
        },
        "residual_risk": {
            "fr": "Le nettoyage automatique ne retire pas tout : un nom sans titre ni lien de "
            "parenté, une ville sans adresse, un surnom peuvent rester. Les textes ne doivent "
            "être ni diffusés ni recoupés avec d'autres sources ; tout élément identifiant trouvé "
            "est à signaler au gestionnaire des données.",
            "en": "Automatic scrubbing does not remove everything: a name without a title or "
            "kinship word, a town without an address, a nickname may remain. The texts must not "
            "be shared nor matched against other sources; report any identifying detail found "
            "to the data steward.",
        },
        "review": review,
    }


def build(request, plan, dataset: DatasetPlan, summaries, files: list[dict]) -> dict:
    by_file = {entry["name"]: entry.get("rows") for entry in files}
    rows = {table.table: by_file[f"{table.table}.csv"] for table in dataset.tables}
    suppression = plan.suppression or {}
    suppressed = int(suppression.get("persons_suppressed") or 0)
    persons = rows.get("person")
    if persons is None:
        # No person file: those the rules let through (admitted, outside the small classes).
        persons = (
            plan.persons_in_cohort
            - plan.persons_excluded
            - plan.persons_without_consent
            - suppressed
        )
    return {
        "format": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "decision": {
            "number": getattr(request, "decision_number", "") or "",
            "approved_specification_sha256": getattr(request, "decision_sha256", "") or "",
        },
        "specification": {
            "sha256": plan.spec_sha256,
            "version": request.specification.get("version"),
            "variables": _variables(dataset),
        },
        "register_snapshot": request.register_snapshot,
        "consent_based": request.allowed_person_keys is not None,
        "key_id": request.key.key_id,
        "code_version": code_version(),
        "cohort": {
            "persons": plan.persons_in_cohort,
            "excluded_by_objection": plan.persons_excluded,
            "excluded_without_consent": plan.persons_without_consent,
            "suppressed_small_cells": suppressed,
            "delivered": persons,
        },
        "rows": rows,
        "tables": [
            {
                "name": table.table,
                "files": [f"{table.table}.csv", f"{table.table}.parquet"],
                "columns": table.column_names,
            }
            for table in dataset.tables
        ],
        "conventions": {
            "timestamps": TIMESTAMP_CONVENTION,
            "dictionary": DICTIONARY,
            "value_labels": VALUE_LABELS if VALUE_LABELS in by_file else None,
        },
        "suppression": suppression,
        "free_text": free_text(request, dataset, summaries),
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


def _archive_members(folder: Path) -> list[str]:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return [entry["name"] for entry in manifest["files"]] + [MANIFEST]


def _archive_time(folder: Path) -> tuple[int, int, int, int, int, int]:
    """The manifest's creation time for every member, so that the archive is reproducible."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    try:
        moment = datetime.fromisoformat(manifest["created_at"])
    except (KeyError, TypeError, ValueError):
        return (1980, 1, 1, 0, 0, 0)
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, 0)


def write_archive(folder: Path | str) -> dict:
    """``dataset.zip``: every file of the manifest, then the manifest, in one archive.

    Written under a temporary name, fsynced, then renamed, so that a reader never sees half an
    archive. Parquet files are stored as they are (already compressed), the others deflated.
    Returns ``{"name", "bytes", "sha256"}``.
    """
    folder = Path(folder)
    members = _archive_members(folder)
    stamp = _archive_time(folder)
    temporary = folder / f".{ARCHIVE}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with zipfile.ZipFile(temporary, "w", allowZip64=True) as archive:
            for name in members:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.external_attr = 0o640 << 16
                info.compress_type = (
                    zipfile.ZIP_STORED if name.endswith(".parquet") else zipfile.ZIP_DEFLATED
                )
                # The fastest deflate: the archive must not weigh on publication time. (A
                # member given as a ZipInfo has no public level attribute before Python 3.13.)
                info._compresslevel = 1  # type: ignore[attr-defined]
                with (
                    (folder / name).open("rb") as source,
                    archive.open(info, "w", force_zip64=True) as sink,
                ):
                    for block in iter(partial(source.read, 1 << 20), b""):
                        sink.write(block)
        fsync_path(temporary)
        os.rename(temporary, folder / ARCHIVE)
        fsync_path(folder)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    path = folder / ARCHIVE
    return {"name": ARCHIVE, "bytes": path.stat().st_size, "sha256": sha256_of(path)}


def _archive_problems(folder: Path, manifest: dict, sha256: str) -> list[str]:
    """Whether the archive is the one recorded, and holds exactly the manifest's files."""
    path = folder / ARCHIVE
    if not path.is_file() or sha256_of(path) != sha256:
        return [ARCHIVE]
    expected = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    expected[MANIFEST] = sha256_of(folder / MANIFEST)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if sorted(names) != sorted(expected) or len(set(names)) != len(names):
                return [ARCHIVE]
            for name in names:
                digest = hashlib.sha256()
                with archive.open(name) as member:
                    for block in iter(partial(member.read, 1 << 20), b""):
                        digest.update(block)
                if digest.hexdigest() != expected[name]:
                    return [f"{ARCHIVE}:{name}"]
    except (zipfile.BadZipFile, OSError, EOFError):
        return [ARCHIVE]
    return []


def verify(folder: Path | str, *, archive_sha256: str | None = None) -> list[str]:
    """Names of the files whose size or SHA-256 differs from the manifest (empty: all good).

    The archive (``dataset.zip``) may sit beside the files; with ``archive_sha256`` (the one
    kept with the run) it must be there, have that SHA-256 and hold exactly the manifest's files
    and the manifest, each with its SHA-256.
    """
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    wrong = []
    listed = {entry["name"] for entry in manifest["files"]}
    for entry in manifest["files"]:
        path = folder / entry["name"]
        intact = path.exists() and path.stat().st_size == entry["bytes"]
        if not intact or sha256_of(path) != entry["sha256"]:
            wrong.append(entry["name"])
    wrong += sorted(p.name for p in folder.iterdir() if p.name not in listed | {MANIFEST, ARCHIVE})
    if archive_sha256 is not None:
        wrong += _archive_problems(folder, manifest, archive_sha256)
    return wrong
