"""Shared by the export engine's tests: project keys and specifications (fixtures: conftest)."""

from __future__ import annotations

from warehouse.keys import SecretKey

KEY = SecretKey(b"project-key-one-" * 3, "pk-one")
OTHER_KEY = SecretKey(b"project-key-two-" * 3, "pk-two")
WAREHOUSE_SECRET = "export-tests-warehouse-key-0123456789abcdef"


def spec(*entries, criteria=None):
    return {
        "variables": [{"code": code, "generalisation": how} for code, how in entries],
        "criteria": criteria or {},
        "version": 3,
        "content_sha256": "f" * 64,
    }


BASIC = spec(
    ("person.pseudonym", "exact"),
    ("person.sex", "exact"),
    ("person.birth_date", "five_year_band"),
    ("visit.kind", "exact"),
    ("visit.start", "shifted_date"),
    ("diagnosis.icpc2", "exact"),
)
