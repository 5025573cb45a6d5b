"""A real Celery worker on Redis is killed (SIGKILL) in the middle of a provisioning run.

Nothing half-written is visible; once another worker runs and the reaper hands the lost part
over, the run completes exactly once: one published dataset whose manifest verifies. Messages
delivered again afterwards do nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from access.models_provisioning import PartStatus, ProvisioningRun, RunPart, RunStatus
from access.provisioning import runs
from eds_portal.celery import app
from eds_portal.models import AuditEvent
from tests.access.provisioning_helpers import published
from warehouse.export import verify_dataset
from warehouse.synthetic.generator import generate

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(
        transaction=True, serialized_rollback=True, databases=["default", "warehouse", "vault"]
    ),
]

# The worker process: the parts sleep first (so that the kill lands in the middle of one),
# and tasks it sends go to this test's own queue, not to the eager path of DJANGO_ENV=test.
WORKER_SCRIPT = """
import sys, time
import django
django.setup()
from warehouse import export
real = export.run_part
delay = float(sys.argv[2])
def slow(request, plan, index):
    time.sleep(delay)
    return real(request, plan, index)
export.run_part = slow
from eds_portal.celery import app
app.conf.task_always_eager = False
app.conf.task_default_queue = sys.argv[1]
app.worker_main(["worker", "--pool=solo", "--loglevel=WARNING", "-Q", sys.argv[1],
                 "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "-n", "provisioning-" + sys.argv[3] + "@%h"])
"""

HEARTBEAT, STALE = 1, 4


def _url(alias: str) -> str:
    db = connections[alias].settings_dict
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker_env(tmp_path, settings):
    if settings.QUEUE_BACKEND_LABEL != "Redis" or connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL and Redis (run under .ci/run, or start both locally)")
    datasets = tmp_path / "datasets"
    settings.EDS_DATASETS_DIR = datasets
    settings.EDS_INFORMATION_WINDOW_DAYS = 0
    settings.EDS_PROVISIONING_PARTS = 2
    settings.EDS_PROVISIONING_HEARTBEAT_SECONDS = HEARTBEAT
    settings.EDS_PROVISIONING_STALE_SECONDS = STALE
    settings.EDS_SMALL_CELL_THRESHOLD = 2
    queue = f"provisioning-test-{uuid.uuid4().hex[:8]}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "EDS_", "CELERY_", "PYTEST"))
    }
    env.update(
        {
            "DJANGO_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "eds_portal.settings",
            "DATABASE_URL": _url("default"),
            "WAREHOUSE_DATABASE_URL": _url("warehouse"),
            "VAULT_DATABASE_URL": _url("vault"),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EDS_DATASETS_DIR": str(datasets),
            "EDS_INFORMATION_WINDOW_DAYS": "0",
            "EDS_PROVISIONING_PARTS": "2",
            "EDS_PROVISIONING_HEARTBEAT_SECONDS": str(HEARTBEAT),
            "EDS_PROVISIONING_STALE_SECONDS": str(STALE),
            "EDS_SMALL_CELL_THRESHOLD": "2",
            "EDS_WAREHOUSE_KEY": settings.EDS_WAREHOUSE_KEY,
            "EDS_PROVISIONING_KEY": settings.EDS_PROVISIONING_KEY,
            "EDS_VAR_DIR": str(tmp_path / "var"),
        }
    )
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    workers: list[subprocess.Popen] = []
    logs: list = []

    def start(name: str, part_delay: float) -> subprocess.Popen:
        log = (tmp_path / f"worker-{name}.log").open("w")
        logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT, queue, str(part_delay), name],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        workers.append(process)
        return process

    try:
        yield start, datasets, tmp_path
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
        for log in logs:
            log.close()
        app.conf.task_always_eager, app.conf.task_default_queue = previous


def _wait(predicate, *, timeout: float, message, every: float = 0.1):
    """Polls ``predicate``; ``message`` may be a callable, read only on failure (a worker's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    pytest.fail(message() if callable(message) else message)


def test_a_worker_killed_mid_run_leaves_nothing_visible_and_the_run_completes_once(
    worker_env, researcher, secretariat, chair, data_steward
):
    start_worker, _datasets, tmp_path = worker_env
    generate(size="XXS", seed=11, replace=True)
    project = published(researcher, secretariat, chair)
    first = start_worker("a", 30.0)
    run = runs.start_run(project=project, by=data_steward)

    def part_running():
        return RunPart.objects.filter(run=run, status=PartStatus.RUNNING).first()

    lost = _wait(
        part_running,
        # A loaded machine may take long to start a worker: the wait is generous.
        timeout=120,
        message=lambda: "worker A never started a part: " + (tmp_path / "worker-a.log").read_text(),
    )
    time.sleep(HEARTBEAT * 1.5)  # at least one heartbeat from inside the part
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    target = Path(ProvisioningRun.objects.get(pk=run.pk).dataset_path)
    assert not target.exists()  # no dataset, not even a partial one
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING

    start_worker("b", 0.0)

    def reaped():
        runs.reap_runs()
        return RunPart.objects.filter(pk=lost.pk, attempt__gte=2).exists()

    _wait(reaped, timeout=STALE * 6, message="the reaper did not hand the lost part over", every=1)
    _wait(
        lambda: ProvisioningRun.objects.filter(
            pk=run.pk, status__in=[RunStatus.PUBLISHED, RunStatus.FAILED]
        ).exists(),
        timeout=120,
        message=lambda: "the run did not finish: " + (tmp_path / "worker-b.log").read_text(),
        every=0.5,
    )
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    assert verify_dataset(target) == []
    project_folder = target.parent
    assert [p.name for p in project_folder.iterdir()] == [target.name]  # no staging left
    assert AuditEvent.objects.filter(action="provisioning.published").count() == 1
    assert AuditEvent.objects.filter(action="provisioning.part_requeued").count() >= 1
    lost.refresh_from_db()
    assert lost.status == PartStatus.DONE
    assert lost.attempt == 2

    # Messages delivered again (the broker's copy of the killed task, a duplicate) do nothing.
    from access.provisioning.tasks import prepare_run_task, publish_run_task, write_part_task

    manifest_before = (target / "manifest.json").read_bytes()
    prepare_run_task.delay(run.pk)
    for part in RunPart.objects.filter(run=run):
        write_part_task.delay(part.pk)
    publish_run_task.delay(run.pk)
    time.sleep(3)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    assert (target / "manifest.json").read_bytes() == manifest_before
    assert AuditEvent.objects.filter(action="provisioning.published").count() == 1
    assert [p.name for p in project_folder.iterdir()] == [target.name]
    assert settings.CELERY_TASK_TIME_LIMIT < settings.CELERY_VISIBILITY_TIMEOUT
