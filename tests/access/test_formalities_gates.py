"""Formalities and gates (GOV-02, GOV-12, TRA-08, TRA-09, CON-07): each gate's reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from access.formalities.actions import publish_project
from access.formalities.gates import provisioning_blockers
from access.models import FormalityRecord, PublicPage
from eds_portal.models import AuditEvent
from projects import workflow
from projects.models import ProjectStatus, Recommendation
from tests.access.transparency_helpers import approved_project, record_mr004
from tests.conftest import login

pytestmark = [
    pytest.mark.django_db(databases=["default", "warehouse"]),
    pytest.mark.usefixtures("english_client"),
]


@pytest.fixture
def approved(researcher, secretariat, chair):
    return approved_project(researcher, secretariat, chair)


def _published(project, secretariat):
    record_mr004(project, secretariat)
    publish_project(project=project, by=secretariat)
    project.refresh_from_db()
    return project


def test_gov02_an_approved_project_lists_every_missing_gate(approved):
    reasons = provisioning_blockers(approved)
    assert "The CNIL formality is not recorded." in reasons
    assert "The project page is not published on the transparency portal." in reasons
    assert len(reasons) == 2


def test_gov02_no_favourable_decision_blocks(researcher, secretariat, chair):
    project = approved_project(researcher, secretariat, chair, opinion=Recommendation.UNFAVOURABLE)
    assert "No favourable opinion of the commission is recorded." in provisioning_blockers(project)


def test_gov02_formalities_move_the_project_and_are_audited(approved, secretariat):
    record_mr004(approved, secretariat)
    approved.refresh_from_db()
    assert approved.status == ProjectStatus.FORMALITIES
    event = AuditEvent.objects.get(action="project.record_formalities")
    assert event.actor == secretariat
    assert event.after["formality_reference"] == "2226543 v 0"
    assert "The CNIL formality is not recorded." not in provisioning_blockers(approved)


def test_tra10_mr004_needs_the_directory_registration(approved, secretariat):
    with pytest.raises(workflow.TransitionRefused) as refused:
        record_mr004(approved, secretariat, directory="none", directory_reference="")
    assert "public directory" in str(refused.value)
    assert not FormalityRecord.objects.exists()


def test_only_the_secretariat_records_formalities(approved, researcher, dpo):
    for user in (researcher, dpo):
        with pytest.raises(workflow.TransitionRefused):
            record_mr004(approved, user)


def test_tra09_the_information_window_starts_at_publication(approved, secretariat, settings):
    settings.EDS_INFORMATION_WINDOW_DAYS = 30
    _published(approved, secretariat)
    page = PublicPage.objects.get(project=approved)
    reasons = provisioning_blockers(approved)
    assert len(reasons) == 1
    assert reasons[0].startswith("The information window runs until")
    later = page.first_published_at + timedelta(days=30, seconds=1)
    assert provisioning_blockers(approved, on=later) == []
    assert provisioning_blockers(approved, on=later - timedelta(seconds=2)) != []


def test_gov02_access_expires_after_the_approved_duration(approved, secretariat):
    _published(approved, secretariat)
    decision = approved.decisions.get()
    after = decision.decided_at + timedelta(days=24 * 31 + 1)
    assert any(
        r.startswith("The access period ended on")
        for r in provisioning_blockers(approved, on=after)
    )


def test_a_suspended_or_withdrawn_project_is_blocked(approved, researcher):
    workflow.fire(approved, "withdraw", by=researcher)
    reasons = provisioning_blockers(approved)
    assert any("“Withdrawn”" in r for r in reasons), reasons


def test_con07_a_consent_based_project_without_consent_is_blocked(approved, secretariat, settings):
    settings.EDS_INFORMATION_WINDOW_DAYS = 0
    _published(approved, secretariat)
    assert provisioning_blockers(approved) == []
    type(approved).objects.filter(pk=approved.pk).update(requires_consent=True)
    approved.refresh_from_db()
    assert provisioning_blockers(approved) == [
        "This project relies on consent and no valid consent is recorded."
    ]


def test_gov12_recommendations_need_a_revised_version_before_publication(
    researcher, secretariat, chair
):
    project = approved_project(
        researcher, secretariat, chair, opinion=Recommendation.FAVOURABLE_WITH_RECOMMENDATIONS
    )
    record_mr004(project, secretariat)
    with pytest.raises(workflow.TransitionRefused) as refused:
        publish_project(project=project, by=secretariat)
    assert "GOV-12" in str(refused.value)
    assert not PublicPage.objects.exists()


def test_tra08_publication_records_its_time_and_tells_the_team(
    approved, secretariat, researcher, django_capture_on_commit_callbacks
):
    record_mr004(approved, secretariat)
    # The team is told in each member's language: the lead reads English here.
    researcher.language = "en"
    researcher.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        publication = publish_project(project=approved, by=secretariat)
    approved.refresh_from_db()
    assert approved.status == ProjectStatus.PUBLISHED
    assert publication.published_at <= timezone.now()
    assert AuditEvent.objects.filter(action="transparency.published").count() == 1
    assert AuditEvent.objects.filter(action="project.publish").count() == 1
    assert [m.to for m in mail.outbox] == [[researcher.email]]
    assert "information window" in mail.outbox[0].body


def test_the_project_page_shows_the_gates(client, approved, researcher, secretariat):
    login(client, researcher)
    page = client.get(f"/projects/{approved.pk}/").content.decode()
    assert "The CNIL formality is not recorded." in page
    assert f"/projects/{approved.pk}/formalities/" not in page
    login(client, secretariat)
    page = client.get(f"/projects/{approved.pk}/").content.decode()
    assert f"/projects/{approved.pk}/formalities/" in page


def test_formalities_pages_record_and_publish(client, approved, secretariat):
    login(client, secretariat)
    assert client.get("/formalities/").status_code == 200
    url = f"/projects/{approved.pk}/formalities/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"formality_type": "mr004", "formality_reference": "X"})
    assert bad.status_code == 400
    assert bad.context["form"].data["formality_reference"] == "X"  # nothing typed is lost
    response = client.post(
        url,
        {
            "formality_type": "mr004",
            "formality_reference": "2226543 v 0",
            "formality_date": "2026-01-05",
            "directory": "hdh",
            "directory_reference": "HDH-2026-0042",
            "directory_date": "2026-01-06",
        },
    )
    assert response.status_code == 302
    publish = f"/projects/{approved.pk}/publish/"
    preview = client.get(publish)
    assert preview.status_code == 200
    assert "HDH-2026-0042" in preview.content.decode()
    assert client.post(publish, {"results_status": "not_yet"}).status_code == 302
    approved.refresh_from_db()
    assert approved.status == ProjectStatus.PUBLISHED


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "commission_member",
        "chair",
        "identity_officer",
        "data_steward",
        "dpo",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_formalities_pages_refuse_other_roles(client, approved, persona):
    login(client, persona)
    for url in (
        "/formalities/",
        f"/projects/{approved.pk}/formalities/",
        f"/projects/{approved.pk}/publish/",
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    assert approved.formality_records.count() == 0


def test_formalities_of_an_unknown_project_is_404(client, secretariat):
    login(client, secretariat)
    assert client.get("/projects/999999/formalities/").status_code == 404


def test_formalities_list_query_count(
    client, secretariat, researcher, chair, django_assert_max_num_queries
):
    for n in range(3):
        project = approved_project(researcher, secretariat, chair, title=f"P{n}")
        record_mr004(project, secretariat)
    login(client, secretariat)
    with django_assert_max_num_queries(12):
        assert client.get("/formalities/").status_code == 200
