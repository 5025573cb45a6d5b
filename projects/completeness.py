"""What a draft still lacks before it can be submitted, each item with a link to it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from projects.models import AttachmentKind, Draft, Project, TeamRole
from projects.sections import SECTIONS, bound_form

REQUIRED_ATTACHMENTS = (
    AttachmentKind.PROTOCOL,
    AttachmentKind.INFORMATION_NOTE,
    AttachmentKind.DECLARATION_OF_INTERESTS,
)


@dataclass(frozen=True)
class MissingItem:
    section: str
    section_title: str | Promise
    label: str | Promise
    message: str | Promise
    url: str


def missing_items(project: Project) -> list[MissingItem]:
    # Read afresh: an action may have saved the draft through another instance.
    content = Draft.objects.filter(project=project).values_list("content", flat=True).get()
    items: list[MissingItem] = []
    for section in SECTIONS:
        url = reverse("project_section", args=[project.pk, section.key])
        form = bound_form(section, content)
        if not form.is_bound:
            items.append(
                MissingItem(
                    section.key,
                    section.title,
                    section.title,
                    _("This section has not been started."),
                    url,
                )
            )
            continue
        if form.is_valid():
            continue
        for name, errors in form.errors.items():
            if name == "__all__":
                for error in errors:
                    items.append(MissingItem(section.key, section.title, section.title, error, url))
                continue
            label = form.fields[name].label if name in form.fields else name
            for error in errors:
                items.append(
                    MissingItem(section.key, section.title, label, error, f"{url}#id_{name}")
                )
    present = set(
        project.attachments.filter(removed_at__isnull=True).values_list("kind", flat=True)
    )
    attachments_url = reverse("project_attachments", args=[project.pk])
    for kind in REQUIRED_ATTACHMENTS:
        if kind not in present:
            items.append(
                MissingItem(
                    "attachments",
                    _("Attachments"),
                    kind.label,
                    _("Attach this document."),
                    attachments_url,
                )
            )
    if not project.memberships.filter(
        role__in=[TeamRole.LEAD, TeamRole.CO_INVESTIGATOR, TeamRole.ANALYST]
    ).exists():
        items.append(
            MissingItem(
                "team",
                _("Team"),
                _("Team"),
                _("The project has no team."),
                reverse("project_team", args=[project.pk]),
            )
        )
    return items
