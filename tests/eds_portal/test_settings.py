"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "k3y-" + "aZ9x_Qw8!Lm2#Rt6^Yp4&Vb7*Nc1(Hs5)Gd3" * 2,
    "DJANGO_ALLOWED_HOSTS": "eds-portail.example.fr",
    "DATABASE_URL": "postgres://eds@db.invalid:5432/eds_portal",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "EDS_WAREHOUSE_KEY": "w4reh0use-" + "Zq8!Lm2#Rt6^Yp4&" * 3,
    "EDS_PROVISIONING_KEY": "pr0vis10n-" + "Hs5)Gd3!Lm2#Rt6^" * 3,
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "EDS_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_check_deploy_without_any_warning():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "EDS_WAREHOUSE_KEY",
        "EDS_PROVISIONING_KEY",
    ],
)
def test_production_refuses_to_start_without_a_required_value(missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr
    assert "config.env.sample" in result.stderr or "required" in result.stderr


def test_production_refuses_debug():
    result = _manage("check", env={**PRODUCTION_ENV, "DJANGO_DEBUG": "true"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be false" in result.stderr


def test_secret_may_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(PRODUCTION_ENV["DJANGO_SECRET_KEY"] + "\n", encoding="utf-8")
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**env, "DJANGO_SECRET_KEY_FILE": str(secret_file)},
    )
    assert result.returncode == 0, result.stderr


def test_every_environment_variable_read_is_documented_in_the_sample():
    sample = (ROOT / "config.env.sample").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", sample, flags=re.MULTILINE))
    read = set()
    for path in [ROOT / "eds_portal" / "settings.py"]:
        read |= set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', path.read_text()))
    for path in ROOT.glob("tests/**/*.py"):
        read |= set(
            re.findall(r'os\.environ\.get\("((?:EDS|DJANGO)_[A-Z0-9_]+)"', path.read_text())
        )
    assert read, "the scan found no variable: the pattern is wrong"
    assert read - documented == set()


def test_time_limit_must_stay_below_the_visibility_timeout():
    result = _manage(
        "check",
        env={
            "DJANGO_ENV": "development",
            "CELERY_VISIBILITY_TIMEOUT": "600",
            "CELERY_TASK_TIME_LIMIT": "900",
        },
    )
    assert result.returncode != 0
    assert "CELERY_TASK_TIME_LIMIT must be lower" in result.stderr


def test_security_headers_and_csp_on_every_page(client):
    response = client.get("/accounts/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_pages_carry_no_inline_script(client, dpo):
    from tests.conftest import login

    pages = [client.get("/accounts/login/").content.decode()]
    login(client, dpo)
    pages += [client.get("/").content.decode(), client.get("/audit/").content.decode()]
    for html in pages:
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, f"inline script: {tag}"
        assert not re.search(r"\son[a-z]+=", html), "inline event handler"
        assert "<style" not in html


@pytest.mark.django_db(databases="__all__")
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", check=True, dry_run=True, verbosity=0)
