"""The public transparency portal (TRA-01, TRA-02, TRA-03, TRA-08, TRA-13, Fields A)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from access.formalities.actions import publish_project
from access.models import Publication, PublicPage
from projects.models import Attachment, AttachmentKind, ConflictDeclaration, Review
from tests.access.transparency_helpers import approved_project, record_mr004
from tests.conftest import login
from tests.csv_exports import export_text

pytestmark = [
    pytest.mark.django_db(databases=["default", "warehouse"]),
    pytest.mark.usefixtures("english_client"),
]


@pytest.fixture
def published(researcher, secretariat, chair):
    project = approved_project(researcher, secretariat, chair)
    record_mr004(project, secretariat)
    publish_project(project=project, by=secretariat)
    project.refresh_from_db()
    return project


def test_tra02_the_general_page_is_public(client):
    page = client.get("/transparency/")
    assert page.status_code == 200
    text = page.content.decode()
    for expected in ("DT-2024-016", "mailto:", "cnil.fr", 'href="/opposition/"'):
        assert expected in text


def test_tra01_the_list_is_public_searchable_and_filtered(
    client, published, researcher, secretariat, chair
):
    other = approved_project(researcher, secretariat, chair, title="Otites")
    assert client.get("/transparency/projects/").status_code == 200
    listed = client.get("/transparency/projects/").content.decode()
    assert published.reference in listed
    assert other.reference not in listed  # not published: not listed
    assert (
        published.reference
        in client.get("/transparency/projects/?q=bronchiolites").content.decode()
    )
    assert (
        published.reference not in client.get("/transparency/projects/?q=diabete").content.decode()
    )
    assert (
        published.reference in client.get("/transparency/projects/?status=planned").content.decode()
    )
    assert (
        published.reference
        not in client.get("/transparency/projects/?status=completed").content.decode()
    )


def test_tra08_the_project_page_has_fields_a_and_the_objection_button(client, published):
    response = client.get(f"/transparency/projects/{published.reference}/")
    assert response.status_code == 200
    text = response.content.decode()
    for expected in (
        "Bronchiolites vues en visite à domicile",  # title
        "Améliorer l&#x27;orientation des nourrissons en hiver.",  # public interest
        "Inserm",  # controller
        "2226543 v 0",  # CNIL formality
        "HDH-2026-0042",  # directory
        "Favourable",  # opinion outcome
        "Diagnoses",  # data category
        "31 Dec 2026",  # calendar, in the page's language (never the ISO text)
        f"/opposition/?project={published.reference}",
    ):
        assert expected in text, expected


def test_public_pages_never_show_private_fields(
    client, published, researcher, chair, commission_member
):
    """No identity, no reviewer, no team e-mail, no private note on any public output."""
    version = published.versions.get()
    Review.objects.create(
        project=published,
        version=version,
        reviewer=commission_member,
        private_notes="SECRET-NOTE-XYZ",
        recommendation="favourable",
    )
    ConflictDeclaration.objects.create(
        project=published, member=chair, has_interest=True, description="CONFLICT-ABC"
    )
    outputs = [
        client.get(url).content.decode()
        for url in (
            "/transparency/",
            "/transparency/projects/",
            f"/transparency/projects/{published.reference}/",
            "/transparency/projects.csv",
            "/transparency/projects.json",
            "/transparency/feed.atom",
        )
    ]
    for text in outputs:
        for secret in (
            researcher.email,
            commission_member.full_name,
            chair.full_name,
            chair.email,
            "SECRET-NOTE-XYZ",
            "CONFLICT-ABC",
            "Protocole solide.",  # the decision's reasons stay with the commission
            "Décrire la population.",  # per-variable justifications
        ):
            assert secret not in text, secret
    snapshot = Publication.objects.get().snapshot
    assert "_team" not in json.dumps(snapshot)
    assert "justification" not in json.dumps(snapshot)


def test_tra13_publications_are_immutable(published):
    first = Publication.objects.get()
    with pytest.raises(PermissionError):
        first.save()
    with pytest.raises(PermissionError):
        first.delete()


def test_tra13_the_page_as_it_read_on_a_past_date(
    client, researcher, secretariat, chair, monkeypatch
):
    """An update is a new version; the portal shows what the page said on any day."""
    from access.formalities import actions

    project = approved_project(researcher, secretariat, chair)
    record_mr004(project, secretariat)
    ten_days_ago = timezone.now() - timedelta(days=10)
    with monkeypatch.context() as patched:
        patched.setattr(actions.timezone, "now", lambda: ten_days_ago)
        publish_project(project=project, by=secretariat)
    publish_project(
        project=project,
        by=secretariat,
        results_status="available",
        results_summary="RESULTATS-NOUVEAUX: incidence en hausse.",
        change_note="Résultats publiés.",
    )
    assert Publication.objects.filter(project=project).count() == 2
    url = f"/transparency/projects/{project.reference}/"
    assert "RESULTATS-NOUVEAUX" in client.get(url).content.decode()
    past = (timezone.localdate() - timedelta(days=5)).isoformat()
    then = client.get(f"{url}?on={past}")
    assert then.status_code == 200
    assert "RESULTATS-NOUVEAUX" not in then.content.decode()
    assert "as it read on" in then.content.decode()
    today = client.get(f"{url}?on={timezone.localdate().isoformat()}").content.decode()
    assert "RESULTATS-NOUVEAUX" in today
    # The information window counts from the first publication, not from the update.
    page = PublicPage.objects.get(project=project)
    assert page.first_published_at == ten_days_ago


def test_tra13_before_the_first_publication_the_page_says_it_was_not_online(client, published):
    response = client.get(f"/transparency/projects/{published.reference}/?on=2000-01-01")
    assert response.status_code == 404
    assert "not yet online" in response.content.decode()
    bad = client.get(f"/transparency/projects/{published.reference}/?on=yesterday")
    assert bad.status_code == 400


def test_unpublished_or_unknown_projects_are_404(client, researcher, secretariat, chair):
    project = approved_project(researcher, secretariat, chair)
    assert client.get(f"/transparency/projects/{project.reference}/").status_code == 404
    assert client.get("/transparency/projects/EDS-0000-0000/").status_code == 404
    assert (
        client.get(f"/transparency/projects/{project.reference}/information-note").status_code
        == 404
    )


def test_tra03_the_information_note_is_downloadable_only_once_published(
    client, researcher, secretariat, chair
):
    project = approved_project(researcher, secretariat, chair)
    url = f"/transparency/projects/{project.reference}/information-note"
    assert client.get(url).status_code == 404
    record_mr004(project, secretariat)
    assert client.get(url).status_code == 404
    publish_project(project=project, by=secretariat)
    response = client.get(url)
    assert response.status_code == 200
    note = Attachment.objects.get(project=project, kind=AttachmentKind.INFORMATION_NOTE)
    assert note.original_name in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    # The protocol itself is never public.
    protocol = Attachment.objects.get(project=project, kind=AttachmentKind.PROTOCOL)
    assert (
        PublicPage.objects.get().current.snapshot["information_note"]["id"]
        == note.pk
        != protocol.pk
    )
    assert client.get(f"{url}?version=9").status_code == 404


def test_exports_csv_and_json(client, published):
    csv_text = export_text(client.get("/transparency/projects.csv"))
    assert csv_text.splitlines()[0].startswith("reference,title")
    assert published.reference in csv_text
    data = client.get("/transparency/projects.json").json()
    assert data["projects"][0]["reference"] == published.reference
    assert data["projects"][0]["status"] == "planned"


def test_atom_feed_lists_publications(client, published):
    response = client.get("/transparency/feed.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert f"{published.reference}/v1" in response.content.decode()


def test_portal_in_french_and_english(client, published):
    french = client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="fr")
    assert 'lang="fr"' in french.content.decode()
    english_page = client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="en"' in english_page.content.decode()


def test_public_status_follows_the_project(client, published, data_steward):
    from projects.models import Project

    Project.objects.filter(pk=published.pk).update(status="active")
    data = client.get("/transparency/projects.json").json()
    assert data["projects"][0]["status"] == "ongoing"
    assert (
        published.reference in client.get("/transparency/projects/?status=ongoing").content.decode()
    )


def test_staff_see_the_portal_too(client, published, dpo):
    login(client, dpo)
    assert client.get(f"/transparency/projects/{published.reference}/").status_code == 200


def test_list_query_count(client, researcher, secretariat, chair, django_assert_max_num_queries):
    for n in range(4):
        project = approved_project(researcher, secretariat, chair, title=f"Projet {n}")
        record_mr004(project, secretariat)
        publish_project(project=project, by=secretariat)
    with django_assert_max_num_queries(4):
        assert client.get("/transparency/projects/").status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get("/transparency/projects.json").status_code == 200
