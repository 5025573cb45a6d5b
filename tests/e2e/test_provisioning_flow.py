"""From "start a run" to a downloaded file whose checksum matches the manifest.

The data steward signs in (TOTP), opens the provisioning page of a published project, starts a
run and watches its progress bar. The broker is replaced by a queue that the test drains, task
by task, through the real Celery tasks (prepare, every part, publish) while the page is open:
the progress fragment it polls sees the run end and reloads the page, which then reads
"Publiée" with every row written. The researcher, team lead and recipient named in the approved
specification, signs in in a browser profile of their own, opens the run from the project page
and downloads the person file; its SHA-256 is the one of the manifest (on the run and in
manifest.json), it is a valid Parquet file with the approved columns, and the download is in
the audit trail. Every page goes through axe-core and the CSP console check; the pages are in
French.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.urls import reverse
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from access.models_provisioning import ProvisioningRun, RunStatus
from access.provisioning import queue
from eds_portal.models import AuditEvent
from tests.access.provisioning_helpers import published
from tests.conftest import current_code
from tests.e2e.helpers import sign_in, submit_token
from warehouse.models import Person
from warehouse.synthetic.generator import generate

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(
        transaction=True, databases=["default", "warehouse", "vault"], serialized_rollback=True
    ),
]

PERSON_FILE = "person.parquet"
# The approved variables of the person table (tests/access/provisioning_helpers.VARIABLES).
PERSON_COLUMNS = ["person_pseudonym", "person_sex"]


@pytest.fixture(autouse=True)
def provisioning_settings(settings, tmp_path):
    # The live server runs in this process: it reads the same settings.
    settings.EDS_DATASETS_DIR = tmp_path / "datasets"
    settings.EDS_INFORMATION_WINDOW_DAYS = 0
    settings.EDS_PROVISIONING_PARTS = 2
    # Quasi-identifier classes of the tiny warehouse are small: no suppression here.
    settings.EDS_SMALL_CELL_THRESHOLD = 1


@pytest.fixture
def warehouse():
    """The synthetic warehouse; the live server's flush empties it after the test."""
    generate(size="XXS", seed=7, replace=True)
    assert Person.objects.exists()


@pytest.fixture
def broker(monkeypatch) -> list[tuple[Any, tuple]]:
    """Stands for the broker: the tasks the actions send, in order, for the test to run."""
    sent: list[tuple[Any, tuple]] = []
    monkeypatch.setattr(queue, "send", lambda task, args: sent.append((task, args)))
    return sent


def _name(task: Any) -> str:
    return task.name.rpartition(".")[2]


def _work(sent: list[tuple[Any, tuple]]) -> list[str]:
    """A worker: takes each message in turn and runs its task here, as Celery would."""
    done = []
    while sent:
        task, args = sent.pop(0)
        task(*args)
        done.append(_name(task))
    return done


@pytest.fixture
def check(assert_accessible, assert_no_csp_violation):
    def run(page: Page) -> None:
        assert_no_csp_violation(page)
        assert_accessible(page)

    return run


@pytest.fixture
def sign_in_as(
    browser: Browser,
    live_server,
    django_db_serialized_rollback,
    console_messages: list[ConsoleMessage],
) -> Iterator[Callable[..., Page]]:
    """A browser profile per persona, signed in (with TOTP for staff), its console watched."""
    contexts = []

    def open_as(user) -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="fr-FR", accept_downloads=True
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()

        def record(message: ConsoleMessage) -> None:
            console_messages.append(message)

        page.on("console", record)
        page.goto(reverse("login"))
        sign_in(page, user.email)
        if user.requires_two_factor:
            submit_token(page, current_code(user.totpdevice_set.get()), button="Vérifier")
        expect(page).to_have_url(f"{live_server.url}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(user.full_name)
        return page

    yield open_as
    for context in contexts:
        context.close()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_steward_starts_a_run_and_the_recipient_downloads_a_file_matching_the_manifest(
    sign_in_as,
    check,
    broker,
    warehouse,
    researcher,
    secretariat,
    chair,
    data_steward,
):
    project = published(researcher, secretariat, chair)
    assert data_steward.requires_two_factor

    # --- The data steward finds the project ready and starts a run. ---
    steward = sign_in_as(data_steward)
    check(steward)
    steward.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Mise à disposition", exact=True
    ).click()
    expect(steward.get_by_role("heading", level=1)).to_have_text("Mise à disposition")
    check(steward)
    steward.get_by_role("link", name=project.reference, exact=True).first.click()
    expect(steward.get_by_role("heading", level=1)).to_have_text(
        f"Mise à disposition de {project.reference}"
    )
    expect(steward.get_by_role("main")).to_contain_text(
        "Toutes les conditions sont remplies : le projet peut recevoir ses données."
    )
    expect(steward.get_by_role("main")).to_contain_text("Aucune extraction pour l\u2019instant.")
    check(steward)
    steward.get_by_role("button", name="Lancer une extraction", exact=True).click()

    run = ProvisioningRun.objects.get(project=project)
    expect(steward).to_have_url(re.compile(re.escape(reverse("provisioning_run", args=[run.pk]))))
    expect(steward.get_by_role("heading", level=1)).to_have_text(
        f"Extraction {run.pk} de {project.reference}"
    )
    expect(steward.locator(".messages")).to_contain_text(f"Extraction {run.pk} mise en file")
    progress = steward.locator("#run-progress")
    expect(progress.locator(".status-badge")).to_have_text("En attente")
    bar = steward.get_by_role("progressbar", name="Avancement")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("value", "0")
    expect(progress).to_have_attribute("hx-trigger", "every 2s")
    expect(progress).to_contain_text("Parties terminées : 0 sur 0.")
    check(steward)
    assert run.status == RunStatus.QUEUED
    assert [(_name(task), args) for task, args in broker] == [("prepare_run_task", (run.pk,))]

    # --- A worker plans the run, writes its two parts and publishes the dataset. ---
    assert _work(broker) == [
        "prepare_run_task",
        "write_part_task",
        "write_part_task",
        "publish_run_task",
    ]
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    assert run.parts_total == 2
    assert run.rows_done > 0

    # The page polls its progress fragment; the run is over, so it reloads itself.
    expect(progress.locator(".status-badge")).to_have_text("Publiée", timeout=15_000)
    expect(progress).not_to_have_attribute("hx-trigger", "every 2s")
    expect(bar).to_have_attribute("value", "3")  # two parts, then the publication
    expect(bar).to_have_attribute("max", "3")
    expect(progress).to_contain_text("Parties terminées : 2 sur 2.")
    expect(progress).to_contain_text(f"Lignes écrites : {run.rows_done} sur {run.rows_done}.")
    parts = steward.get_by_role("table", name="Parties")
    expect(parts.locator("tbody tr")).to_have_count(2)
    for row in parts.locator("tbody tr").all():
        expect(row.locator("td").nth(1)).to_have_text("Traitée")
    expect(steward.get_by_role("button", name="Annuler l\u2019extraction")).to_have_count(0)
    # The steward starts runs but does not download the data.
    expect(steward.locator("a[href*='/provisioning/download/']")).to_have_count(0)
    check(steward)

    # --- The researcher, named recipient, opens the run from the project page. ---
    team = sign_in_as(researcher)
    check(team)
    team.goto(reverse("project_detail", args=[project.pk]))
    expect(team.get_by_role("heading", level=1)).to_have_text(project.title)
    runs = team.get_by_role("region", name="Jeux de données et extractions")
    expect(runs).to_contain_text("disponible")
    check(team)
    runs.get_by_role("link", name=f"Extraction {run.pk}", exact=True).click()
    expect(team.get_by_role("heading", level=1)).to_have_text(
        f"Extraction {run.pk} de {project.reference}"
    )
    expect(team.locator("#run-progress .status-badge")).to_have_text("Publiée")
    # SEC-03: no link without the second factor; the recipient enrols and comes back here.
    assert not researcher.totpdevice_set.exists()
    expect(team.locator("a[href*='/provisioning/download/']")).to_have_count(0)
    expect(team.get_by_role("main")).to_contain_text(
        "Activez la double authentification (une application d’authentification) avant "
        "de télécharger des données."
    )
    check(team)
    team.get_by_role("link", name="Configurer la double authentification", exact=True).click()
    expect(team).to_have_url(re.compile(re.escape(reverse("two_factor_setup"))))
    check(team)
    submit_token(team, current_code(researcher.totpdevice_set.get()), button="Activer")
    expect(team).to_have_url(re.compile(re.escape(reverse("provisioning_run", args=[run.pk]))))
    expect(team.locator("a[href*='/provisioning/download/']")).not_to_have_count(0)
    files = team.get_by_role("table", name="Fichiers du jeu de données")
    listed = {entry["name"]: entry for entry in run.manifest["files"]}
    assert PERSON_FILE in listed
    # and manifest.json, and dataset.zip (every file in one archive)
    expect(files.locator("tbody tr")).to_have_count(len(listed) + 2)
    row = files.get_by_role("row").filter(has=team.get_by_role("link", name=PERSON_FILE))
    expect(row.locator("code")).to_have_text(listed[PERSON_FILE]["sha256"])
    check(team)

    with team.expect_download() as caught:
        row.get_by_role("link", name=PERSON_FILE, exact=True).click()
    download = caught.value
    assert download.suggested_filename == PERSON_FILE
    saved = Path(download.path())

    # --- The file is the one of the manifest, a valid Parquet file with the approved columns.
    digest = _sha256(saved)
    assert digest == listed[PERSON_FILE]["sha256"]
    on_disk = json.loads((Path(run.dataset_path) / "manifest.json").read_text())
    assert {entry["name"]: entry["sha256"] for entry in on_disk["files"]}[PERSON_FILE] == digest
    assert digest == _sha256(Path(run.dataset_path) / PERSON_FILE)
    table = pq.read_table(saved)
    assert table.column_names == PERSON_COLUMNS  # nothing but what the commission approved
    assert table.num_rows > 0
    assert table.num_rows == listed[PERSON_FILE]["rows"]
    pseudonyms = table.column("person_pseudonym").to_pylist()
    assert len(set(pseudonyms)) == len(pseudonyms)
    # Pseudonymised: no source key of the warehouse leaves.
    assert not set(map(str, pseudonyms)) & set(
        Person.objects.values_list("person_source_value", flat=True)
    )

    # --- The audit trail: started, published, downloaded by the recipient with the digest.
    started = AuditEvent.objects.get(action="provisioning.run_started")
    assert started.actor == data_steward
    assert AuditEvent.objects.filter(action="provisioning.published").count() == 1
    downloaded = AuditEvent.objects.get(action="provisioning.downloaded")
    assert downloaded.actor == researcher
    assert downloaded.target_id == str(run.pk)
    assert downloaded.after["file"] == PERSON_FILE
    assert downloaded.after["sha256"] == digest
