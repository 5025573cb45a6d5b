"""Hostile JSON bodies on the feasibility API: a clear 400, never a 500 (PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from eds_portal.forms import has_unstorable_text
from tests.conftest import login

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])


@pytest.mark.parametrize(
    "body",
    [
        {"icpc2_codes": "\ud800"},
        {"sex": "\udfff"},
        {"icpc2_codes": "R7\x00"},
        {"departements": ["\x00"]},
        {"\ud800": "R74"},
    ],
)
def test_nul_bytes_and_lone_surrogates_are_refused_with_a_400(client, researcher, body):
    login(client, researcher)
    response = client.post(
        "/api/v1/warehouse/feasibility/", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    # Refused by the API's JSON parser (eds_portal/api/parsers.py) before the view.
    assert "caractère de contrôle" in response.json()["detail"]


def test_the_check_walks_nested_values():
    assert has_unstorable_text({"a": ["ok", {"b": "x\x00"}]})
    assert has_unstorable_text(("\udc80",))
    assert not has_unstorable_text({"a": ["ok", {"b": "Fièvre 39,5 °C"}], "n": 12})
