"""The consent register (CON-01 to CON-07, Fields C) and the record of processing (GOV-16)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from access.consent import consenting_persons
from access.consent.actions import ConsentRefused, record_consent, withdraw_consent
from access.models import ConsentRecord, ConsentWithdrawal
from eds_portal.models import AuditEvent
from projects.models import Project
from tests.access.transparency_helpers import approved_project, record_mr004
from tests.conftest import login
from tests.csv_exports import export_text
from warehouse.keys import person_key
from warehouse.models import Person

pytestmark = [
    pytest.mark.django_db(databases=["default", "warehouse"]),
    pytest.mark.usefixtures("english_client"),
]

IDENTITY = {
    "birth_name": "Martin",
    "first_names": "Léa",
    "birth_date": date(2015, 3, 2),
    "sex": "F",
}


@pytest.fixture
def consent_project(researcher, secretariat, chair):
    project = approved_project(researcher, secretariat, chair)
    Project.objects.filter(pk=project.pk).update(requires_consent=True)
    project.refresh_from_db()
    return project


@pytest.fixture
def person():
    key = person_key(**IDENTITY)
    Person.objects.using("warehouse").create(
        person_id=1, gender_concept_id=8532, year_of_birth=2015, person_source_value=key
    )
    return key


def _consent(project, by, key, **overrides):
    values = {
        "person_key": key,
        "purposes": "Participation à l'étude BRONCHIO-DOM.",
        "notice_version": "v2.1",
        "given_at": timezone.now() - timedelta(days=2),
        "method": "paper",
        "collector": "Dr Investigatrice",
        "evidence": "Classeur 3 / scan 0042",
    }
    values.update(overrides)
    return record_consent(project=project, by=by, **values)


def test_con02_a_consent_is_recorded_with_its_evidence_and_audited(consent_project, dpo, person):
    record = _consent(consent_project, dpo, person)
    assert consenting_persons(consent_project) == {person}
    event = AuditEvent.objects.get(action="consent.recorded")
    assert event.actor == dpo
    assert event.after["notice_version"] == "v2.1"
    assert person not in str(event.after)  # the key stays in the register
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()


def test_con01_only_consent_based_projects_have_a_register(
    researcher, secretariat, chair, dpo, person
):
    project = approved_project(researcher, secretariat, chair)
    with pytest.raises(ConsentRefused):
        _consent(project, dpo, person)


def test_con04_a_minor_needs_representatives_and_their_refusal_prevails(
    consent_project, dpo, person
):
    with pytest.raises(ConsentRefused):
        _consent(consent_project, dpo, person, subject_category="minor")
    _consent(
        consent_project,
        dpo,
        person,
        subject_category="minor",
        representatives="Les deux titulaires de l'autorité parentale",
        assent="refused",
    )
    assert consenting_persons(consent_project) == set()


def test_con05_con06_withdrawal_is_a_new_entry_and_stops_provisioning(
    consent_project, dpo, person, data_steward, django_capture_on_commit_callbacks
):
    _consent(consent_project, dpo, person)
    before = timezone.now() - timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_consent(
            project=consent_project,
            by=dpo,
            person_key=person,
            withdrawn_at=timezone.now(),
            channel="phone",
            data_fate="keep",
            fate_basis="La notice prévoit la conservation des données déjà collectées.",
        )
    assert consenting_persons(consent_project) == set()
    # Earlier processing stays lawful: the consent was valid before the withdrawal.
    assert consenting_persons(consent_project, on=before) == {person}
    assert ConsentRecord.objects.count() == 1  # never overwritten
    assert ConsentWithdrawal.objects.get().data_fate == "keep"
    assert AuditEvent.objects.filter(action="consent.withdrawn").count() == 1
    assert [m.to for m in mail.outbox] == [[data_steward.email]]
    # A new consent after the withdrawal is valid again.
    _consent(consent_project, dpo, person, given_at=timezone.now())
    assert consenting_persons(consent_project) == {person}


def test_con05_no_withdrawal_without_a_valid_consent(consent_project, dpo, person):
    with pytest.raises(ConsentRefused):
        withdraw_consent(
            project=consent_project,
            by=dpo,
            person_key=person,
            withdrawn_at=timezone.now(),
            channel="email",
            data_fate="erase",
            fate_basis="Notice v2.1",
        )


def test_con07_the_gates_open_with_a_valid_consent(
    consent_project, dpo, secretariat, person, settings
):
    from access.formalities.actions import publish_project
    from access.formalities.gates import provisioning_blockers

    settings.EDS_INFORMATION_WINDOW_DAYS = 0
    record_mr004(consent_project, secretariat)
    publish_project(project=consent_project, by=secretariat)
    consent_project.refresh_from_db()
    assert provisioning_blockers(consent_project) == [
        "This project relies on consent and no valid consent is recorded."
    ]
    _consent(consent_project, dpo, person)
    assert provisioning_blockers(consent_project) == []


def test_the_dpo_records_a_consent_from_the_identity_without_keeping_it(
    client, consent_project, dpo, person
):
    login(client, dpo)
    url = f"/consent/projects/{consent_project.pk}/new/"
    assert client.get(url).status_code == 200
    form = {
        "birth_name": "Martin",
        "first_names": "Léa",
        "birth_date": "2015-03-02",
        "sex": "F",
        "purposes": "Participation à l'étude.",
        "notice_version": "v2.1",
        "given_at": (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "method": "paper",
        "collector": "Dr Investigatrice",
        "evidence": "Classeur 3",
        "subject_category": "minor",
        "representatives": "",
        "assent": "not_applicable",
    }
    refused = client.post(url, form)
    assert refused.status_code == 400
    assert refused.context["form"].data["evidence"] == "Classeur 3"  # nothing typed is lost
    form.update(representatives="Mère, titulaire de l'autorité parentale", assent="given")
    assert client.post(url, form).status_code == 302
    record = ConsentRecord.objects.get()
    assert record.person_key == person
    stored = " ".join(str(v) for v in ConsentRecord.objects.values().get().values())
    assert "Martin" not in stored
    assert "Léa" not in stored
    assert "Martin" not in str(list(AuditEvent.objects.values_list("after", flat=True)))
    unknown = client.post(url, {**form, "birth_name": "Inconnu"})
    assert unknown.status_code == 400
    assert "No person of the warehouse" in unknown.content.decode()


def test_register_page_and_export_are_audited_reads(
    client, consent_project, dpo, data_steward, person
):
    _consent(consent_project, dpo, person)
    login(client, data_steward)
    page = client.get(f"/consent/projects/{consent_project.pk}/")
    assert page.status_code == 200
    assert "1 person has a valid consent today." in page.content.decode()
    assert f"/consent/projects/{consent_project.pk}/new/" not in page.content.decode()
    export = client.get(f"/consent/projects/{consent_project.pk}/export.csv")
    assert person in export.content.decode()
    assert AuditEvent.objects.filter(action="consent.register_read", actor=data_steward).exists()
    assert AuditEvent.objects.filter(action="consent.register_exported").exists()
    # The data steward reads but does not write.
    assert client.get(f"/consent/projects/{consent_project.pk}/new/").status_code == 403


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "secretariat",
        "commission_member",
        "chair",
        "identity_officer",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_consent_pages_refuse_other_roles(client, consent_project, persona):
    login(client, persona)
    for url in (
        "/consent/",
        f"/consent/projects/{consent_project.pk}/",
        f"/consent/projects/{consent_project.pk}/export.csv",
        f"/consent/projects/{consent_project.pk}/new/",
        f"/consent/projects/{consent_project.pk}/withdraw/",
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code == 403, url


def test_anonymous_is_sent_to_login(client, consent_project):
    response = client.get(f"/consent/projects/{consent_project.pk}/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_project_without_consent_has_no_register_page(
    client, researcher, secretariat, chair, dpo
):
    project = approved_project(researcher, secretariat, chair)
    login(client, dpo)
    assert client.get(f"/consent/projects/{project.pk}/").status_code == 404
    assert client.get("/consent/projects/999999/").status_code == 404


def test_consent_projects_query_count(client, consent_project, dpo, django_assert_max_num_queries):
    login(client, dpo)
    with django_assert_max_num_queries(8):
        assert client.get("/consent/").status_code == 200


# --- Record of processing activities (GOV-16) -------------------------------------------------


def test_gov16_every_project_is_in_the_record_and_its_csv(
    client, dpo, researcher, secretariat, chair, django_assert_max_num_queries
):
    projects = [approved_project(researcher, secretariat, chair, title=f"P{n}") for n in range(3)]
    record_mr004(projects[0], secretariat)
    login(client, dpo)
    # Constant whatever the number of projects: the session, the user, the page's header, then
    # projects, versions, decisions and formalities in one query each.
    with django_assert_max_num_queries(12):
        page = client.get("/dpo/record-of-processing/")
    assert page.status_code == 200
    text = page.content.decode()
    for project in projects:
        assert project.reference in text
    assert "2226543 v 0" in text
    assert "24 months" in text
    export = client.get("/dpo/record-of-processing.csv")
    lines = export_text(export).splitlines()
    assert lines[0].startswith("reference,title,status,controller,purpose,legal_basis")
    assert len(lines) == 4
    assert AuditEvent.objects.filter(action="processing_record.exported", actor=dpo).exists()


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "secretariat",
        "chair",
        "identity_officer",
        "data_steward",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_gov16_the_record_is_the_dpos(client, persona):
    login(client, persona)
    assert client.get("/dpo/record-of-processing/").status_code == 403
    assert client.get("/dpo/record-of-processing.csv").status_code == 403
