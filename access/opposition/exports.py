"""The DPO's exports of the opposition register: CSV and FHIR R4 Consent resources.

Both read the register through ``access.opposition.register`` (audited) and show no identity: a
person is named by an export id, an HMAC of the internal key under a purpose of its own, so that
an export handed to another system cannot be joined with the warehouse's keys or a project's
pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone

from access.models import EntryEffect, RegisterEntry
from access.opposition.register import current_number, snapshot_at

CSV_HEADER = [
    "number",
    "recorded_at",
    "effect",
    "receipt_number",
    "channel",
    "requester_role",
    "scope",
    "projects",
    "person_export_id",
    "ends_number",
    "recorded_by",
]


def export_id(person_key: str) -> str:
    secret = settings.EDS_WAREHOUSE_KEY.encode("utf-8")
    return hmac.new(
        secret, b"opposition-export:" + person_key.encode(), hashlib.sha256
    ).hexdigest()[:32]


def register_rows(*, by: Any, purpose: str) -> list[dict[str, Any]]:
    """Every register entry, oldest first; the read is audited (OPP-14)."""
    number = current_number()
    snapshot_at(number, by=by, purpose=purpose)  # audits the read with its number
    rows = []
    for entry in (
        RegisterEntry.objects.filter(number__lte=number)
        .select_related("request", "ends", "recorded_by")
        .order_by("number")
    ):
        rows.append(
            {
                "number": entry.number,
                "recorded_at": entry.recorded_at,
                "effect": entry.effect,
                "effect_label": EntryEffect(entry.effect).label,
                "receipt_number": entry.request.receipt_number,
                "channel": entry.request.channel,
                "requester_role": entry.request.requester_role,
                "scope": entry.scope,
                "projects": entry.project_references,
                "person_export_id": export_id(entry.person_key),
                "ends_number": entry.ends.number if entry.ends_id else None,
                "recorded_by": entry.recorded_by.email if entry.recorded_by_id else "system",
            }
        )
    return rows


def csv_lines(rows: list[dict[str, Any]]) -> Iterator[list[Any]]:
    """The table of the CSV and XLSX exports (``eds_portal.exports`` neutralises formulas)."""
    yield CSV_HEADER
    for row in rows:
        values = {**row, "recorded_at": row["recorded_at"].isoformat()}
        values["projects"] = " ".join(row["projects"])
        yield ["" if values[name] is None else values[name] for name in CSV_HEADER]


def fhir_bundle(*, by: Any) -> dict[str, Any]:
    """The objections as FHIR R4 Consent resources in a collection Bundle."""
    rows = register_rows(by=by, purpose="FHIR Consent export")
    ended = {row["ends_number"] for row in rows if row["ends_number"] is not None}
    entries = []
    for row in rows:
        if row["effect"] != EntryEffect.OBJECT:
            continue
        resource: dict[str, Any] = {
            "resourceType": "Consent",
            "id": f"opposition-{row['number']}",
            "identifier": [
                {"system": "urn:eds-contact:opposition-receipt", "value": row["receipt_number"]}
            ],
            "status": "inactive" if row["number"] in ended else "active",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "research",
                    }
                ]
            },
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://loinc.org",
                            "code": "59284-0",
                            "display": "Patient Consent",
                        }
                    ]
                }
            ],
            "patient": {
                "identifier": {
                    "system": "urn:eds-contact:opposition-export-id",
                    "value": row["person_export_id"],
                }
            },
            "dateTime": row["recorded_at"].isoformat(),
            "policyRule": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                        "code": "OPTOUT",
                    }
                ]
            },
            "provision": {"type": "deny", "period": {"start": row["recorded_at"].isoformat()}},
        }
        if row["projects"]:
            resource["provision"]["purpose"] = [
                {"system": "urn:eds-contact:project", "code": reference}
                for reference in row["projects"]
            ]
        full_url = uuid.uuid5(uuid.NAMESPACE_URL, f"eds-contact/opposition/{row['number']}")
        entries.append({"fullUrl": f"urn:uuid:{full_url}", "resource": resource})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "meta": {"tag": [{"code": f"register-snapshot-{current_number()}"}]},
        "entry": entries,
    }
