"""Every value shown to people goes through its label: no stored choice value on a page.

The demo is loaded as ``make run`` loads it; each demo account (one per role) and an anonymous
visitor then walk the portal from their home page, following its links, and the text of every
page is searched for the raw values of the portal's choices ("mr004" where "MR-004 (...)" is
meant, "departement" for "Département", "VIS_HOME") and for Python's "None".

The values looked for are the choices of every model field, every ``TextChoices`` and every form
field of the portal whose value differs from its label, with three exceptions that would only
give false alarms: values of one or two characters ("M", "F", "75"), values that are a word of
their own French label (the choice "public" of "Organisme public"), and plain English words of
the portal's messages ("draft", "approved"): on a French page those could only come from a
message not translated yet, which tests/eds_portal/test_i18n.py catches.
"""

from __future__ import annotations

import html as html_lib
import importlib
import pkgutil
import re
from collections import Counter, deque
from collections.abc import Iterator

import pytest
from django import forms
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import trans_real

from eds_portal.demo import DEMO_ACCOUNTS
from eds_portal.models import User
from eds_portal.roles import Role
from tests.conftest import login

PORTAL_PACKAGES = ("eds_portal", "projects", "access", "warehouse")
# Pages that are not HTML for people, or that end the visit.
SKIPPED_NAMES = ("logout", "set_language", "notification_open", "download", "export", "pdf")
SKIPPED_NAMES += ("csv", "json", "feed", "fhir", "information_note")
PER_URL_NAME = 8  # a few objects of each kind of page are enough
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,}")
_WORD = re.compile(r"\w+")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _import_portal_modules() -> None:
    """Every module of the apps, so that every form and TextChoices class is defined."""
    for package in PORTAL_PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            importlib.import_module(info.name)


def _field_choices(field: forms.Field) -> list[tuple[object, object]]:
    if isinstance(field, forms.ModelChoiceField):
        return []  # objects, not stored values
    choices = getattr(field, "choices", None)
    if not choices or callable(choices):
        return []
    return [(value, label) for value, label in choices if not isinstance(label, list | tuple)]


def _all_choices() -> list[tuple[object, object]]:
    from projects.sections import SECTIONS
    from warehouse.cohort import CohortCriteriaForm

    _import_portal_modules()
    pairs: list[tuple[object, object]] = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            pairs += list(getattr(field, "flatchoices", None) or [])
    for choices in _subclasses(models.Choices):
        pairs += choices.choices
    for form_class in _subclasses(forms.BaseForm):
        for field in getattr(form_class, "base_fields", {}).values():
            pairs += _field_choices(field)
    # Forms whose choices are made when they are built (the data request, the cohort criteria).
    for form in [section.form_class() for section in SECTIONS] + [CohortCriteriaForm()]:
        for field in form.fields.values():
            pairs += _field_choices(field)
    return pairs


def _english_message_words() -> set[str]:
    """The words of the portal's messages in English (the msgids of the French catalogue)."""
    catalogue = trans_real.translation("fr")._catalog
    words: set[str] = set()
    for key in catalogue.keys():  # noqa: SIM118 (a TranslationCatalog cannot be iterated)
        msgid = key[0] if isinstance(key, tuple) else key
        words |= {word.lower() for word in _WORD.findall(str(msgid).split("\x04")[-1])}
    return words


def raw_choice_values() -> set[str]:
    """The stored values that must never be read on a page, and "None"."""
    prose = _english_message_words()
    raw = set()
    with translation.override("fr"):
        for value, label in _all_choices():
            if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
                continue
            shown = str(label)
            label_words = {word.lower() for word in _WORD.findall(shown)}
            if value == shown or value.lower() in label_words or value.lower() in prose:
                continue
            raw.add(value)
    return raw | {"None"}


def raw_value_pattern(values: set[str]) -> re.Pattern[str]:
    """A raw value standing alone: not part of a word, a code (person.sex), an address or a path;
    "None" not followed by a word (the start of an English sentence)."""
    ordinary = sorted(values - {"None"}, key=len, reverse=True)
    return re.compile(
        r"(?<![\w.@/\-])(?:(" + "|".join(map(re.escape, ordinary)) + r")(?![\w@/\-]|\.\w)"
        r"|(None)(?![\w@/\-]|\.\w|[ \t\xa0]+[a-zà-ÿ]))"
    )


_NOT_DISPLAYED = re.compile(
    r"<(script|style|code|pre|kbd|samp|template)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I
)
_SHOWN_ATTRIBUTES = re.compile(r"\s(?:title|aria-label|alt|placeholder)=\"([^\"]*)\"")
_TAG = re.compile(r"<[^>]+>")


def displayed_text(page: str) -> str:
    """What a person reads or hears on the page: its text and its titles, labels and
    placeholders; code samples (``<code>`` names a variable on purpose) and scripts apart."""
    page = _NOT_DISPLAYED.sub(" ", page)
    attributes = " \n".join(_SHOWN_ATTRIBUTES.findall(page))
    return html_lib.unescape(_TAG.sub(" \n", page) + " \n" + attributes)


def raw_values_in(page: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    text = displayed_text(page)
    found = []
    for match in pattern.finditer(text):
        context = " ".join(text[max(0, match.start() - 60) : match.end() + 40].split())
        found.append((match.group(1) or match.group(2), context))
    return found


# --- The scan itself ------------------------------------------------------------------------


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_the_raw_values_are_those_people_should_never_read():
    values = raw_choice_values()
    # The examples, and a few of each kind.
    assert {"None", "mr004", "departement", "VIS_HOME", "changes_requested"} <= values
    assert {"five_year_band", "shifted_hour", "quasi_identifier", "co_investigator"} <= values
    # Not raw: a word of its own French label, an English word of the messages, too short.
    assert "public" not in values  # "Organisme public"
    assert "draft" not in values
    assert not {"M", "F"} & values


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_the_scan_finds_a_raw_value_shown_and_only_there():
    pattern = raw_value_pattern(raw_choice_values())
    page = (
        "<dl><dt>Voie</dt><dd>mr004</dd><dt>Lieu</dt><dd>departement</dd>"
        "<dt>Fin</dt><dd>None</dd></dl><p title='x'>ok</p>"
        '<a href="/x/" aria-label="Généralisation : five_year_band">…</a>'
    )
    assert [value for value, _context in raw_values_in(page, pattern)] == [
        "mr004",
        "departement",
        "None",
        "five_year_band",
    ]
    shown_on_purpose = (
        "<p><code>person.departement</code> <code>mr004</code></p>"
        '<input name="route" value="mr004"><option value="departement">Département</option>'
        "<script>var x = null; // None</script><p>person.sex, a@departement.fr, /mr004/</p>"
        "<p>None chosen yet, MR-004 (recherche) and Département.</p>"
    )
    assert raw_values_in(shown_on_purpose, pattern) == []


# --- The demo, page by page -----------------------------------------------------------------

# Kinds of pages the walk must reach, or the scan would prove nothing about them.
MAIN_PAGES = {
    "project_list",
    "project_detail",
    "project_section",
    "project_version",
    "project_team",
    "project_attachments",
    "review_list",
    "review_mine",
    "session_list",
    "session_detail",
    "agenda_item",
    "decision_letter",
    "provisioning_list",
    "formalities_list",
    "transparency_home",
    "transparency_project",
    "opposition_form",
    "opposition_list",
    "catalogue",
    "feasibility",
}

_HREF = re.compile(r'href="(/[^"#]*)')


def _coarser_review(version) -> None:
    """The second rapporteur of the file under review proposes a coarser generalisation: the
    reviews page then shows one ("departement" was shown as such)."""
    from projects.models import RapporteurAssignment
    from projects.review.actions import save_review, submit_review
    from projects.sessions.decisions import requested_variables

    pending = RapporteurAssignment.objects.filter(
        project=version.project, completed_at__isnull=True, removed_at__isnull=True
    ).first()
    assert pending is not None, "the demo's file under review has a rapporteur still to report"
    reviewer = pending.member
    variables = {item.code: {"verdict": "approve"} for item in requested_variables(version)}
    coarser = next(item for item in requested_variables(version) if item.coarser)
    variables[coarser.code] = {
        "verdict": "coarser",
        "generalisation": str(coarser.coarser[-1]),
        "reason": "Plus grossier suffit.",
    }
    save_review(
        project=version.project,
        by=reviewer,
        data={
            "scientific_quality": "Bonne.",
            "public_interest": "Établi.",
            "methodology": "Adaptée.",
            "information_of_persons": "Suffisante.",
            "ethics": "Rien à signaler.",
            "recommendation": "favourable_recommendations",
            "private_notes": "",
            "variables": variables,
        },
    )
    submit_review(project=version.project, by=reviewer)


@pytest.fixture
def demo(django_db_blocker):
    call_command("load_demo", verbosity=0)
    call_command("load_demo_projects", verbosity=0)
    call_command("generate_warehouse", size="XXS", seed=3, verbosity=0)
    call_command("load_demo_oppositions", verbosity=0)
    from projects.models import Project, ProjectStatus

    in_review = Project.objects.filter(status=ProjectStatus.UNDER_REVIEW).first()
    if in_review is not None:
        _coarser_review(in_review.versions.order_by("-number").first())


def _walk(client, start: list[str]) -> Iterator[tuple[str, str, str]]:
    """(url, url name, html) of the pages reached from ``start`` by their links."""
    queue, seen, per_name = deque(start), set(), Counter()
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        try:
            name = resolve(url.split("?")[0]).url_name or ""
        except Resolver404:
            continue
        if url.startswith(("/api/", "/admin/")) or any(s in name for s in SKIPPED_NAMES):
            continue
        per_name[name] += 1
        if per_name[name] > PER_URL_NAME:
            continue
        response = client.get(url)
        html_page = response.status_code == 200 and "html" in response.get("Content-Type", "")
        page = response.content.decode() if html_page else ""
        if not html_page:
            continue
        yield url, name, page
        queue.extend(html_lib.unescape(href) for href in _HREF.findall(page))


@pytest.mark.django_db(databases="__all__")
def test_no_page_of_the_demo_shows_a_raw_value(client, demo):
    pattern = raw_value_pattern(raw_choice_values())
    found, reached = [], set()
    visitors = [(User.objects.get(email=a.email), ["/"]) for a in DEMO_ACCOUNTS]
    visitors.append((None, ["/transparency/", "/opposition/", "/opposition/status/"]))
    roles = set()
    for user, start in visitors:
        client.logout()
        if user is not None:
            login(client, user)
            roles |= set(user.roles)
        who = user.email if user else "anonymous"
        for url, name, page in _walk(client, start):
            reached.add(name)
            found += [
                f"{who} {url}: “{value}” in “{context}”"
                for value, context in raw_values_in(page, pattern)
            ]
    assert roles == set(Role)
    assert reached >= MAIN_PAGES, f"pages not reached: {sorted(MAIN_PAGES - reached)}"
    assert not found, "raw values shown:\n" + "\n".join(sorted(set(found)))


@pytest.mark.django_db(databases=["default", "warehouse"])
def test_the_version_page_shows_the_confirmed_route_by_its_label(client, researcher):
    """The case the walk through the portal found first: "mr004" on the version page."""
    from projects.actions import create_project, submit_project
    from projects.models import RegulatoryRoute
    from tests.projects.helpers import attach_required, fill_draft

    project = create_project(by=researcher, title="Bronchiolites")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    version = submit_project(project=project, by=researcher)
    login(client, researcher)
    page = client.get(f"/projects/{project.pk}/versions/{version.number}/").content.decode()
    assert raw_values_in(page, raw_value_pattern(raw_choice_values())) == []
    with translation.override("fr"):
        assert str(RegulatoryRoute.MR004.label) in displayed_text(page)
