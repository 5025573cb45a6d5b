"""The public opposition pages as patients use them, often on a phone: only published projects
to choose from, a searchable list of associations that the server still validates, a receipt
number to copy, a status page already filled in, and a timeline that follows the settings."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from access.models import OppositionRequest, Scope
from eds_portal.routers import vault_access
from projects.models import ProjectStatus
from tests.access.helpers import DBS, form_data, project, public_page
from warehouse.models import OppositionIdentity
from warehouse.reference import association_names

pytestmark = [pytest.mark.django_db(databases=DBS), pytest.mark.usefixtures("english_client")]


@pytest.fixture
def published(researcher):
    chosen = project(researcher, reference="EDS-2026-0901", status=ProjectStatus.PUBLISHED)
    public_page(chosen, researcher, title="Bronchiolites du nourrisson")
    return chosen


@pytest.fixture
def unpublished(researcher):
    """Approved, formalities pending: nothing about it is public yet."""
    return project(
        researcher,
        reference="EDS-2026-0907",
        status=ProjectStatus.APPROVED,
        title="Titre de travail confidentiel",
    )


# --- Only published projects are offered ----------------------------------------------------


def test_an_approved_but_unpublished_project_is_nowhere_on_the_public_pages(
    client, published, unpublished, researcher
):
    formalities = project(
        researcher, reference="EDS-2026-0908", status=ProjectStatus.FORMALITIES, title="Autre"
    )
    for url in (
        "/opposition/",
        f"/opposition/?project={unpublished.reference}",
        "/opposition/paper/",
        "/transparency/projects/",
    ):
        # The page's content (the language switch repeats the address as typed).
        html = re.search(r"<main.*</main>", client.get(url).content.decode(), re.S).group(0)
        for hidden in (unpublished, formalities):
            assert hidden.reference not in html, url
            assert hidden.title not in html, url
    form = client.get(f"/opposition/?project={unpublished.reference}").context["form"]
    assert "projects" not in form.initial
    assert list(form.fields["projects"].queryset) == [published]
    # The published project is offered under its public title.
    assert (
        "EDS-2026-0901 — Bronchiolites du nourrisson" in client.get("/opposition/").content.decode()
    )


def test_posting_an_unpublished_project_is_refused(client, published, unpublished):
    response = client.post(
        "/opposition/", form_data(scope="projects", projects=[published.pk, unpublished.pk])
    )
    assert response.status_code == 400
    assert response.context["form"].errors["projects"]
    assert not OppositionRequest.objects.exists()
    response = client.post("/opposition/", form_data(scope="projects", projects=[published.pk]))
    assert response.status_code == 302
    request = OppositionRequest.objects.get()
    assert request.scope == Scope.PROJECTS
    assert list(request.projects.all()) == [published]


def test_a_closed_project_is_no_longer_offered(client, published):
    published.status = ProjectStatus.CLOSED
    published.save(update_fields=["status"])
    response = client.post("/opposition/", form_data(scope="projects", projects=[published.pk]))
    assert response.status_code == 400


# --- The association picker ------------------------------------------------------------------


def test_the_associations_are_a_searchable_list_that_works_without_javascript(client):
    html = client.get("/opposition/").content.decode()
    # One checkbox per association, in a box that scrolls, under a search box that the script
    # reveals (hidden without it) and that filters by name, town, département or postal code.
    names = association_names()
    assert html.count('name="associations"') == len(names) == 64
    assert "data-association-picker" in html
    assert re.search(r'<div class="association-picker__search" data-picker-search hidden>', html)
    assert 'class="association-picker__list" id="id_associations_list"' in html
    assert 'aria-controls="id_associations_list"' in html
    lyon = re.search(r'data-search="([^"]*Lyon[^"]*)"', html)
    assert lyon is not None
    assert "69" in lyon.group(1)
    assert "Rhône" in lyon.group(1)
    assert "eds_portal/js/opposition.js" in html


def test_association_choices_are_still_validated_by_the_server(client):
    names = association_names()
    first, second = list(names)[:2]
    response = client.post("/opposition/", form_data(associations=[str(first), "999"]))
    assert response.status_code == 400
    assert response.context["form"].errors["associations"]
    html = response.content.decode()
    # Shown again with what was ticked (the valid one), in the "Chosen" line above the list.
    assert f"Chosen: {names[first]}" in html
    assert not OppositionRequest.objects.exists()
    response = client.post("/opposition/", form_data(associations=[str(first), str(second)]))
    assert response.status_code == 302
    request = OppositionRequest.objects.get()
    with vault_access("test: the associations given"):
        stored = OppositionIdentity.objects.get(receipt_number=request.receipt_number)
    assert sorted(stored.associations) == sorted([first, second])


# --- The receipt, the follow-up link, the timeline -------------------------------------------


def _sent(client, **changes):
    client.post("/opposition/", form_data(**changes))
    request = OppositionRequest.objects.get()
    return request, client.get("/opposition/sent/").content.decode()


def test_the_receipt_number_is_on_one_line_with_a_copy_button_and_a_live_region(client):
    request, html = _sent(client)
    number = re.search(r'<strong class="receipt-number" id="receipt-number"[^>]*>([^<]+)</', html)
    assert number is not None
    assert number.group(1) == request.receipt_number
    button = re.search(r"<button [^>]*data-copy=\"receipt-number\"[^>]*>([^<]+)</button>", html)
    assert button is not None
    assert 'data-copy-status="receipt-copied"' in button.group(0)
    assert 'data-copied="Receipt number copied."' in button.group(0)
    assert " hidden" in button.group(0)  # shown by the script only, where copying works
    assert '<p id="receipt-copied" class="receipt__status" role="status"></p>' in html


def test_follow_my_request_opens_the_status_page_with_the_receipt_number(client):
    request, html = _sent(client)
    link = f'href="/opposition/status/?receipt={request.receipt_number}"'
    assert link in html
    page = client.get(f"/opposition/status/?receipt={request.receipt_number.lower()}")
    assert page.context["form"].initial == {"receipt_number": request.receipt_number}
    assert f'value="{request.receipt_number}"' in page.content.decode()
    # Anything that is not a receipt number is not put in the form.
    junk = client.get('/opposition/status/?receipt="><script>x</script>')
    assert junk.context["form"].initial == {}
    assert "<script>x" not in junk.content.decode()


def test_the_receipt_email_links_to_the_status_page_filled_in_on_the_configured_address(
    client, settings, django_capture_on_commit_callbacks
):
    settings.EDS_PUBLIC_URL = "https://eds-portail.example.fr"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/opposition/", form_data())
    request = OppositionRequest.objects.get()
    (message,) = mail.outbox
    assert (
        f"https://eds-portail.example.fr/opposition/status/?receipt={request.receipt_number}"
        in message.body
    )
    assert "127.0.0.1:8000" not in message.body


def test_the_timeline_says_what_happens_next_with_the_deadlines_of_the_settings(client, settings):
    settings.EDS_OPPOSITION_DELETION_DAYS = 30
    settings.EDS_INFORMATION_WINDOW_DAYS = 30
    request, html = _sent(client)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "What happens next" in text
    assert "must delete them within 30 days" in text
    assert "until 30 days after its page is published" in text
    day = request.due_on
    assert f"On {day.day} {day:%b} {day.year} at the latest" in text
    assert "We send you our answer by e-mail." in text

    settings.EDS_OPPOSITION_DELETION_DAYS = 45
    settings.EDS_INFORMATION_WINDOW_DAYS = 1
    text = " ".join(
        re.sub(r"<[^>]+>", " ", client.get("/opposition/sent/").content.decode()).split()
    )
    assert "must delete them within 45 days" in text
    assert "until 1 day after its page is published" in text
    assert "30 days" not in text


def test_the_timeline_says_the_answer_comes_by_post_when_asked(client):
    _request, html = _sent(client, reply_by="post", contact_address="1 rue de la Paix, Paris")
    assert "We send you our answer by post." in html
