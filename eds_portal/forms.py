"""Form helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict


def querydict_from(data: Mapping[str, Any]) -> QueryDict:
    """Form data from stored or JSON values, as a browser would post them.

    Lists become repeated keys (multiple choices), None is left out, the rest is text; a
    QueryDict is returned as it is. Drafts store what was typed this way, and the API takes JSON
    bodies through the same forms as the pages.
    """
    if isinstance(data, QueryDict):
        return data
    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            query.setlist(key, [str(item) for item in value])
        elif value is not None:
            query[key] = str(value)
    return query
