"""Login throttling helpers for django-axes."""

from __future__ import annotations


def login_username(request, credentials) -> str:
    """The address as the account lookup sees it: "Victim@X" and "victim@x" are one account.

    Without this, each spelling of an address would get its own quota of failures.
    """
    value = (credentials or {}).get("username") or ""
    return value.strip().lower()
