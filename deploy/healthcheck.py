"""Container health check of a web process: exit 0 when gunicorn answers on the port, else 1.

Usage: ``python deploy/healthcheck.py [PORT]`` (8000 by default), inside the container.

It asks ``/healthz`` as the proxy would (an allowed host name, X-Forwarded-Proto: https), so that
the request reaches the portal instead of a redirect or a refused host. Any answer, 503 included,
means this process serves: a 503 says that something else is down (a worker, beat, a database),
which the load balancer reads from ``/healthz`` itself and restarting the web would not mend.
"""

from __future__ import annotations

import http.client
import os
import sys


def _host() -> str:
    for name in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        name = name.strip().lstrip("*.")
        if name:
            return name
    return "localhost"


def main(argv: list[str]) -> int:
    port = int(argv[1]) if len(argv) > 1 else 8000
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "GET", "/healthz", headers={"Host": _host(), "X-Forwarded-Proto": "https"}
        )
        status = connection.getresponse().status
    except OSError as exc:
        print(f"no answer on port {port}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    print(f"/healthz answered {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
