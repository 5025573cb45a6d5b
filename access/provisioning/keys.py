"""Per-project pseudonymisation keys (MIN-03): derived, never stored, rotatable.

key = HMAC-SHA256(EDS_PROVISIONING_KEY, "project-key:<reference>:<generation>")

The database holds only the generation number and the key's id; the pseudonyms of a project
are those of its current generation, and rotating the key (a new generation) gives the next
runs new pseudonyms that cannot be linked to the previous ones without the secret.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from warehouse.keys import SecretKey


def _secret() -> bytes:
    raw = settings.EDS_PROVISIONING_KEY
    if not raw:
        raise ImproperlyConfigured(
            "EDS_PROVISIONING_KEY (or EDS_PROVISIONING_KEY_FILE) is required to provision data."
        )
    return raw.encode("utf-8")


def project_key(reference: str, generation: int) -> SecretKey:
    """The key of ``reference`` at ``generation``; its id names it without revealing it."""
    if generation < 1:
        raise ValueError("key generations start at 1")
    derived = hmac.new(
        _secret(), f"project-key:{reference}:{generation}".encode(), hashlib.sha256
    ).hexdigest()
    fingerprint = hashlib.sha256(b"key-id:" + derived.encode("ascii")).hexdigest()[:12]
    return SecretKey(derived.encode("ascii"), f"pk-{reference}-g{generation}-{fingerprint}")
