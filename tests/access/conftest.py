"""Fixtures of the access tests, none of them autouse: modules ask for them by name.

``pytestmark = pytest.mark.usefixtures(...)`` in the modules that need them, so that these
fixtures apply exactly where they did when they were imported from helper modules.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import translation

from eds_portal.routers import vault_access
from warehouse.synthetic.generator import VAULT_TABLE, WAREHOUSE_TABLES, generate
from warehouse.synthetic.writer import TableWriter


@pytest.fixture(scope="module")
def warehouse_rows(django_db_setup, django_db_blocker):
    """The tiny generated warehouse (and vault), once per module that asks for it."""
    with django_db_blocker.unblock():
        generate(size="XXS", seed=7, replace=True)
        yield
        with (
            vault_access("tests"),
            transaction.atomic(using="warehouse"),
            transaction.atomic(using="vault"),
        ):
            TableWriter("warehouse").empty(WAREHOUSE_TABLES)
            TableWriter("vault").empty((VAULT_TABLE,))


@pytest.fixture
def provisioning_settings(settings, tmp_path):
    settings.EDS_DATASETS_DIR = tmp_path / "datasets"
    settings.EDS_INFORMATION_WINDOW_DAYS = 0
    settings.EDS_PROVISIONING_PARTS = 2
    # Quasi-identifier classes of the tiny warehouse are small: no suppression in these tests.
    settings.EDS_SMALL_CELL_THRESHOLD = 1


@pytest.fixture
def english_client(client):
    """Messages compared in English whatever the catalogue holds (the portal defaults to French).

    Unlike the suite-wide ``english`` fixture, the test client also asks for English pages.
    """
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override("en"):
        yield
