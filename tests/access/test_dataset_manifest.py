"""The dataset's manifest bound to the decision, its data dictionary and value labels, the
archive of the files, and the figures the run page and the recipients' pages give in words.

Issue 19: a dataset answers "under which decision, with which variables at which precision, how
many persons left and why the others did not"; the run keeps the manifest's SHA-256 and the
archive's, which the pages show.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import links, summary
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import TeamMembership, TeamRole
from tests.access.provisioning_helpers import DBS, published, run_everything, specification
from tests.conftest import login
from tests.factories import DecisionFactory
from warehouse import catalogue, codelists
from warehouse.export import manifest as manifest_module

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


@pytest.fixture
def researcher(make_user):
    """The named recipient, enrolled in two-factor login."""
    return make_user(
        Role.RESEARCHER, full_name="Rita Researcher", email="rita@inserm.example", device=True
    )


@pytest.fixture
def project(researcher, secretariat, chair):
    return published(researcher, secretariat, chair)


def new_run(project, data_steward) -> ProvisioningRun:
    created = ProvisioningRun.objects.create(project=project, started_by=data_steward)
    done = run_everything(created.pk)
    assert done.status == RunStatus.PUBLISHED, done.reasons
    return done


@pytest.fixture
def run(project, data_steward):
    return new_run(project, data_steward)


def manifest_file(run) -> dict:
    return json.loads((Path(run.dataset_path) / "manifest.json").read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def content_of(response) -> bytes:
    body = b"".join(response.streaming_content)
    for closer in response._resource_closers:
        closer()
    return body


# --- 1. The manifest names the decision, the variables and the persons ------------------------


def test_the_manifest_names_the_decision_the_variables_and_where_the_persons_went(run):
    manifest = manifest_file(run)
    assert manifest == run.manifest
    assert manifest["format"] == manifest_module.FORMAT_VERSION >= 2
    assert manifest["decision"] == {
        "number": run.decision.number,
        "approved_specification_sha256": run.decision.specification_sha256,
    }
    assert manifest["specification"]["version"] == 1
    assert manifest["specification"]["sha256"] == run.spec_sha256
    variables = {entry["code"]: entry for entry in manifest["specification"]["variables"]}
    assert variables["visit.start"] == {
        "code": "visit.start",
        "table": "visit_occurrence",
        "column": "visit_start",
        "generalisation": "shifted_date",
    }
    assert variables["person.sex"]["generalisation"] == "exact"
    assert variables["person.pseudonym"]["table"] == "person"
    assert set(variables) == {entry["code"] for entry in specification([])["variables"]}
    cohort = manifest["cohort"]
    assert cohort["suppressed_small_cells"] == manifest["suppression"]["persons_suppressed"]
    assert cohort["delivered"] == manifest["rows"]["person"] > 0
    assert cohort["persons"] == (
        cohort["excluded_by_objection"]
        + cohort["excluded_without_consent"]
        + cohort["suppressed_small_cells"]
        + cohort["delivered"]
    )
    assert manifest["conventions"]["timestamps"].startswith("UTC, ISO 8601 with Z")
    person = next(table for table in manifest["tables"] if table["name"] == "person")
    assert "person_pseudonym" in person["columns"]
    assert person["files"] == ["person.csv", "person.parquet"]


def test_small_cell_suppression_is_counted_in_the_manifest(project, data_steward, settings):
    # Every class of the tiny warehouse is below this threshold: everyone is suppressed.
    settings.EDS_SMALL_CELL_THRESHOLD = 10_000
    run = new_run(project, data_steward)
    cohort = run.manifest["cohort"]
    assert cohort["persons"] > 0
    assert cohort["suppressed_small_cells"] == cohort["persons"] - cohort["excluded_by_objection"]
    assert cohort["delivered"] == 0
    with translation.override("en"):
        sentence = summary.cohort_sentence(run.manifest)
    assert f"{cohort['suppressed_small_cells']:,} (100%) removed by the small-cell check" in (
        sentence
    )


def test_a_corrected_decision_on_the_same_version_gives_a_different_manifest(
    project, run, chair, data_steward
):
    first = run.decision
    correction = DecisionFactory(
        project=project,
        version=first.version,
        approved_specification=first.approved_specification,
        signed_by=chair,
        supersedes=first,
        reasons="Rectification d'une erreur matérielle.",
    )
    second = new_run(project, data_steward)
    assert second.decision == correction
    assert second.decision.version == first.version
    # Same approved specification, same protocol hash: only the decision tells them apart...
    assert second.manifest["specification"]["sha256"] == run.manifest["specification"]["sha256"]
    assert second.manifest["decision"]["number"] == correction.number != first.number
    # ...and it is enough for the manifests (and the hashes kept with the runs) to differ.
    assert second.manifest["decision"] != run.manifest["decision"]
    assert second.manifest_sha256 != run.manifest_sha256


# --- 2. The run keeps the manifest's SHA-256; the pages say the figures in words --------------


def test_the_run_keeps_the_sha256_of_the_manifest_and_of_the_archive(run):
    folder = Path(run.dataset_path)
    assert (
        run.manifest_sha256 == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    )
    archive = (folder / "dataset.zip").read_bytes()
    assert run.archive_sha256 == hashlib.sha256(archive).hexdigest()
    assert run.archive_bytes == len(archive)
    published = AuditEvent.objects.get(action="provisioning.published", target_id=str(run.pk))
    assert published.after["manifest_sha256"] == run.manifest_sha256
    assert published.after["archive_sha256"] == run.archive_sha256
    assert published.after["decision"] == run.decision.number


def test_the_cohort_figures_in_words():
    manifest = {
        "cohort": {
            "persons": 1833,
            "excluded_by_objection": 12,
            "excluded_without_consent": 0,
            "suppressed_small_cells": 632,
            "delivered": 1189,
        },
        "consent_based": False,
    }
    with translation.override("en"):
        assert summary.cohort_sentence(manifest) == (
            "1,833 persons in the cohort, 12 excluded after objection, 632 (34%) removed by "
            "the small-cell check, 1,189 delivered"
        )
        consent = {**manifest, "consent_based": True}
        assert "0 without consent" in summary.cohort_sentence(consent)
        # A manifest of format 1: the persons suppressed only in the small-cell report.
        old = {
            "cohort": {"persons": 10, "excluded_by_objection": 1, "delivered": 6},
            "suppression": {"persons_suppressed": 3},
        }
        assert summary.cohort_sentence(old) == (
            "10 persons in the cohort, 1 excluded after objection, 3 (30%) removed by the "
            "small-cell check, 6 delivered"
        )
        assert summary.cohort_sentence({}) == ""


def test_the_run_page_gives_the_figures_the_decision_and_the_generalisations(
    client, run, researcher
):
    login(client, researcher)
    page = client.get(reverse("provisioning_run", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    cohort = run.manifest["cohort"]
    assert f"{cohort['persons']:,} persons in the cohort" in body
    assert f"{cohort['excluded_by_objection']} excluded after objection" in body
    assert "removed by the small-cell check" in body
    assert f"{cohort['delivered']:,} delivered" in body
    assert f"Decision {run.decision.number}" in body
    assert run.decision.specification_sha256 in body
    assert run.manifest_sha256 in body
    assert run.archive_sha256 in body
    # Every variable with its generalisation, in words.
    assert "Episode start" in body
    assert "<code>visit_occurrence.visit_start</code>" in body
    assert "Shifted date" in body


@pytest.mark.parametrize("persona", ["researcher", "analyst", "data_steward", "dpo"])
def test_the_team_and_the_staff_who_follow_see_the_figures(
    client, run, make_user, request, persona
):
    if persona == "analyst":
        user = make_user(Role.RESEARCHER, full_name="Ana Analyst")
        TeamMembership.objects.create(project=run.project, user=user, role=TeamRole.ANALYST)
    else:
        user = request.getfixturevalue(persona)
    login(client, user)
    body = client.get(reverse("provisioning_run", args=[run.pk])).content.decode()
    assert "persons in the cohort" in body
    assert run.manifest_sha256 in body


def test_the_recipients_project_pages_give_the_dataset_in_force_in_words(client, run, researcher):
    login(client, researcher)
    for url in (
        reverse("project_detail", args=[run.project.pk]),
        reverse("provisioning_project", args=[run.project.pk]),
    ):
        body = client.get(url).content.decode()
        assert f"Dataset in force: run {run.pk}" in body, url
        assert "persons in the cohort" in body, url
        assert run.manifest_sha256 in body, url
        assert f"Decision {run.decision.number}" in body, url


@pytest.mark.parametrize("persona", ["other_researcher", "secretariat", "outsider"])
def test_others_do_not_see_the_figures(client, run, make_user, request, persona):
    if persona == "other_researcher":
        user = make_user(Role.RESEARCHER, full_name="Oscar Other")
    else:
        user = request.getfixturevalue(persona)
    login(client, user)
    response = client.get(reverse("provisioning_run", args=[run.pk]))
    assert response.status_code in (403, 404)
    assert run.manifest_sha256 not in response.content.decode()


def test_a_run_published_before_still_renders(client, run, researcher):
    """A format-1 manifest: codes only, no decision, no hash of the manifest or archive."""
    old = {
        "format": 1,
        "specification": {
            "sha256": run.spec_sha256,
            "version": 1,
            "variables": ["person.pseudonym", "person.sex", "visit.start"],
        },
        "cohort": {"persons": 40, "excluded_by_objection": 2, "delivered": 38},
        "suppression": {"persons_suppressed": 0},
        "rows": run.manifest["rows"],
        "files": run.manifest["files"],
        "key_id": run.key_id,
        "register_snapshot": 0,
    }
    ProvisioningRun.objects.filter(pk=run.pk).update(
        manifest=old, manifest_sha256="", archive_sha256="", archive_bytes=None
    )
    login(client, researcher)
    for url in (
        reverse("provisioning_run", args=[run.pk]),
        reverse("project_detail", args=[run.project.pk]),
        reverse("provisioning_project", args=[run.project.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "40 persons in the cohort, 2 excluded after objection" in body, url
        assert "not recorded (dataset published before the manifest" in body, url
        assert f"Decision {run.decision.number} (recorded with the run" in body, url
        # The generalisations come from the specification the run executed.
        assert "Shifted date" in body, url
    # No archive kept with the run: none offered.
    files = client.get(reverse("provisioning_run", args=[run.pk])).context["files"]
    assert "dataset.zip" not in {entry["name"] for entry in files}


# --- 3. The data dictionary and the value labels ---------------------------------------------


def test_the_dictionary_describes_every_column_and_states_the_timestamp_convention(run):
    folder = Path(run.dataset_path)
    rows = read_csv(folder / "data_dictionary.csv")
    described = {(row["table"], row["column"]) for row in rows}
    for table in run.manifest["tables"]:
        for column in table["columns"]:
            assert (table["name"], column) in described
    for row in rows:
        assert row["label_fr"], row
        assert row["label_en"], row
    by_column = {(row["table"], row["column"]): row for row in rows}
    sex = by_column[("person", "person_sex")]
    assert sex["code_list"] == "Gender"
    timestamps = [row for row in rows if row["type"] == "timestamp"]
    for row in timestamps:
        assert "UTC" in row["format_fr"]
        assert "ISO 8601 avec Z" in row["format_fr"]
        assert "UTC, ISO 8601 with Z" in row["format_en"]


def test_value_labels_give_every_code_of_every_coded_column_in_french_and_english(run):
    folder = Path(run.dataset_path)
    names = {entry["name"] for entry in run.manifest["files"]}
    assert "value_labels.csv" in names
    assert run.manifest["conventions"]["value_labels"] == "value_labels.csv"
    rows = read_csv(folder / "value_labels.csv")
    assert list(rows[0]) == ["table", "column", "value", "label_fr", "label_en"]
    labels = {(row["table"], row["column"], row["value"]): row for row in rows}
    assert labels[("person", "person_sex", "F")]["label_fr"] == "Féminin"
    assert labels[("person", "person_sex", "M")]["label_en"] == "MALE"
    assert labels[("visit_occurrence", "visit_kind", "VIS_HOME")]["label_fr"] == (
        "Visite à domicile"
    )
    icpc = {value for table, column, value in labels if column == "diagnosis_icpc2"}
    assert icpc == set(codelists.concept_ids("ICPC2"))
    # Every value delivered in a coded column has its label.
    for table, column in (("person", "person_sex"), ("visit_occurrence", "visit_kind")):
        delivered = {row[column] for row in read_csv(folder / f"{table}.csv") if row[column]}
        assert delivered <= {value for t, c, value in labels if (t, c) == (table, column)}


def test_every_coded_variable_of_the_catalogue_has_its_code_list():
    coded = {
        variable.code
        for variable in catalogue.VARIABLES
        if variable.exportable
        and not variable.in_vault
        and (
            variable.column.endswith("_source_value")
            or (variable.column.endswith("_concept_id") and variable.column != "location_id")
        )
    }
    assert coded <= set(manifest_module.VALUE_VOCABULARIES)
    for vocabulary in manifest_module.VALUE_VOCABULARIES.values():
        assert codelists.concept_ids(vocabulary), vocabulary


# --- 4. The archive -------------------------------------------------------------------------


def test_the_archive_holds_every_file_and_the_manifest_and_verify_checks_it(run):
    folder = Path(run.dataset_path)
    with zipfile.ZipFile(folder / "dataset.zip") as archive:
        names = archive.namelist()
        expected = [entry["name"] for entry in run.manifest["files"]] + ["manifest.json"]
        assert names == expected
        for entry in run.manifest["files"]:
            data = archive.read(entry["name"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert archive.read("manifest.json") == (folder / "manifest.json").read_bytes()
    assert not list(folder.glob(".dataset.zip.tmp-*"))
    # verify() accepts the archive beside the files, and checks it when given its hash.
    assert manifest_module.verify(folder) == []
    assert manifest_module.verify(folder, archive_sha256=run.archive_sha256) == []
    assert manifest_module.verify(folder, archive_sha256="0" * 64) == ["dataset.zip"]


def test_verify_finds_an_archive_altered_or_missing(run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run.dataset_path, copy)
    # A member replaced: the archive's hash no longer matches.
    buffer = io.BytesIO()
    with zipfile.ZipFile(copy / "dataset.zip") as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            data = b"tampered\n" if name == "person.csv" else source.read(name)
            target.writestr(name, data)
    (copy / "dataset.zip").write_bytes(buffer.getvalue())
    forged = hashlib.sha256(buffer.getvalue()).hexdigest()
    assert manifest_module.verify(copy) == []  # the files themselves are intact
    assert manifest_module.verify(copy, archive_sha256=run.archive_sha256) == ["dataset.zip"]
    # Even with the forged archive's own hash, its member differs from the manifest.
    assert manifest_module.verify(copy, archive_sha256=forged) == ["dataset.zip:person.csv"]
    (copy / "dataset.zip").unlink()
    assert manifest_module.verify(copy, archive_sha256=run.archive_sha256) == ["dataset.zip"]
    (copy / "stray.txt").write_text("x")
    assert "stray.txt" in manifest_module.verify(copy)


def test_write_archive_is_atomic_and_reproducible(run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run.dataset_path, copy)
    (copy / "dataset.zip").unlink()
    entry = manifest_module.write_archive(copy)
    assert entry == {
        "name": "dataset.zip",
        "bytes": (copy / "dataset.zip").stat().st_size,
        "sha256": run.archive_sha256,
    }
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".")) == []


def test_the_recipient_downloads_the_archive_and_the_download_is_audited(client, run, researcher):
    login(client, researcher)
    page = client.get(reverse("provisioning_run", args=[run.pk]))
    files = {entry["name"]: entry for entry in page.context["files"]}
    assert files["dataset.zip"]["sha256"] == run.archive_sha256
    assert files["dataset.zip"]["url"]
    response = client.get(links.download_url(run, "dataset.zip", researcher))
    assert response.status_code == 200
    assert hashlib.sha256(content_of(response)).hexdigest() == run.archive_sha256
    event = AuditEvent.objects.get(action="provisioning.downloaded", actor=researcher)
    assert event.after == {
        "project": run.project.reference,
        "file": "dataset.zip",
        "sha256": run.archive_sha256,
    }


def test_the_archive_is_destroyed_with_the_dataset_and_on_the_certificate(run, dpo):
    from access.provisioning import delivery

    certificate = delivery.destroy_dataset(run=run, by=dpo, reason=delivery.REASON_ACCESS_ENDED)
    listed = {entry["name"]: entry for entry in certificate.files}
    assert listed["dataset.zip"]["sha256"] == run.archive_sha256
    assert listed["dataset.zip"]["found"] is True
    assert listed["manifest.json"]["sha256"] == run.manifest_sha256
    assert not Path(run.dataset_path).exists()
