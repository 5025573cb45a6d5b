"""Form helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.forms import BoundField
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


def has_unstorable_text(data: Any) -> bool:
    """True when a string in ``data`` holds a NUL byte or a lone surrogate.

    JSON bodies can carry both (``"\\u0000"``, ``"\\ud800"``); PostgreSQL refuses them and a
    message quoting them cannot even be encoded: refuse them at the edge with a 400.
    """
    if isinstance(data, str):
        return "\x00" in data or any("\ud800" <= char <= "\udfff" for char in data)
    if isinstance(data, Mapping):
        return any(has_unstorable_text(key) or has_unstorable_text(v) for key, v in data.items())
    if isinstance(data, list | tuple):
        return any(has_unstorable_text(item) for item in data)
    return False


def field_anchor(field: BoundField) -> str:
    """The id of the element that takes the focus for a field, for links to it: the input, or
    the first of a group of radios or checkboxes (Django gives a group no id of its own).
    Empty for a hidden field."""
    if field.is_hidden or not field.auto_id:
        return ""
    return field.id_for_label or f"{field.auto_id}_0"
