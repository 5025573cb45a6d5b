"""GET never changes state, and no page shows a role a link that then answers 403 or 404
(issue 15, item 7)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from projects.actions import check_admissibility, create_project, submit_project
from tests.conftest import login
from tests.projects.helpers import attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

_HREF = re.compile(r'<a\b[^>]*\bhref="([^"]+)"')
# Links that leave the page's subject: the menu, the language switch, the logout.
_SKIP = ("/accounts/logout/", "/i18n/", "#", "mailto:", "http:", "https:", "//", "/static/")


def _links_of_main(html: str) -> list[str]:
    main = html[html.index("<main") : html.index("</main>")]
    return sorted(
        {
            unescape(href)
            for href in _HREF.findall(main)
            if href.startswith("/") and not href.startswith(_SKIP)
        }
    )


def _dead_links(client, url: str) -> dict[str, int]:
    page = client.get(url)
    assert page.status_code == 200, url
    dead = {}
    for link in _links_of_main(page.content.decode()):
        response = client.get(link)
        status = response.status_code
        # Exports stream from temporary files: close them (not the response, whose close()
        # would end the test's database connection).
        for closer in getattr(response, "_resource_closers", []):
            closer()
        if status in (403, 404):
            dead[link] = status
    return dead


@pytest.fixture
def draft(researcher):
    project = create_project(by=researcher, title="Bronchiolites")
    fill_draft(project, researcher, except_sections=("methodology",))
    return project


@pytest.fixture
def in_review(researcher, secretariat):
    project = create_project(by=researcher, title="Grippe")
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    check_admissibility(project=project, by=secretariat, accept=True)
    return project


@pytest.mark.parametrize("persona", ["secretariat", "dpo"])
def test_staff_see_no_section_editor_link_on_a_draft(client, request, persona, draft):
    user = request.getfixturevalue(persona)
    login(client, user)
    for url in (f"/projects/{draft.pk}/", "/projects/"):
        assert _dead_links(client, url) == {}, url
    page = client.get(f"/projects/{draft.pk}/").content.decode()
    assert f"/projects/{draft.pk}/sections/" not in page


def test_the_researcher_still_gets_the_section_links(client, researcher, draft):
    login(client, researcher)
    page = client.get(f"/projects/{draft.pk}/").content.decode()
    assert f"/projects/{draft.pk}/sections/methodology/" in page
    assert _dead_links(client, f"/projects/{draft.pk}/") == {}


def test_the_chairs_pipeline_links_only_to_files_she_may_open(client, chair, in_review):
    login(client, chair)
    page = client.get("/commission/pipeline/").content.decode()
    assert in_review.reference in page
    assert f'href="/projects/{in_review.pk}/"' not in page
    assert _dead_links(client, "/commission/pipeline/") == {}


def test_the_secretariats_pipeline_links_to_the_files(client, secretariat, in_review):
    login(client, secretariat)
    page = client.get("/commission/pipeline/").content.decode()
    assert f'href="/projects/{in_review.pk}/"' in page
    assert _dead_links(client, "/commission/pipeline/") == {}


def test_opening_the_two_factor_setup_page_creates_one_pending_device_at_most(client, make_user):
    from eds_portal.roles import Role

    staff = make_user(Role.SECRETARIAT, device=False)
    login(client, staff, verified=False)
    for _ in range(3):
        assert client.get("/accounts/two-factor/setup/").status_code == 200
    assert staff.totpdevice_set.count() <= 1
    assert not staff.totpdevice_set.filter(confirmed=True).exists()
