"""A fuzzer over every page, form and API operation (issue 15, item 3): NUL bytes, control
characters, lone surrogates, Unicode digits and huge numbers in every query parameter, form field,
path segment and JSON property, as anonymous, researcher and staff. Never a 5xx.

Deterministic: the values and the order come from a seeded ``random.Random``.
"""

from __future__ import annotations

import json
import random
import re
from html import unescape
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from eds_portal.roles import Role
from projects.actions import create_project, save_section
from tests.conftest import login
from tests.projects.helpers import VALID_SECTIONS

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])

SEED = 20261205
# Sent in bodies (the test client encodes them as UTF-8; a lone surrogate only fits in JSON).
TEXT_VALUES = ["\x00", "a\x01b\x7f", "\x1b[31m", "²", "٣٤", "9" * 30, "-1", "1e309", "\u202e"]
JSON_ONLY_VALUES = ["\ud800", "x\udfff"]
# Sent in query strings, already percent-encoded: NUL, controls, an encoded surrogate, bad UTF-8.
QUERY_VALUES = ["%00", "a%01b", "%ED%A0%80", "%FF", "%C2%B2", "%D9%A3", "9" * 30, "%0D%0A"]
QUERY_NAMES = ["q", "project", "version", "year", "page", "status", "on", "since", "until"]
_SKIP_PATHS = ("/admin/", "/static/", "/accounts/logout/")
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_FIELD = re.compile(r"<(?:input|textarea|select)\b([^>]*)>")


def _routes(patterns=None, prefix: str = "") -> list[str]:
    patterns = get_resolver().url_patterns if patterns is None else patterns
    routes = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            routes.append(route)
    return routes


def _fill(route: str, values: dict[str, str]) -> str | None:
    if route.startswith("^") or "(?P" in route:
        return None  # the admin's regular expressions
    return "/" + re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: values.get(m.group(1) or "str", "1"), route
    ).lstrip("/")


def _forms(html: str) -> list[tuple[str, str, list[str]]]:
    forms = []
    for attributes, body in _FORM.findall(html):
        attrs = dict(_ATTR.findall(attributes))
        names = []
        for field in _FIELD.findall(body):
            field_attrs = dict(_ATTR.findall(field))
            if field_attrs.get("name") and field_attrs["name"] != "csrfmiddlewaretoken":
                names.append(unescape(field_attrs["name"]))
        forms.append((attrs.get("method", "get").lower(), unescape(attrs.get("action", "")), names))
    return forms


@pytest.fixture
def world(make_user):
    researcher = make_user(Role.RESEARCHER, email="rita@inserm.example")
    project = create_project(by=researcher, title="Bronchiolites")
    for key in ("methodology", "purpose"):
        save_section(project=project, section_key=key, raw=VALID_SECTIONS[key], by=researcher)
    staff = make_user(Role.SECRETARIAT, Role.DPO, Role.DATA_STEWARD, full_name="Sam Staff")
    return {"researcher": researcher, "staff": staff, "project": project}


@pytest.mark.parametrize("persona", ["anonymous", "researcher", "staff"])
def test_no_hostile_input_gives_a_server_error(client, world, persona):
    rng = random.Random(f"{SEED}-{persona}")
    api = APIClient()
    if persona != "anonymous":
        login(client, world[persona])
        login(api, world[persona])
    project = world["project"]
    values = {"int": str(project.pk), "slug": "methodology", "str": project.reference}
    failures: list[str] = []
    sent = 0

    def check(response, what: str) -> None:
        nonlocal sent
        sent += 1
        for closer in getattr(response, "_resource_closers", []):
            closer()
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {what}")

    routes = sorted({_fill(route, values) for route in _routes()} - {None})
    routes = [route for route in routes if not route.startswith(_SKIP_PATHS)]
    for url in routes:
        # Query strings: every hostile value in the usual parameter names.
        # (A seeded sample of the values per page keeps the run near a minute per persona.)
        for value in ["%00", *rng.sample(QUERY_VALUES[1:], 2)]:
            query = "&".join(f"{name}={value}" for name in rng.sample(QUERY_NAMES, 4))
            check(client.get(f"{url}?{query}"), f"GET {url}?{query}")
        # Path segments: the object's number and name replaced by hostile ones.
        for hostile in ("%00", "9" * 30, "%C2%B2"):
            bad = url.replace(f"/{project.pk}/", f"/{hostile}/").replace(project.reference, hostile)
            if bad != url:
                check(client.get(bad), f"GET {bad}")
        if url.startswith("/api/"):
            continue
        # Forms: every field of every form of the page, with each hostile value.
        page = client.get(url)
        check(page, f"GET {url}")
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        for method, action, names in _forms(page.content.decode()):
            target = action or url
            if not names or not target.startswith("/") or target.startswith(_SKIP_PATHS):
                continue
            for value in ["\x00", *rng.sample(TEXT_VALUES[1:], 3)]:
                data = dict.fromkeys(names, value)
                if method == "post":
                    check(client.post(target, data), f"POST {target} {names} {value!r}")
                else:
                    check(client.get(target, data), f"GET {target} {names} {value!r}")

    # The API: every operation's JSON body and query parameters, from the schema.
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        url = _fill(re.sub(r"\{(\w+)\}", r"<\1>", path), {"str": str(project.pk)})
        url = re.sub(r"/(key)/", "/methodology/", url) if url else url
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            if names:
                for value in QUERY_VALUES:
                    query = "&".join(f"{name}={value}" for name in names)
                    check(api.generic(method.upper(), f"{url}?{query}"), f"{method} {url}?{query}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            ref = body.get("schema", {}).get("$ref", "")
            fields = list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))
            fields = fields or ["methodology", "icpc2_codes", "title"]
            for value in TEXT_VALUES + JSON_ONLY_VALUES:
                payload = json.dumps(dict.fromkeys(fields, value))
                check(
                    api.generic(method.upper(), url, payload, content_type="application/json"),
                    f"{method} {url} {quote(payload[:80])}",
                )
                payload = json.dumps({name: [value, value] for name in fields})
                check(
                    api.generic(method.upper(), url, payload, content_type="application/json"),
                    f"{method} {url} lists",
                )

    print(f"fuzzer as {persona}: {sent} requests")
    assert sent > 500
    assert not failures, "\n".join(failures[:50])
