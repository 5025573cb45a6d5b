"""The API keeps its schema (issue 15, item 4): JSON errors on every API path, every status
documented, request bodies closed."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])


@pytest.fixture
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_an_unknown_api_path_is_a_json_404(client, researcher):
    for who in (None, researcher):
        if who:
            login(client, who)
        response = client.get("/api/v1/no-such-thing/")
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        assert "detail" in response.json()
    # The pages keep their HTML 404.
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


def test_every_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "403", "404"} <= codes, (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert "409" in codes, (method, path)


def test_request_bodies_allow_no_other_property(schema):
    components = schema["components"]["schemas"]
    closed = 0
    for operations in schema["paths"].values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                ref = media["schema"].get("$ref")
                if ref:
                    component = components[ref.rsplit("/", 1)[-1]]
                    assert component["additionalProperties"] is False, ref
                    closed += 1
    assert closed > 10


def test_unknown_fields_in_a_body_are_refused(researcher):
    api = login(APIClient(), researcher)
    response = api.post(
        "/api/v1/projects/", {"title": "Grippe", "status": "approved"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()
    assert api.post("/api/v1/projects/", {"title": "Grippe"}, format="json").status_code == 201


def test_text_parameters_say_no_control_character(schema):
    parameters = [
        parameter
        for operations in schema["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", [])
        if parameter["schema"].get("type") == "string"
        and "format" not in parameter["schema"]
        and "enum" not in parameter["schema"]
    ]
    assert parameters
    assert all("pattern" in parameter["schema"] for parameter in parameters)
