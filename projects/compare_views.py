"""Two versions of a project side by side (GOV-12, GOV-13)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import formats
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from projects.diff import (
    ChangeStatus,
    FieldChange,
    SectionComparison,
    VersionComparison,
    compare_versions,
)
from projects.models import ProtocolVersion
from projects.views import ProjectView


class CompareForm(forms.Form):
    old = forms.TypedChoiceField(
        label=_("From version"),
        coerce=int,
        error_messages={
            "required": _("Choose the version to compare from."),
            "invalid_choice": _("This project has no version %(value)s."),
        },
    )
    new = forms.TypedChoiceField(
        label=_("To version"),
        coerce=int,
        error_messages={
            "required": _("Choose the version to compare with."),
            "invalid_choice": _("This project has no version %(value)s."),
        },
    )
    # value="1" so that the ticked box sends the same ``all=1`` as the link.
    all = forms.BooleanField(
        label=_("Also show the unchanged fields"),
        required=False,
        widget=forms.CheckboxInput(attrs={"value": "1"}),
    )

    def __init__(self, *args, versions: list[ProtocolVersion], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(v.number), _version_label(v)) for v in versions]
        self.fields["old"].choices = choices
        self.fields["new"].choices = choices

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("old") is not None and cleaned.get("old") == cleaned.get("new"):
            self.add_error("new", _("Choose two different versions."))
        return cleaned


def _version_label(version: ProtocolVersion) -> str:
    when = formats.date_format(version.submitted_at, "SHORT_DATE_FORMAT")
    return gettext("Version %(n)s (%(when)s)") % {"n": version.number, "when": when}


def _choice(
    request: HttpRequest, versions: list[ProtocolVersion], bases: dict[int, int] | None = None
) -> dict[str, str]:
    """The GET parameters, with the defaults: the latest version and the one before it, or,
    for an amendment's version, the version in force that it amends (``bases``)."""
    numbers = [version.number for version in versions]
    new = request.GET.get("new", "").strip() or str(numbers[-1])
    old = request.GET.get("old", "").strip()
    if not old:
        try:
            index = numbers.index(int(new))
        except ValueError:
            index = 0
        old = str(numbers[index - 1]) if index > 0 else ""
        base = (bases or {}).get(numbers[index])
        if base is not None and base != numbers[index]:
            old = str(base)
    return {"old": old, "new": new, "all": request.GET.get("all", "")}


def amendment_bases(project, versions: list[ProtocolVersion]) -> dict[int, int]:
    """For each version submitted as an amendment, the number of the version in force that
    its amendment amends (GOV-13): what the comparison shows by default."""
    if not any(version.is_amendment for version in versions):
        return {}  # no query for a project that never amended
    amendments = list(project.amendments.select_related("base_version").order_by("opened_at", "pk"))
    bases: dict[int, int] = {}
    for version in versions:
        if not version.is_amendment:
            continue
        opened = [a for a in amendments if a.opened_at <= version.submitted_at]
        if opened:
            bases[version.number] = opened[-1].base_version.number
    return bases


class VersionCompareView(ProjectView):
    template_name = "projects/compare.html"

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        # A project has a handful of versions: one query loads them all, contents included.
        versions = list(
            ProtocolVersion.objects.filter(project=self.project)
            .select_related("submitted_by")
            .order_by("number")
        )
        context = {"project": self.project, "versions": versions}
        if len(versions) < 2:
            return TemplateResponse(request, self.template_name, {**context, "too_few": True})
        bases = amendment_bases(self.project, versions)
        form = CompareForm(_choice(request, versions, bases), versions=versions)
        if not form.is_valid():
            return TemplateResponse(
                request, self.template_name, {**context, "form": form}, status=400
            )
        by_number = {version.number: version for version in versions}
        old, new = by_number[form.cleaned_data["old"]], by_number[form.cleaned_data["new"]]
        show_all = form.cleaned_data["all"]
        comparison = compare_versions(old, new)
        return TemplateResponse(
            request,
            self.template_name,
            {
                **context,
                "form": form,
                "old": old,
                "new": new,
                "show_all": show_all,
                "comparison": comparison,
                "blocks": _blocks(comparison, show_all=show_all),
                "substantial": comparison.substantial_changes(),
                "amends": bases.get(new.number) == old.number,
            },
        )


# --- Presentation: every part of the comparison as the same kind of table -------------------
# One table shape (a row header, the older cell, the newer cell, the change in words) lets the
# template mark <ins>/<del> in one place only.


def _cells(*parts: tuple[FieldChange, str]) -> list[list[dict]]:
    """The older and the newer cell, each a list of (optionally labelled) values."""
    return [
        [{"label": lbl, "separator": c.separator, "segments": c.old_segments} for c, lbl in parts],
        [{"label": lbl, "separator": c.separator, "segments": c.new_segments} for c, lbl in parts],
    ]


def _row(label, status, change, cells, *, code: str = "", detail: str = "") -> dict:
    return {
        "label": label,
        "code": code,
        "detail": detail,
        "status": status,
        "change": change,
        "cells": cells,
    }


def _table(key: str, caption: str, subject: str, rows: list[dict]) -> list[dict]:
    return [{"key": key, "caption": caption, "subject": subject, "rows": rows}] if rows else []


def _field_rows(changes, show_all: bool) -> list[dict]:
    return [
        _row(c.label, c.status, c.status.label, _cells((c, "")))
        for c in changes
        if show_all or c.changed
    ]


def _section_tables(section: SectionComparison, show_all: bool) -> list[dict]:
    tables = _table(
        f"{section.key}-fields",
        gettext("Fields"),
        gettext("Field"),
        _field_rows(section.fields, show_all),
    )
    if section.key == "data_request":
        tables += _table(
            "data_request-criteria",
            gettext("Cohort criteria"),
            gettext("Criterion"),
            _field_rows(section.criteria, show_all),
        )
        generalisation, justification = gettext("Generalisation"), gettext("Justification")
        variables = [
            _row(
                v.label,
                v.status,
                v.description,
                _cells((v.generalisation, generalisation), (v.justification, justification)),
                code=v.code,
            )
            for v in section.variables
            if show_all or v.changed
        ]
        tables += _table(
            "data_request-variables", gettext("Requested variables"), gettext("Variable"), variables
        )
    return tables


def _blocks(comparison: VersionComparison, *, show_all: bool) -> list[dict]:
    """The sections to show: those with changes, or all of them with ``all=1``."""
    blocks = [
        {
            "key": section.key,
            "title": section.title,
            "has_changes": section.has_changes,
            "tables": _section_tables(section, show_all),
        }
        for section in comparison.sections
    ]
    role_changed = pgettext("team member", "Role changed")
    members = [
        _row(
            m.name or m.email,
            m.status,
            role_changed if m.status == ChangeStatus.CHANGED else m.status.label,
            _cells((m.role, "")),
            detail=m.email if m.name else "",
        )
        for m in comparison.team
        if show_all or m.changed
    ]
    blocks.append(
        {
            "key": "team",
            "title": comparison.team_title,
            "has_changes": bool(comparison.changed_team),
            "tables": _table("team-members", gettext("Members"), gettext("Member"), members),
        }
    )
    files = [
        _row(
            a.kind_label, a.status, a.status.label, _cells((a.file, ""), (a.fingerprint, "SHA-256"))
        )
        for a in comparison.attachments
        if show_all or a.changed
    ]
    blocks.append(
        {
            "key": "attachments",
            "title": comparison.attachments_title,
            "has_changes": bool(comparison.changed_attachments),
            "tables": _table("attachments-files", gettext("Files"), gettext("Kind"), files),
        }
    )
    return [block for block in blocks if show_all or block["has_changes"]]
