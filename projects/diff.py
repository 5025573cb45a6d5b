"""Two versions of a protocol compared field by field and variable by variable (GOV-12, GOV-13).

``compare_versions`` reads nothing but the two frozen contents (and the reference lists that
give labels to codes): what the commission sees is what was submitted, not what the team or the
attachments look like today. Every value is compared on its raw form, normalised (spaces at the
ends, line endings, order of multiple choices), and shown as the version page shows it.

Changed long texts come with a word-level diff made of plain-text segments, so that templates
mark them with ``<ins>``/``<del>`` while auto-escaping the user's words (never ``|safe``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from projects.models import AttachmentKind, ProtocolVersion, RegulatoryRoute, TeamRole
from projects.sections import SECTIONS, DataRequestForm, Section
from warehouse import catalogue
from warehouse.catalogue import Generalisation

# Above this many characters a single-line text is diffed word by word too.
LONG_TEXT = 120
# Enough of a SHA-256 for a reader to tell two files apart.
SHA_SHOWN = 12
VARIABLE_PREFIXES = ("var__", "just__", "gen__")
_TRUE = {"on", "true", "1", "yes"}
_TOKENS = re.compile(r"\n|[^\s]+")


class ChangeStatus(models.TextChoices):
    ADDED = "added", pgettext_lazy("change status", "Added")
    """Absent or empty in the older version, present in the newer one."""
    REMOVED = "removed", pgettext_lazy("change status", "Removed")
    """Present in the older version, absent or empty in the newer one."""
    CHANGED = "changed", pgettext_lazy("change status", "Changed")
    """Present in both with different values (for a variable: generalisation or justification)."""
    REPLACED = "replaced", pgettext_lazy("change status", "Replaced")
    """An attachment of the same kind whose file differs (another SHA-256)."""
    UNCHANGED = "unchanged", pgettext_lazy("change status", "Unchanged")
    """The same in both versions."""


class SegmentKind(models.TextChoices):
    # Never shown as such: templates turn them into <ins>/<del> with their own words.
    EQUAL = "equal"
    """Words found in both versions."""
    INSERTED = "inserted"
    """Words only in the newer version."""
    DELETED = "deleted"
    """Words only in the older version."""


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    text: str


@dataclass(frozen=True)
class FieldChange:
    """One value in both versions: its label, how each shows it, and what happened to it."""

    name: str
    label: str
    old: str
    new: str
    status: ChangeStatus
    # For changed long texts only: the words, in order, each equal, inserted or deleted.
    word_diff: tuple[Segment, ...] = ()
    # Items of a multiple choice, each marked, when the field holds several values.
    old_items: tuple[Segment, ...] = ()
    new_items: tuple[Segment, ...] = ()

    @property
    def changed(self) -> bool:
        return self.status != ChangeStatus.UNCHANGED

    @property
    def separator(self) -> str:
        return ", " if self.old_items or self.new_items else " "

    @property
    def old_segments(self) -> tuple[Segment, ...]:
        """What the older column shows, removed parts marked."""
        if self.word_diff:
            return tuple(s for s in self.word_diff if s.kind != SegmentKind.INSERTED)
        if self.old_items:
            return self.old_items
        if not self.old:
            return ()
        kind = SegmentKind.EQUAL if self.status == ChangeStatus.UNCHANGED else SegmentKind.DELETED
        return (Segment(kind, self.old),)

    @property
    def new_segments(self) -> tuple[Segment, ...]:
        """What the newer column shows, added parts marked."""
        if self.word_diff:
            return tuple(s for s in self.word_diff if s.kind != SegmentKind.DELETED)
        if self.new_items:
            return self.new_items
        if not self.new:
            return ()
        kind = SegmentKind.EQUAL if self.status == ChangeStatus.UNCHANGED else SegmentKind.INSERTED
        return (Segment(kind, self.new),)


@dataclass(frozen=True)
class VariableChange:
    """A catalogue variable requested in either version."""

    code: str
    label: str
    status: ChangeStatus
    generalisation: FieldChange
    justification: FieldChange

    @property
    def changed(self) -> bool:
        return self.status != ChangeStatus.UNCHANGED

    @property
    def generalisation_changed(self) -> bool:
        return self.status == ChangeStatus.CHANGED and self.generalisation.changed

    @property
    def justification_changed(self) -> bool:
        return self.status == ChangeStatus.CHANGED and self.justification.changed

    @property
    def description(self) -> str:
        """The change in words, for the status column."""
        if self.status != ChangeStatus.CHANGED:
            return str(self.status.label)
        parts = []
        if self.generalisation_changed:
            parts.append(gettext("Generalisation changed"))
        if self.justification_changed:
            parts.append(gettext("Justification changed"))
        return ", ".join(parts)


@dataclass(frozen=True)
class MemberChange:
    """A team member listed in either version."""

    key: str
    name: str
    email: str
    status: ChangeStatus
    role: FieldChange

    @property
    def changed(self) -> bool:
        return self.status != ChangeStatus.UNCHANGED


@dataclass(frozen=True)
class AttachmentChange:
    """An attachment of either version, paired by kind and SHA-256."""

    kind: str
    kind_label: str
    status: ChangeStatus
    file: FieldChange
    fingerprint: FieldChange

    @property
    def changed(self) -> bool:
        return self.status != ChangeStatus.UNCHANGED


@dataclass(frozen=True)
class SectionComparison:
    key: str
    title: str
    fields: tuple[FieldChange, ...] = ()
    # Data request only: the cohort criteria and the variables.
    criteria: tuple[FieldChange, ...] = ()
    variables: tuple[VariableChange, ...] = ()

    @property
    def changed_criteria(self) -> tuple[FieldChange, ...]:
        return tuple(f for f in self.criteria if f.changed)

    def field(self, name: str) -> FieldChange | None:
        return next((f for f in (*self.fields, *self.criteria) if f.name == name), None)

    def statuses(self) -> list[ChangeStatus]:
        return [item.status for item in (*self.fields, *self.criteria, *self.variables)]

    @property
    def has_changes(self) -> bool:
        return any(status != ChangeStatus.UNCHANGED for status in self.statuses())


@dataclass(frozen=True)
class SummaryRow:
    key: str
    title: str
    added: int
    removed: int
    changed: int

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed


def _summary_row(key: str, title: str, statuses: Iterable[ChangeStatus]) -> SummaryRow:
    statuses = list(statuses)
    return SummaryRow(
        key=key,
        title=title,
        added=statuses.count(ChangeStatus.ADDED),
        removed=statuses.count(ChangeStatus.REMOVED),
        changed=statuses.count(ChangeStatus.CHANGED) + statuses.count(ChangeStatus.REPLACED),
    )


@dataclass(frozen=True)
class VersionComparison:
    old_number: int
    new_number: int
    sections: tuple[SectionComparison, ...]
    team: tuple[MemberChange, ...] = ()
    attachments: tuple[AttachmentChange, ...] = ()
    team_title: str = ""
    attachments_title: str = ""
    summary: tuple[SummaryRow, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(row.total for row in self.summary)

    @property
    def changed_team(self) -> tuple[MemberChange, ...]:
        return tuple(m for m in self.team if m.changed)

    @property
    def changed_attachments(self) -> tuple[AttachmentChange, ...]:
        return tuple(a for a in self.attachments if a.changed)

    def section(self, key: str) -> SectionComparison:
        return next(s for s in self.sections if s.key == key)

    def substantial_changes(self) -> list[str]:
        """The changes that GOV-13 calls substantial: they reopen review and the public page."""
        found: list[str] = []
        request = self.section("data_request")
        for variable in request.variables:
            if variable.status == ChangeStatus.ADDED:
                found.append(
                    gettext("New variable: %(label)s (%(code)s)")
                    % {"label": variable.label, "code": variable.code}
                )
        population = self.section("methodology").field("population")
        if population and population.changed:
            found.append(gettext("Population studied changed"))
        criteria = request.changed_criteria
        if criteria:
            found.append(
                gettext("Cohort criteria changed: %(fields)s")
                % {"fields": ", ".join(c.label for c in criteria)}
            )
        linkage = self.section("route").field("linkage_other_sources")
        if linkage and linkage.changed:
            found.append(
                gettext("Linkage with other sources: %(old)s → %(new)s")
                % {"old": linkage.old or "—", "new": linkage.new or "—"}
            )
        duration = request.field("access_months")
        if duration and duration.changed:
            found.append(
                gettext("Access duration (months): %(old)s → %(new)s")
                % {"old": duration.old or "—", "new": duration.new or "—"}
            )
        recipients = self.section("actors").field("data_recipients")
        if recipients and recipients.changed:
            found.append(gettext("Data recipients changed"))
        return found


# --- Values ---------------------------------------------------------------------------------


def _is_true(value: Any) -> bool:
    return str(value).strip().lower() in _TRUE


def _normalise(form_field: forms.Field | None, value: Any, *, section_present: bool) -> Any:
    """The comparable form of a raw value: None when empty, a sorted tuple for several values."""
    if isinstance(form_field, forms.BooleanField):
        # An unticked box is absent from what the browser sends: it means "no".
        if not section_present:
            return None
        return "yes" if _is_true(value) else "no"
    if value is None:
        # A choice added to a section later (the delivery format) has a default that a version
        # saved before it meant: compare that, not "added".
        if section_present and isinstance(form_field, forms.ChoiceField) and form_field.initial:
            initial = form_field.initial
            return str(getattr(initial, "value", initial))
        return None
    if isinstance(form_field, forms.MultipleChoiceField) or isinstance(value, list):
        items = value if isinstance(value, list) else [value]
        cleaned = sorted({str(item).strip() for item in items if str(item).strip()})
        return tuple(cleaned) or None
    text = str(value).replace("\r\n", "\n").strip()
    return text or None


def _choices(form_field: forms.Field | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key, label in getattr(form_field, "choices", None) or ():
        if isinstance(label, list | tuple):  # an optgroup
            labels.update({str(k): str(v) for k, v in label})
        else:
            labels[str(key)] = str(label)
    return labels


def _show(form_field: forms.Field | None, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(form_field, forms.BooleanField):
        return gettext("Yes") if value == "yes" else gettext("No")
    labels = _choices(form_field)
    if isinstance(value, tuple):
        return ", ".join(labels.get(item, item) for item in value)
    return labels.get(value) or value


def _status(old: Any, new: Any) -> ChangeStatus:
    if old == new:
        return ChangeStatus.UNCHANGED
    if old is None:
        return ChangeStatus.ADDED
    if new is None:
        return ChangeStatus.REMOVED
    return ChangeStatus.CHANGED


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def _join(tokens: list[str]) -> str:
    return " ".join(tokens).replace(" \n ", "\n").replace(" \n", "\n").replace("\n ", "\n")


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """The words of both texts in order, each marked equal, deleted or inserted."""
    before, after = _tokens(old), _tokens(new)
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(Segment(SegmentKind.EQUAL, _join(before[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment(SegmentKind.DELETED, _join(before[i1:i2])))
        if j2 > j1:
            segments.append(Segment(SegmentKind.INSERTED, _join(after[j1:j2])))
    return tuple(segments)


def _item_segments(
    form_field: forms.Field | None, mine: tuple | None, theirs: tuple | None, kind: SegmentKind
) -> tuple[Segment, ...]:
    labels = _choices(form_field)
    others = set(theirs or ())
    return tuple(
        Segment(SegmentKind.EQUAL if item in others else kind, labels.get(item, item))
        for item in mine or ()
    )


def _is_long(form_field: forms.Field | None, *texts: str) -> bool:
    textarea = isinstance(getattr(form_field, "widget", None), forms.Textarea)
    return textarea or any(len(text) > LONG_TEXT for text in texts)


def compare_value(
    name: str,
    label: Any,
    form_field: forms.Field | None,
    old_raw: Any,
    new_raw: Any,
    *,
    old_present: bool = True,
    new_present: bool = True,
    long: bool | None = None,
) -> FieldChange:
    """One value of both versions, compared and shown as the version page shows it."""
    old = _normalise(form_field, old_raw, section_present=old_present)
    new = _normalise(form_field, new_raw, section_present=new_present)
    status = _status(old, new)
    shown_old, shown_new = _show(form_field, old), _show(form_field, new)
    diff: tuple[Segment, ...] = ()
    old_items: tuple[Segment, ...] = ()
    new_items: tuple[Segment, ...] = ()
    if isinstance(old, tuple) or isinstance(new, tuple):
        old_items = _item_segments(form_field, old, new, SegmentKind.DELETED)
        new_items = _item_segments(form_field, new, old, SegmentKind.INSERTED)
    elif status == ChangeStatus.CHANGED:
        is_long = _is_long(form_field, shown_old, shown_new) if long is None else long
        if is_long:
            diff = word_diff(shown_old, shown_new)
    return FieldChange(
        name=name,
        label=str(label if label is not None else name),
        old=shown_old,
        new=shown_new,
        status=status,
        word_diff=diff,
        old_items=old_items,
        new_items=new_items,
    )


# --- Sections -------------------------------------------------------------------------------

# Fields whose label or value the form cannot give (a hidden field).
_CONFIRMED_ROUTE_LABEL = _("Confirmed regulatory route")
_ROUTE_CHOICES = forms.ChoiceField(choices=RegulatoryRoute.choices)


def _compare_fields(
    section_key: str, items: Iterable[tuple[str, forms.Field]], old: dict | None, new: dict | None
) -> tuple[FieldChange, ...]:
    changes = []
    for name, form_field in items:
        label: Any = form_field.label
        shown_field: forms.Field = form_field
        if section_key == "route" and name == "confirmed_route":
            label, shown_field = _CONFIRMED_ROUTE_LABEL, _ROUTE_CHOICES
        changes.append(
            compare_value(
                name,
                label,
                shown_field,
                (old or {}).get(name),
                (new or {}).get(name),
                old_present=old is not None,
                new_present=new is not None,
            )
        )
    return tuple(changes)


def _requested(raw: dict | None) -> dict[str, tuple[str | None, str | None]]:
    """{code: (generalisation, justification)} of the ticked variables."""
    raw = raw or {}
    ticked = [
        key[len("var__") :]
        for key, value in raw.items()
        if key.startswith("var__") and _is_true(value)
    ]
    requested = {}
    for code in ticked:
        variable = catalogue.BY_CODE.get(code)
        generalisation = _normalise(None, raw.get(f"gen__{code}"), section_present=True)
        if generalisation is None and variable is not None:
            generalisation = variable.default.value
        justification = _normalise(None, raw.get(f"just__{code}"), section_present=True)
        requested[code] = (generalisation, justification)
    return requested


_GENERALISATION_CHOICES = forms.ChoiceField(choices=Generalisation.choices)


def _compare_variables(old: dict | None, new: dict | None) -> tuple[VariableChange, ...]:
    before, after = _requested(old), _requested(new)
    order = {variable.code: index for index, variable in enumerate(catalogue.VARIABLES)}
    codes = sorted({*before, *after}, key=lambda code: (order.get(code, len(order)), code))
    changes = []
    for code in codes:
        variable = catalogue.BY_CODE.get(code)
        old_gen, old_just = before.get(code, (None, None))
        new_gen, new_just = after.get(code, (None, None))
        generalisation = compare_value(
            "generalisation", gettext("Generalisation"), _GENERALISATION_CHOICES, old_gen, new_gen
        )
        justification = compare_value(
            "justification", gettext("Justification"), None, old_just, new_just, long=True
        )
        if code not in before:
            status = ChangeStatus.ADDED
        elif code not in after:
            status = ChangeStatus.REMOVED
        elif generalisation.changed or justification.changed:
            status = ChangeStatus.CHANGED
        else:
            status = ChangeStatus.UNCHANGED
        changes.append(
            VariableChange(
                code=code,
                label=variable.label if variable else code,
                status=status,
                generalisation=generalisation,
                justification=justification,
            )
        )
    return tuple(changes)


def _compare_section(section: Section, old_content: dict, new_content: dict) -> SectionComparison:
    old, new = old_content.get(section.key), new_content.get(section.key)
    form = section.form_class()
    if isinstance(form, DataRequestForm):
        own = [
            (name, form_field)
            for name, form_field in form.fields.items()
            if not name.startswith(VARIABLE_PREFIXES)
        ]
        return SectionComparison(
            key=section.key,
            title=str(section.title),
            fields=_compare_fields(section.key, own, old, new),
            criteria=_compare_fields(section.key, form.criteria_form.fields.items(), old, new),
            variables=_compare_variables(old, new),
        )
    return SectionComparison(
        key=section.key,
        title=str(section.title),
        fields=_compare_fields(section.key, form.fields.items(), old, new),
    )


# --- Team and attachments -------------------------------------------------------------------

_ROLE_CHOICES = forms.ChoiceField(choices=TeamRole.choices)


def _compare_team(old: list[dict], new: list[dict]) -> tuple[MemberChange, ...]:
    def key(member: dict) -> str:
        return str(member.get("user") or member.get("email") or "")

    before = {key(m): m for m in old}
    after = {key(m): m for m in new}
    changes = []
    for member_key in [*before, *(k for k in after if k not in before)]:
        was, now = before.get(member_key), after.get(member_key)
        shown = now or was or {}
        role = compare_value(
            "role", gettext("Role"), _ROLE_CHOICES, (was or {}).get("role"), (now or {}).get("role")
        )
        changes.append(
            MemberChange(
                key=member_key,
                name=str(shown.get("name") or ""),
                email=str(shown.get("email") or ""),
                status=role.status,
                role=role,
            )
        )
    return tuple(changes)


def _attachment_change(kind: str, was: dict | None, now: dict | None) -> AttachmentChange:
    old_name = str((was or {}).get("name") or "")
    new_name = str((now or {}).get("name") or "")
    if was and now:
        same = was.get("sha256") == now.get("sha256")
        status = ChangeStatus.UNCHANGED if same else ChangeStatus.REPLACED
    else:
        status = ChangeStatus.ADDED if now else ChangeStatus.REMOVED
    if status == ChangeStatus.UNCHANGED:
        marked = (SegmentKind.EQUAL, SegmentKind.EQUAL)
    else:
        marked = (SegmentKind.DELETED, SegmentKind.INSERTED)
    file = FieldChange(
        name="file",
        label=gettext("File"),
        old=old_name,
        new=new_name,
        status=status,
        old_items=(Segment(marked[0], old_name),) if was else (),
        new_items=(Segment(marked[1], new_name),) if now else (),
    )
    old_sha, new_sha = str((was or {}).get("sha256") or ""), str((now or {}).get("sha256") or "")
    # The fingerprint tells a replaced file from a renamed one, whatever the names say.
    fingerprint = FieldChange(
        name="sha256",
        label="SHA-256",
        old=old_sha,
        new=new_sha,
        status=status,
        old_items=(Segment(marked[0], old_sha[:SHA_SHOWN]),) if was else (),
        new_items=(Segment(marked[1], new_sha[:SHA_SHOWN]),) if now else (),
    )
    labels = dict(AttachmentKind.choices)
    return AttachmentChange(
        kind=kind,
        kind_label=str(labels.get(kind, kind)),
        status=status,
        file=file,
        fingerprint=fingerprint,
    )


def _compare_attachments(old: list[dict], new: list[dict]) -> tuple[AttachmentChange, ...]:
    """Per kind: same SHA-256 is the same file; the others pair up as replacements."""
    kinds = [*AttachmentKind.values]
    kinds += sorted({str(a.get("kind")) for a in (*old, *new)} - set(kinds))
    changes: list[AttachmentChange] = []
    for kind in kinds:
        before = [a for a in old if a.get("kind") == kind]
        after = [a for a in new if a.get("kind") == kind]
        kept_before, kept_after = [], list(after)
        for was in before:
            twin = next((a for a in kept_after if a.get("sha256") == was.get("sha256")), None)
            if twin is None:
                kept_before.append(was)
            else:
                kept_after.remove(twin)
                changes.append(_attachment_change(kind, was, twin))
        for index in range(max(len(kept_before), len(kept_after))):
            was = kept_before[index] if index < len(kept_before) else None
            now = kept_after[index] if index < len(kept_after) else None
            changes.append(_attachment_change(kind, was, now))
    return tuple(changes)


# --- Entry points ---------------------------------------------------------------------------


def compare_versions(old: ProtocolVersion, new: ProtocolVersion) -> VersionComparison:
    """Everything that differs between two versions' contents, and what did not."""
    old_content, new_content = old.content or {}, new.content or {}
    sections = tuple(_compare_section(s, old_content, new_content) for s in SECTIONS)
    team = _compare_team(old_content.get("_team") or [], new_content.get("_team") or [])
    attachments = _compare_attachments(
        old_content.get("_attachments") or [], new_content.get("_attachments") or []
    )
    team_title, attachments_title = gettext("Team"), gettext("Attachments")
    summary = (
        *(_summary_row(s.key, s.title, s.statuses()) for s in sections),
        _summary_row("team", team_title, (m.status for m in team)),
        _summary_row("attachments", attachments_title, (a.status for a in attachments)),
    )
    return VersionComparison(
        old_number=old.number,
        new_number=new.number,
        sections=sections,
        team=team,
        attachments=attachments,
        team_title=team_title,
        attachments_title=attachments_title,
        summary=summary,
    )


def substantial_changes(old: ProtocolVersion, new: ProtocolVersion) -> list[str]:
    """GOV-13: new variables, population or cohort, linkage, access duration, recipients."""
    return compare_versions(old, new).substantial_changes()


__all__ = [
    "AttachmentChange",
    "ChangeStatus",
    "FieldChange",
    "MemberChange",
    "SectionComparison",
    "Segment",
    "SegmentKind",
    "SummaryRow",
    "VariableChange",
    "VersionComparison",
    "compare_versions",
    "substantial_changes",
    "word_diff",
]
