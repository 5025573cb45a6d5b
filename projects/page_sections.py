"""Sections of a project's page contributed by other modules, registered here.

Not the draft's sections (the protocol the researcher fills in: projects/sections.py). The
review, questions, sessions and decisions modules, and access's formalities and provisioning,
each add what a user may see of them on the project's page (``register_page_section`` from
their ``register`` function, called by their app's ``ready``). A section's ``context`` returns
None when there is nothing for this user: it is then not rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from projects.models import Project


@dataclass(frozen=True)
class PageSection:
    key: str
    template_name: str
    context: Callable[[HttpRequest, Project], dict[str, Any] | None]
    # Lower first.
    order: int = 100


_sections: list[PageSection] = []


def register_page_section(section: PageSection) -> None:
    if any(existing.key == section.key for existing in _sections):
        raise ValueError(f"page section {section.key!r} is registered twice")
    _sections.append(section)
    _sections.sort(key=lambda s: (s.order, s.key))


def render_page_sections(request: HttpRequest, project: Project) -> list[dict[str, Any]]:
    rendered = []
    for section in _sections:
        context = section.context(request, project)
        if context is not None:
            rendered.append({"key": section.key, "template_name": section.template_name, **context})
    return rendered
