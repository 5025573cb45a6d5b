"""The identity vault: its own alias, closed except to matching and scrubbing (OPP-08, SEC-06)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connections

from eds_portal.models import AuditEvent
from eds_portal.routers import VaultAccessDenied, vault_access
from warehouse.keys import person_key
from warehouse.models import Identity, Person
from warehouse.vault import find_candidates, load_identities, names_for_scrubbing

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

BIRTH = date(1961, 5, 2)


@pytest.fixture
def identities():
    rows = [
        Identity(
            person_key=person_key(
                birth_name="Lefèvre", first_names="Anne-Marie", birth_date=BIRTH, sex="F"
            ),
            birth_name="Lefèvre",
            used_name="Martin",
            first_names="Anne-Marie, Louise",
            sex="F",
            birth_date=BIRTH,
            birth_place_code="33063",
            birth_place_name="Bordeaux",
        ),
        Identity(
            person_key="b" * 64,
            birth_name="Lefebvre",
            first_names="Anne",
            sex="F",
            birth_date=BIRTH,
            birth_place_code="75056",
            birth_place_name="Paris",
        ),
        Identity(
            person_key="c" * 64,
            birth_name="Durand",
            first_names="Paul",
            sex="M",
            birth_date=date(1990, 1, 1),
            birth_place_code="69123",
            birth_place_name="Lyon",
        ),
    ]
    assert load_identities(rows) == 3


def test_the_vault_table_lives_only_in_the_vault_alias():
    vault_tables = connections["vault"].introspection.table_names()
    warehouse_tables = connections["warehouse"].introspection.table_names()
    portal_tables = connections["default"].introspection.table_names()
    assert "vault_identity" in vault_tables
    assert "vault_identity" not in warehouse_tables + portal_tables
    assert "person" in warehouse_tables
    assert "person" not in vault_tables + portal_tables


def test_any_other_access_fails(identities):
    with pytest.raises(VaultAccessDenied):
        list(Identity.objects.all())
    with pytest.raises(VaultAccessDenied):
        Identity.objects.filter(birth_name="Durand").exists()
    with pytest.raises(VaultAccessDenied):
        Identity.objects.create(
            person_key="d" * 64,
            birth_name="X",
            first_names="Y",
            sex="M",
            birth_date=BIRTH,
            birth_place_code="1",
            birth_place_name="Z",
        )
    # The warehouse itself stays open: it holds no identity.
    assert Person.objects.count() == 0


def test_the_vault_opens_inside_an_explicit_purpose(identities):
    with vault_access("test"):
        assert Identity.objects.count() == 3
    with pytest.raises(VaultAccessDenied):
        Identity.objects.count()
    with pytest.raises(ValueError, match="purpose"), vault_access(""):
        pass


def test_identity_officer_finds_candidates_with_the_fields_that_agree(identity_officer, identities):
    candidates = find_candidates(
        by=identity_officer,
        birth_name="MARTIN née LEFEVRE",
        first_names="anne marie",
        birth_date=BIRTH,
        sex="F",
        reason="opposition request OPP-1",
    )
    keys = {candidate.person_key: candidate for candidate in candidates}
    exact = person_key(birth_name="Lefèvre", first_names="Anne-Marie", birth_date=BIRTH, sex="F")
    assert exact in keys
    assert set(keys[exact].agreeing) == {"birth_date", "name", "first_name", "sex"}
    assert "c" * 64 not in keys  # another birth date, another person
    event = AuditEvent.objects.get(action="vault.searched")
    assert event.actor == identity_officer
    assert "Lefèvre" not in str(event.after)
    assert "LEFEVRE" not in str(event.after)


@pytest.mark.parametrize(
    "persona",
    ["researcher", "dpo", "data_steward", "secretariat", "auditor", "outsider"],
    indirect=True,
)
def test_other_roles_cannot_search_the_vault(persona, identities):
    with pytest.raises(PermissionDenied):
        find_candidates(
            by=persona,
            birth_name="Durand",
            first_names="Paul",
            birth_date=date(1990, 1, 1),
            sex="M",
            reason="curiosity",
        )
    assert not AuditEvent.objects.filter(action="vault.searched").exists()


def test_scrubber_gets_every_name_of_a_person(identities):
    exact = person_key(birth_name="Lefèvre", first_names="Anne-Marie", birth_date=BIRTH, sex="F")
    names = names_for_scrubbing([exact, "c" * 64, "unknown"])
    assert names[exact] == ["Lefèvre", "Martin", "Anne-Marie", "Louise"]
    assert names["c" * 64] == ["Durand", "Paul"]
    assert "unknown" not in names
