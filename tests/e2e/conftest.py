"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

``EDS_CHROMIUM`` overrides the browser's path; without a browser the tests are skipped, unless
``EDS_REQUIRE_BROWSER`` is set (CI), in which case they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from eds_portal.env import env_bool, env_str

# Playwright's sync API runs an asyncio event loop in the test's thread; Django would otherwise
# refuse the ORM calls that fixtures and assertions make there (SynchronousOnlyOperation).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str:
    return env_str("EDS_CHROMIUM", DEFAULT_CHROMIUM)


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Iterator[Browser]:
    path = chromium_path()
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        reason = f"Chromium not found at {path} (install Debian's chromium package)"
        if env_bool("EDS_REQUIRE_BROWSER", False):
            pytest.fail(f"{reason}; EDS_REQUIRE_BROWSER is set (CI).", pytrace=False)
        pytest.skip(reason)
    # Once Playwright runs, this thread has a running event loop between its calls, and Django
    # hands out other connection objects than those the test database was set up with
    # (asgiref's thread-critical Local switches to context-local storage). Serialized rollback
    # reads the migration data from the connection object: carry it over, as Django's parallel
    # test runner does for its workers.
    serialized = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        yield browser
        browser.close()
        # Close those other connections while they are still reachable, or PostgreSQL would
        # refuse to drop the test database at the end of the session.
        connections.close_all()


@pytest.fixture
def context(
    browser: Browser, live_server, django_db_serialized_rollback
) -> Iterator[BrowserContext]:
    """A fresh browser profile on the live server, in French.

    The live server makes every browser test transactional: the database is flushed after each
    one, which also removes what data migrations created (the role groups); serialized rollback
    puts that data back before the next test.
    """
    # French is the portal's default language; pinning the browser's Accept-Language keeps the
    # pages the same whatever the machine's locale.
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def console_messages() -> list[ConsoleMessage]:
    """Everything the page logs to the console, including the browser's CSP reports."""
    return []


@pytest.fixture
def page(context: BrowserContext, console_messages: list[ConsoleMessage]) -> Page:
    page = context.new_page()

    # A plain function: Playwright cannot wrap a builtin method such as ``list.append``.
    def record(message: ConsoleMessage) -> None:
        console_messages.append(message)

    page.on("console", record)
    return page


def _format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"<{violation['helpUrl']}>"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html']}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {line}" for line in summary.splitlines())
    return "\n".join(lines)


@pytest.fixture
def assert_accessible():
    """Runs axe-core on the page and fails with each violation's rule, impact and nodes."""
    axe = Axe()

    def check(page: Page) -> None:
        violations = axe.run(page).response["violations"]
        assert not violations, (
            f"axe-core found {len(violations)} accessibility violation(s) on {page.url}:\n"
            + _format_violations(violations)
        )

    return check


@pytest.fixture
def assert_no_csp_violation(console_messages: list[ConsoleMessage]):
    """Fails if the browser reported a Content-Security-Policy violation so far."""

    def check(page: Page) -> None:
        reports = [
            f"- [{message.type}] {message.text} ({message.location.get('url') or '?'})"
            for message in console_messages
            if "Content Security Policy" in message.text
        ]
        assert not reports, f"CSP violations up to {page.url}:\n" + "\n".join(reports)

    return check
