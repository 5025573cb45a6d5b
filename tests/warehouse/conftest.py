"""Fixtures of the export engine's tests: one generated XXS warehouse per module."""

from __future__ import annotations

import pytest
from django.db import transaction

from eds_portal.routers import vault_access
from warehouse.models import Person
from warehouse.synthetic.generator import VAULT_TABLE, WAREHOUSE_TABLES, generate
from warehouse.synthetic.writer import TableWriter

from .export_helpers import WAREHOUSE_SECRET


@pytest.fixture(scope="module")
def warehouse_rows(django_db_setup, django_db_blocker):
    """One XXS warehouse for the module, emptied afterwards."""
    from django.conf import settings as django_settings

    previous = django_settings.EDS_WAREHOUSE_KEY
    django_settings.EDS_WAREHOUSE_KEY = WAREHOUSE_SECRET
    with django_db_blocker.unblock():
        generate(size="XXS", seed=5, replace=True)
        yield
        with (
            vault_access("tests"),
            transaction.atomic(using="warehouse"),
            transaction.atomic(using="vault"),
        ):
            TableWriter("warehouse").empty(WAREHOUSE_TABLES)
            TableWriter("vault").empty((VAULT_TABLE,))
    django_settings.EDS_WAREHOUSE_KEY = previous


@pytest.fixture
def keys_by_person(warehouse_rows):
    return dict(Person.objects.values_list("person_source_value", "person_id"))
