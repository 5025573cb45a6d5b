"""Filters for the pages that show a data request or a specification.

``{% load data_request %}``, then ``{{ generalisation|reidentification_note }}`` (the warning the
catalogue attaches to a generalisation that keeps the time of day, or nothing),
``{{ generalisation|generalisation_label }}``, ``{{ code|variable_label }}`` and
``{{ content_or_specification|delivery_shape_label }}``.
"""

from __future__ import annotations

from typing import Any

from django import template

from projects.sections import delivery_shape_of
from warehouse import catalogue

register = template.Library()


@register.filter
def reidentification_note(generalisation: Any) -> str:
    note = catalogue.reidentification_note(str(generalisation or ""))
    return str(note) if note else ""


@register.filter
def generalisation_label(value: Any) -> str:
    """The label of a stored generalisation ("departement" reads "Département"); empty stays
    empty, an unknown value is shown as it is."""
    value = str(value or "")
    if value in catalogue.Generalisation.values:
        return str(catalogue.Generalisation(value).label)
    return value


@register.filter
def variable_label(code: Any) -> str:
    """The label of a catalogue variable from its code (the code itself if unknown)."""
    variable = catalogue.BY_CODE.get(str(code or ""))
    return variable.label if variable is not None else str(code or "")


@register.filter
def delivery_shape_label(source: Any) -> str:
    """The label of the delivery shape of a version (its content), a request or a specification.

    A version's content holds the request under "data_request"; a specification or a request
    holds "delivery_shape" itself. Absent: the portal's tables.
    """
    if hasattr(source, "content"):
        source = (source.content or {}).get("data_request")
    if isinstance(source, dict) and "data_request" in source:
        source = source["data_request"]
    try:
        return str(delivery_shape_of(source if isinstance(source, dict) else None).label)
    except ValueError:
        # Only a draft can hold an unknown value (the forms refuse to submit it): show it.
        return str(source.get("delivery_shape"))
