"""Is a PostgreSQL or Redis server reachable? Used to choose the test backends."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit


def _tcp_open(host: str, port: int, timeout: float = 1.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_reachable(url: str) -> bool:
    """True when a PostgreSQL server answers a real login at the URL's host."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    if not _tcp_open(host, port):
        return False
    import psycopg

    try:
        # The maintenance database always exists; the portal's may not yet.
        with psycopg.connect(
            host=host,
            port=port,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname="postgres",
            connect_timeout=3,
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    if not _tcp_open(parts.hostname or "127.0.0.1", parts.port or 6379):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        return False
