"""Personas, login helpers and the report of which backends the suite used."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_otp.oath import totp

from eds_portal.roles import Role
from tests.factories import TOTPDeviceFactory, UserFactory


def _backends_line() -> str:
    db = settings.DATABASES["default"]
    where = (
        f"{db.get('HOST') or 'socket'}:{db.get('PORT') or 5432}/{db['NAME']}"
        if settings.DATABASE_BACKEND_LABEL == "PostgreSQL"
        else str(db["NAME"])
    )
    queue = settings.QUEUE_BACKEND_LABEL
    if queue == "Redis":
        queue = (
            f"Redis at {settings.CELERY_BROKER_URL} "
            "(unit tests eager, integration tests on a real worker)"
        )
    return f"EDS test backends: database {settings.DATABASE_BACKEND_LABEL} ({where}); queue {queue}"


def pytest_report_header(config):
    return _backends_line()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(_backends_line())


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def make_user(db):
    """A user with the given roles; staff roles get a confirmed TOTP device."""

    def make(*roles: Role, device: bool | None = None, **fields):
        user = UserFactory(roles=roles, **fields)
        if device or (device is None and user.requires_two_factor):
            TOTPDeviceFactory(user=user)
        return user

    return make


def login(client, user, *, verified: bool = True):
    """Signs the user in; with ``verified`` the session has passed the second factor."""
    client.force_login(user)
    if verified:
        device = user.totpdevice_set.filter(confirmed=True).first()
        if device is not None:
            session = client.session
            session["otp_device_id"] = device.persistent_id
            session.save()
    return client


@pytest.fixture
def researcher(make_user):
    return make_user(Role.RESEARCHER, full_name="Rita Researcher", email="rita@inserm.example")


@pytest.fixture
def secretariat(make_user):
    return make_user(Role.SECRETARIAT, full_name="Sam Secretariat")


@pytest.fixture
def commission_member(make_user):
    return make_user(Role.COMMISSION_MEMBER, full_name="Cora Member")


@pytest.fixture
def rapporteur(make_user):
    return make_user(Role.COMMISSION_MEMBER, full_name="Ralph Rapporteur")


@pytest.fixture
def patient_representative(make_user):
    return make_user(Role.PATIENT_REPRESENTATIVE, full_name="Pat Representative")


@pytest.fixture
def chair(make_user):
    return make_user(Role.CHAIR, Role.COMMISSION_MEMBER, full_name="Charlotte Chair")


@pytest.fixture
def identity_officer(make_user):
    return make_user(Role.IDENTITY_OFFICER, full_name="Ivan Identity")


@pytest.fixture
def data_steward(make_user):
    return make_user(Role.DATA_STEWARD, full_name="Dana Steward")


@pytest.fixture
def dpo(make_user):
    return make_user(Role.DPO, full_name="Dora DPO", email="dpo@sos.example")


@pytest.fixture
def auditor(make_user):
    return make_user(Role.AUDITOR, full_name="Aldo Auditor")


@pytest.fixture
def output_checker(make_user):
    """An output checker named by the data office (issue 12)."""
    return make_user(Role.OUTPUT_CHECKER, full_name="Olga Checker", organisation="Insee")


@pytest.fixture
def outsider(make_user):
    """An account with no role at all."""
    return make_user(full_name="Otto Outsider")


PERSONAS = [
    "researcher",
    "secretariat",
    "commission_member",
    "patient_representative",
    "chair",
    "identity_officer",
    "data_steward",
    "dpo",
    "auditor",
    "outsider",
]


@pytest.fixture
def persona(request):
    """Indirect fixture: ``@pytest.mark.parametrize("persona", [...], indirect=True)``."""
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def _private_storage(tmp_path, settings):
    """Uploaded files of a test go to its own folder, never into the repository's var/."""
    storages = {name: dict(config) for name, config in settings.STORAGES.items()}
    storages["default"] = {
        **storages["default"],
        "OPTIONS": {"location": str(tmp_path / "private")},
    }
    settings.STORAGES = storages


@pytest.fixture
def english():
    """Messages of actions and forms called outside a request, in English (the msgids)."""
    from django.utils import translation

    with translation.override("en"):
        yield
