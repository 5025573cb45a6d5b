"""schemathesis against the API's own schema (issue 15, item 4): every operation, all checks, a
bounded number of examples, as a researcher (API token) and as staff (a session that passed the
second factor, with its CSRF token). No failure: no 5xx, every status and body documented."""

from __future__ import annotations

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

from eds_portal.wsgi import application
from projects.actions import create_project, save_section
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

# Per operation and role: about 65 operations x 2 roles; the whole module stays under 2 minutes.
EXAMPLES = 4


@pytest.fixture
def credentials(request, settings, make_user, client):
    """(schema token, headers, cookies) of the role named by the ``credentials`` parameter."""
    from eds_portal.roles import Role

    settings.ALLOWED_HOSTS = [*django_settings.ALLOWED_HOSTS, "localhost", "testserver"]
    researcher = make_user(Role.RESEARCHER, email="rita@inserm.example")
    project = create_project(by=researcher, title="Bronchiolites")
    save_section(
        project=project, section_key="methodology", raw=VALID_SECTIONS["methodology"], by=researcher
    )
    key = Token.objects.create(user=researcher).key
    if request.param == "researcher":
        return key, {"Authorization": f"Token {key}"}, {}
    staff = make_user(Role.SECRETARIAT, Role.DPO, full_name="Sam Secretariat")
    login(client, staff)
    csrf = _get_new_csrf_string()
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    cookies = {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: csrf}
    return key, {"X-CSRFToken": csrf}, cookies


# Bodies documented as free-form objects of form fields, validated by the same forms as the pages
# (codes, ranges, choices): the schema cannot say which values are valid, so "a schema-valid body
# is accepted" is not checked there; every other check is.
FREE_FORM_BODIES = {
    "POST /api/v1/warehouse/feasibility/",
    "PUT /api/v1/projects/{id}/sections/{key}/",
}


def _excluded(case):
    if case.operation.label in FREE_FORM_BODIES:
        return [schemathesis.checks.positive_data_acceptance]
    return None


@pytest.fixture
def keep_connection():
    """As Django's test client does: the request must not close the test's connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(credentials, keep_connection):
    # The schema is the same for every account; the researcher's token fetches it.
    key = credentials[0]
    return schemathesis.openapi.from_wsgi(
        "/api/v1/schema/", application, headers={"Authorization": f"Token {key}"}
    )


@pytest.mark.parametrize("credentials", ["researcher", "staff"], indirect=True)
def test_the_api_keeps_its_schema(request, api_schema, credentials):
    # Driven by hand rather than by ``schema.parametrize()``: its lazy loading from a fixture
    # does not work with pytest 9 (it renames test nodes through a removed attribute).
    _key, headers, cookies = credentials
    failures: dict[str, str] = {}
    calls = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            nonlocal calls
            calls += 1
            # Set on the case, so that the auth checks know them for credentials and take them
            # away in their probes.
            case.headers = {**(case.headers or {}), **headers}
            case.cookies = {**(case.cookies or {}), **cookies}
            # As schemathesis' own apply_basic_auth does: these are the real credentials.
            case._has_explicit_auth = True
            case.call_and_validate(excluded_checks=_excluded(case))

        try:
            check()
        except Exception as failure:  # every operation is tried, all failures reported
            failures[operation.label] = str(failure)[:2000]
    print(f"schemathesis as {request.node.callspec.id}: {calls} examples")
    assert not failures, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
