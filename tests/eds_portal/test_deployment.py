"""What production runs: gunicorn serving the portal, the container image and its compose file,
the locks it installs from, the git hooks.

The image itself is not built here (no Docker engine on the test machines): the Dockerfile is read
with Docker's own parser and compose.yaml as YAML (and by `docker compose config` where a client
is installed); the production configuration compose.yaml gives is loaded by the settings.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import dockerfile
import pytest
import yaml
from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"web", "worker", "beat", "db", "redis"}


# --- gunicorn --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url(alias: str) -> str:
    db = connections[alias].settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def _child_environment(var_dir: Path) -> dict[str, str]:
    """The test settings, on this run's databases: the test databases on PostgreSQL; on SQLite
    (in memory for this process) files of the child's own, the child falling back to SQLite as
    this process did (DATABASE_URL kept as it is)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "EDS_", "CELERY_", "PYTEST"))
    }
    env.update(
        DJANGO_ENV="test",
        DJANGO_SETTINGS_MODULE="eds_portal.settings",
        EDS_VAR_DIR=str(var_dir),
    )
    if settings.DATABASE_BACKEND_LABEL == "PostgreSQL":
        env.update(
            DATABASE_URL=_database_url("default"),
            WAREHOUSE_DATABASE_URL=_database_url("warehouse"),
            VAULT_DATABASE_URL=_database_url("vault"),
        )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


def _get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _healthcheck(port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "healthcheck.py"), str(port)],
        capture_output=True,
        text=True,
        timeout=30,
        env={key: value for key, value in os.environ.items() if key != "DJANGO_ALLOWED_HOSTS"},
    )


@pytest.mark.django_db(databases=["default", "warehouse", "vault"])
def test_gunicorn_serves_the_portal(tmp_path):
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "eds_portal.wsgi",
        f"--bind=127.0.0.1:{port}",
        "--workers=1",
        f"--worker-tmp-dir={tmp_path}",
        "--access-logfile=-",
        "--no-control-socket",
    ]
    (tmp_path / "var").mkdir()
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_child_environment(tmp_path / "var"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"gunicorn stopped ({server.returncode}):\n{log.read_text()}")
            try:
                status, headers, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()}")
                time.sleep(0.3)
        assert status == 200, body + log.read_text()
        assert headers.get("Server", "").startswith("gunicorn")
        assert '"status": "ok"' in body
        status, _headers, body = _get(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200, log.read_text()
        assert 'name="password"' in body
        # The container's health check sees it serving.
        check = _healthcheck(port)
        assert check.returncode == 0, check.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, log.read_text()
    assert _healthcheck(port).returncode == 1


# --- Dockerfile ------------------------------------------------------------------------------


def _stages() -> list[list[dockerfile.Command]]:
    stages: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(ROOT / "Dockerfile")):
        if command.cmd == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(command)
    return stages


def _run_text(stage: list[dockerfile.Command]) -> str:
    return " ".join(" ".join(command.value) for command in stage if command.cmd == "RUN")


def test_dockerfile_builds_a_debian_image_that_runs_gunicorn_as_a_plain_user():
    commands = dockerfile.parse_file(str(ROOT / "Dockerfile"))
    base = next(command for command in commands if command.cmd == "ARG").value[0]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim-bookworm", base)
    build, runtime = _stages()
    # The runtime lock only, with its hashes.
    assert "--require-hashes -r /tmp/requirements.lock" in _run_text(build)
    assert "requirements-dev.lock" not in " ".join(" ".join(c.value) for c in commands)
    assert "gettext" in _run_text(build)
    assert "compilemessages" in _run_text(build)
    assert "collectstatic" in _run_text(build)
    # WeasyPrint's libraries and the fonts the letters ask for.
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
        "fonts-dejavu-extra",
    ):
        assert package in _run_text(runtime).split(), package
    users = [command.value[0] for command in runtime if command.cmd == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}
    cmd = next(command for command in reversed(runtime) if command.cmd == "CMD")
    assert cmd.value[:2] == ("gunicorn", "eds_portal.wsgi")


def test_dockerignore_keeps_secrets_and_the_virtualenv_out_of_the_image():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "var", "secrets", ".env"} <= ignored


# --- compose.yaml ----------------------------------------------------------------------------


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _interpolated(value: str) -> str:
    """Compose's ${NAME:-default} with the defaults (no variable set), and $$ for a dollar."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return value.replace("$$", "$")


def test_compose_names_the_services_with_healthchecks_volumes_and_secret_files():
    compose = _compose()
    services = compose["services"]
    assert set(services) >= SERVICES
    assert services["web"]["command"][0] == "gunicorn"
    assert "eds_portal.wsgi" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "eds_portal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "eds_portal", "beat"]
    assert "deploy" not in services["beat"], "beat runs exactly once: never scaled"
    for name in ("web", "worker", "db", "redis"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("web", "worker", "beat"):
        volumes = {entry.split(":")[0]: entry.split(":")[1] for entry in services[name]["volumes"]}
        assert volumes["datasets"] == services[name]["environment"]["EDS_DATASETS_DIR"]
        assert volumes["var"] == "/data/var"
        assert services[name]["environment"]["EDS_PRIVATE_STORAGE_DIR"].startswith("/data/var/")
    assert {"datasets", "var"} <= set(compose["volumes"])
    # Secrets come from files, and each service may read those its environment names.
    assert all(set(secret) == {"file"} for secret in compose["secrets"].values())
    for name, service in services.items():
        environment = service.get("environment", {})
        for value in environment.values():
            match = re.fullmatch(r"/run/secrets/(\w+)", str(value))
            if match:
                assert match.group(1) in service["secrets"], (name, value)
                assert match.group(1) in compose["secrets"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    init = services["db"]["volumes"][1].split(":")[0]
    assert (ROOT / init / "init-databases.sql").is_file()


def test_compose_environment_is_a_complete_production_configuration(tmp_path):
    """The settings load (and pass Django's checks) with what compose.yaml gives the web."""
    service = _compose()["services"]["web"]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "EDS_", "CELERY_", "REDIS_", "PYTEST"))
    }
    for key, value in service["environment"].items():
        value = _interpolated(str(value))
        match = re.fullmatch(r"/run/secrets/(\w+)", value)
        if match:
            secret = tmp_path / match.group(1)
            content = (
                "postgres://eds:pw@db.invalid:5432/eds_portal"
                if match.group(1) == "database_url"
                else "s3cr3t-" + match.group(1) + "-x" * 40
            )
            secret.write_text(content + "\n")
            value = str(secret)
        env[key] = value
    env["EDS_DATASETS_DIR"] = str(tmp_path / "datasets")
    env["EDS_PRIVATE_STORAGE_DIR"] = str(tmp_path / "private")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_accepts_the_file():
    client = _compose_client()
    if client is None:
        pytest.skip("no docker compose client here (the YAML tests above still ran)")
    env = {key: value for key, value in os.environ.items() if key != "EDS_HOSTNAME"}
    result = subprocess.run(
        [*client, "-f", "compose.yaml", "config", "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- locks and hooks -------------------------------------------------------------------------


def _pins(lock: str) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a pip-compile lock."""
    pins: dict[str, tuple[str, int]] = {}
    name = None
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            name = match.group(1).lower().replace("_", "-")
            pins[name] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and name is not None:
            version, hashes = pins[name]
            pins[name] = (version, hashes + 1)
        elif line and not line.startswith(("#", " ")):
            pytest.fail(f"{lock}: not a pinned requirement: {line!r}")
    return pins


def _names(requirements: list[str]) -> set[str]:
    return {
        re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")
        for requirement in requirements
    }


def test_locks_pin_every_package_with_hashes_and_agree():
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    for lock, pins in (("requirements.lock", runtime), ("requirements-dev.lock", dev)):
        assert pins, lock
        assert all(hashes for _version, hashes in pins.values()), lock
    # The development lock holds the runtime one at the same versions, and adds the tools.
    for name, (version, _hashes) in runtime.items():
        assert dev.get(name, ("missing",))[0] == version, name
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert _names(project["dependencies"]) <= set(runtime), "run `make lock`"
    assert _names(extras["test"] + extras["dev"]) <= set(dev), "run `make lock`"
    assert "gunicorn" in runtime
    for tool in ("pytest", "playwright", "ruff", "mypy", "pip-tools", "coverage"):
        assert tool not in runtime, tool


def test_pre_commit_configuration_runs_ruff_and_the_migrations_check():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    assert any("ruff check" in entry for entry in entries)
    assert any("ruff format" in entry for entry in entries)
    assert any("makemigrations --check --dry-run" in entry for entry in entries)
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
