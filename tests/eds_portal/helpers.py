"""Helpers shared by the audit tests."""

from __future__ import annotations

from django.db import connection


def tamper(sql: str, params=()):
    """Tampering behind the application's back, as a database administrator could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Superuser only: ordinary triggers (ours included) do not fire for this session.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
