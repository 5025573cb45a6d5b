"""What a draft still lacks before it can be submitted, each item with a link to it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from eds_portal.forms import field_anchor
from projects.models import AttachmentKind, Draft, Invitation, Project, TeamRole
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


_WORD = re.compile(r"[^\W_]+")
_EMAIL = re.compile(r"[^\s,;<>()]+@[^\s,;<>()]+")


def _words(text: str) -> set[str]:
    """The words of a name, without case or accents: "Hélène" and "HELENE" are one word."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return set(_WORD.findall(plain.casefold()))


def named_recipients(content: dict) -> list[str]:
    """The lines of the draft's "Data recipients" field, one person (and organisation) each."""
    text = str((content.get("actors") or {}).get("data_recipients") or "")
    lines = (line.strip().lstrip("-•*").strip() for line in text.splitlines())
    return [line for line in lines if line]


def recipients_not_on_team(project: Project, content: dict) -> list[str]:
    """The named recipients who match no team member, by full name or e-mail address.

    The approved specification names the team members (the decision freezes the team of the
    version), so a recipient outside the team would receive nothing: better to say so before
    submission than to drop them silently.
    """
    members = [
        (_words(user.full_name), user.email.casefold())
        for user in (m.user for m in project.memberships.select_related("user"))
    ]
    unmatched = []
    for line in named_recipients(content):
        words = _words(line)
        emails = {address.casefold() for address in _EMAIL.findall(line)}
        if any((name and name <= words) or email in emails for name, email in members):
            continue
        unmatched.append(line)
    return unmatched


def _recipient_item(project: Project, line: str, url: str) -> MissingItem:
    # The person is what comes before the organisation ("Name, Organisation").
    person = line.split(",")[0].strip() or line
    emails = [address.casefold() for address in _EMAIL.findall(line)]
    invited = (
        emails
        and Invitation.objects.filter(
            project=project,
            email__in=emails,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).exists()
    )
    if invited:
        message = _(
            "%(person)s is named as a data recipient but has not accepted the invitation to "
            "the team yet: the data would not reach them. Ask them to accept it, or remove "
            "them from the recipients."
        ) % {"person": person}
    else:
        message = _(
            "%(person)s is named as a data recipient but is not a member of the project's team: "
            "the data would not reach them. Invite them to the team (as an analyst if they only "
            "receive data), or remove them from the recipients."
        ) % {"person": person}
    return MissingItem("team", _("Team"), _("Data recipients"), message, url)


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
            anchor = field_anchor(form[name]) if name in form.fields else ""
            for error in errors:
                items.append(
                    MissingItem(
                        section.key,
                        section.title,
                        label,
                        error,
                        f"{url}#{anchor}" if anchor else url,
                    )
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
    team_url = reverse("project_team", args=[project.pk])
    for line in recipients_not_on_team(project, content):
        items.append(_recipient_item(project, line, team_url))
    return items
