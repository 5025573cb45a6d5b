"""Sections of the secretariat's pipeline contributed by other apps (access adds the projects
due for closeout): projects does not import access, so access registers them from its
``ready``. A section's ``context`` returns None when there is nothing to show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class PipelineSection:
    key: str
    template_name: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_sections: list[PipelineSection] = []


def register_pipeline_section(section: PipelineSection) -> None:
    if any(existing.key == section.key for existing in _sections):
        return  # registered already (ready() may run twice in tests)
    _sections.append(section)
    _sections.sort(key=lambda s: (s.order, s.key))


def render_pipeline_sections(request: HttpRequest) -> list[dict[str, Any]]:
    rendered = []
    for section in _sections:
        context = section.context(request)
        if context is not None:
            rendered.append({"key": section.key, "template_name": section.template_name, **context})
    return rendered
