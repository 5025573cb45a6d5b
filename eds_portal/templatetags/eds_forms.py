"""Template helpers for forms: the links of an error summary to the fields in error."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms, template

from eds_portal.forms import field_anchor

register = template.Library()


@dataclass(frozen=True)
class ErrorLink:
    anchor: str  # the id of the input to go to; empty for a hidden field
    label: str
    message: str


@register.simple_tag
def error_links(*page_forms: forms.BaseForm | None) -> list[ErrorLink]:
    """Every field error of the page's forms, in the order of their fields."""
    links = []
    for form in page_forms:
        if not isinstance(form, forms.BaseForm) or not form.errors:
            continue
        for field in form:
            for error in field.errors:
                links.append(
                    ErrorLink(field_anchor(field), str(field.label or field.name), str(error))
                )
    return links
