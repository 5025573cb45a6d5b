"""OPP-11: an objection that takes effect after a delivery reaches the dataset already delivered.

Publication records the pseudonyms that left and makes the project active; a later objection
records a propagation per affected dataset, tells the recipients which pseudonym to delete,
and builds a new version without the person; the lead confirms, or the DPO records an
exception with its reason. The status page lists the projects that received
the person's data, and when.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied

from access.models import Scope
from access.models_provisioning import (
    Propagation,
    PropagationStatus,
    ProvisioningRun,
    RunStatus,
)
from access.opposition import actions as opposition_actions
from access.provisioning import propagation, runs
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.models import ProjectStatus, TeamMembership, TeamRole
from tests.access.helpers import BIRTH, online_request
from tests.access.provisioning_helpers import DBS, person_keys, pseudonyms_in, published
from tests.conftest import login

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "provisioning_settings", "english_client"),
]


@pytest.fixture(autouse=True)
def _recipients_read_english(researcher):
    """Notices follow each recipient's language; the assertions read the English msgids."""
    researcher.language = "en"
    researcher.save(update_fields=["language"])


@pytest.fixture
def project(researcher, secretariat, chair):
    return published(researcher, secretariat, chair)


def deliver(project, data_steward, capture) -> ProvisioningRun:
    with capture(execute=True):
        run = runs.start_run(project=project, by=data_steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    return run


def object_as(person_key, identity_officer, capture, **options):
    """An online objection, matched by the identity officer: it takes effect (OPP-08)."""
    request = online_request(**options)
    with capture(execute=True):
        opposition_actions.confirm_match(
            by=identity_officer, request=request, person_key=person_key, method="test"
        )
    request.refresh_from_db()
    return request


# --- Publication: what left, and the project becomes active ------------------------------------


def test_publication_records_the_pseudonyms_delivered_and_activates_the_project(
    project, data_steward, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)

    delivered = pseudonyms_in(Path(run.dataset_path))
    blob = bytes(run.delivery.pseudonyms)
    recorded = {blob[i : i + 16].hex() for i in range(0, len(blob), 16)}
    assert recorded == delivered != set()
    assert run.delivery.persons == len(delivered) == len(blob) // 16
    event = AuditEvent.objects.get(action="provisioning.delivery_recorded")
    assert event.after["persons"] == len(recorded)
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    activated = AuditEvent.objects.get(action="project.activate", target_id=str(project.pk))
    assert activated.actor is None
    assert activated.after["run"] == run.pk

    # A second dataset does not activate it again.
    second = deliver(project, data_steward, django_capture_on_commit_callbacks)
    assert second.delivery.persons == len(recorded)
    assert AuditEvent.objects.filter(action="project.activate").count() == 1


def test_every_dataset_carries_the_pseudonym_and_older_ones_are_recomputed_by_the_rules(
    project,
    researcher,
    secretariat,
    chair,
    data_steward,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """Every person table now carries ``person_pseudonym``, approved or not; a dataset
    published before, without the column in its files, has its map recomputed."""
    import pyarrow.parquet as pq

    from tests.access import provisioning_helpers

    with_column = deliver(project, data_steward, django_capture_on_commit_callbacks)
    without_pseudonym = [
        v for v in provisioning_helpers.VARIABLES if v["code"] != "person.pseudonym"
    ]
    monkeypatch.setattr(provisioning_helpers, "VARIABLES", without_pseudonym)
    other = published(researcher, secretariat, chair, title="Sans pseudonyme")
    unapproved = deliver(other, data_steward, django_capture_on_commit_callbacks)
    assert pseudonyms_in(Path(unapproved.dataset_path)) != set()
    assert propagation.rows_identifiable(unapproved)

    # As if published before: the person file without the column.
    person = Path(with_column.dataset_path) / "person.parquet"
    table = pq.read_table(person)
    pq.write_table(table.drop(["person_pseudonym"]), person)
    recomputed = {value for batch in propagation._delivered_batches(with_column) for value in batch}
    blob = bytes(with_column.delivery.pseudonyms)
    assert recomputed == {blob[i : i + 16].hex() for i in range(0, len(blob), 16)} != set()


def test_a_person_is_found_in_a_run_by_the_pseudonym_of_its_key_generation(
    project, data_steward, django_capture_on_commit_callbacks
):
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)
    key = person_keys()[0]
    found = propagation.runs_containing([key], [run])
    assert found == [(run, [propagation.run_pseudonym(run, key)])]
    assert propagation.run_pseudonym(run, key) in pseudonyms_in(Path(run.dataset_path))
    assert propagation.runs_containing(["not-a-person-key"], [run]) == []


# --- An objection after publication --------------------------------------------------------------


def test_an_objection_after_publication_is_propagated_to_the_delivered_dataset(
    project, researcher, data_steward, identity_officer, django_capture_on_commit_callbacks
):
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)
    key = person_keys()[0]
    pseudonym = propagation.run_pseudonym(run, key)
    mail.outbox.clear()

    request = object_as(key, identity_officer, django_capture_on_commit_callbacks)

    item = Propagation.objects.get()
    assert item.run == run
    assert item.entry.request == request
    assert item.pseudonyms == [pseudonym]
    assert item.status == PropagationStatus.OPEN
    assert item.notified_at is not None
    assert (item.due_on - item.notified_at.date()).days == settings.EDS_OPPOSITION_DELETION_DAYS
    recorded = AuditEvent.objects.get(action="provisioning.propagation_recorded")
    assert recorded.after["pseudonyms"] == [pseudonym]
    assert recorded.after["run"] == run.pk
    # The recipients (here the lead) are told which pseudonym to delete, and where to confirm.
    told = [m for m in mail.outbox if pseudonym in m.body]
    assert [m.to for m in told] == [[researcher.email]]
    assert f"/provisioning/propagations/{item.pk}/" in told[0].body

    # A new version of the dataset, started by the system, without the person.
    replacement = item.replacement
    assert replacement is not None
    assert replacement.pk != run.pk
    replacement.refresh_from_db()
    assert replacement.status == RunStatus.PUBLISHED, replacement.reasons
    assert replacement.register_snapshot > run.register_snapshot
    assert pseudonym not in pseudonyms_in(Path(replacement.dataset_path))
    assert pseudonyms_in(Path(replacement.dataset_path))  # everyone else is still there
    started = AuditEvent.objects.get(
        action="provisioning.run_started", target_id=str(replacement.pk)
    )
    assert started.actor is None
    assert started.after["reason"] == "objection"
    assert started.after["replaces"] == run.pk
    # The old dataset is still listed as containing the person; the new one is not.
    assert propagation.runs_containing([key], [run, replacement]) == [(run, [pseudonym])]

    # The same message delivered again creates nothing.
    assert propagation.propagate_objection(entry_id=item.entry_id) == []
    assert Propagation.objects.count() == 1
    assert ProvisioningRun.objects.count() == 2


def test_an_objection_to_another_project_is_not_propagated_there(
    project,
    researcher,
    secretariat,
    chair,
    data_steward,
    identity_officer,
    django_capture_on_commit_callbacks,
):
    deliver(project, data_steward, django_capture_on_commit_callbacks)
    other = published(researcher, secretariat, chair, title="Autre projet")
    object_as(
        person_keys()[0],
        identity_officer,
        django_capture_on_commit_callbacks,
        scope=Scope.PROJECTS,
        projects=[other],
    )
    assert not Propagation.objects.exists()
    assert ProvisioningRun.objects.count() == 1


def test_an_objection_before_any_delivery_has_nothing_to_propagate(
    project, data_steward, identity_officer, django_capture_on_commit_callbacks
):
    key = person_keys()[0]
    object_as(key, identity_officer, django_capture_on_commit_callbacks)
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)
    assert not Propagation.objects.exists()
    assert propagation.runs_containing([key], [run]) == []


def test_a_withdrawn_objection_is_not_propagated(
    project, data_steward, identity_officer, dpo, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from access.models import Channel

    deliver(project, data_steward, django_capture_on_commit_callbacks)
    request = online_request()
    # Matched, then withdrawn before the worker got the message.
    opposition_actions.confirm_match(
        by=identity_officer, request=request, person_key=person_keys()[0], method="test"
    )
    opposition_actions.record_withdrawal(
        by=dpo, objection=request, channel=Channel.POST, received_at=timezone.now()
    )
    entry = request.register_entries.get(effect="object")
    assert propagation.propagate_objection(entry_id=entry.pk) == []
    assert not Propagation.objects.exists()


@pytest.fixture
def propagated(project, data_steward, identity_officer, django_capture_on_commit_callbacks):
    deliver(project, data_steward, django_capture_on_commit_callbacks)
    object_as(person_keys()[0], identity_officer, django_capture_on_commit_callbacks)
    return Propagation.objects.get()


# --- The lead confirms; the DPO records an exception -------------------------------------------


def test_the_notice_says_in_which_column_and_files_to_look(
    client, project, researcher, data_steward, identity_officer, django_capture_on_commit_callbacks
):
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)
    key = person_keys()[0]
    pseudonym = propagation.run_pseudonym(run, key)
    # The pseudonym named is the one in the files, in that column.
    assert pseudonym in pseudonyms_in(Path(run.dataset_path))
    mail.outbox.clear()
    object_as(key, identity_officer, django_capture_on_commit_callbacks)
    item = Propagation.objects.get()
    files = propagation.pseudonym_files(run)
    assert "person.csv" in files
    assert "visit_occurrence.parquet" in files
    assert not any(name.startswith(("care_site", "data_dictionary")) for name in files)
    told = next(m for m in mail.outbox if pseudonym in m.body)
    assert "the person_pseudonym column of each file" in told.body
    assert "person.csv" in told.body
    login(client, researcher)
    page = client.get(f"/provisioning/propagations/{item.pk}/")
    body = page.content.decode()
    assert "In the person_pseudonym column of each of these files" in body
    assert "<code>person.csv</code>" in body
    assert "I confirm the deletion<" in body


def _as_published_before(run, *, with_pseudonym: bool) -> None:
    """The run's manifest as format 1 wrote it (codes only, no tables' columns)."""
    codes = ["person.sex", "visit.start"] + (["person.pseudonym"] if with_pseudonym else [])
    old = {
        "format": 1,
        "specification": {"sha256": run.spec_sha256, "version": 1, "variables": codes},
        "cohort": run.manifest["cohort"],
        "rows": run.manifest["rows"],
        "files": run.manifest["files"],
    }
    ProvisioningRun.objects.filter(pk=run.pk).update(manifest=old)


def test_a_format_1_dataset_with_the_pseudonym_names_its_files(propagated):
    run = propagated.run
    _as_published_before(run, with_pseudonym=True)
    run.refresh_from_db()
    files = propagation.pseudonym_files(run)
    assert "person.csv" in files
    assert "person.parquet" in files
    assert not any(
        name.startswith(("care_site", "data_dictionary", "value_labels")) for name in files
    )


def test_without_a_pseudonym_column_the_dataset_must_be_deleted_whole(
    client, propagated, researcher, dpo, django_capture_on_commit_callbacks
):
    run = propagated.run
    _as_published_before(run, with_pseudonym=False)
    propagated.refresh_from_db()
    assert propagation.pseudonym_files(propagated.run) == []
    # The notice says so.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        propagation._notify_recipients(propagated)
    body = mail.outbox[0].body
    assert "have no person_pseudonym column" in body
    assert "Delete the whole dataset" in body
    # The page offers no confirmation of rows that the files cannot identify.
    login(client, researcher)
    page = client.get(f"/provisioning/propagations/{propagated.pk}/").content.decode()
    assert "I confirm the deletion<" not in page
    assert "the rows of this person cannot be deleted alone" in page
    assert "I confirm that the whole dataset is deleted" in page
    assert 'name="deleted" value="dataset"' in page
    # A confirmation of rows is refused...
    url = f"/provisioning/propagations/{propagated.pk}/confirm/"
    client.post(url)
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.OPEN
    with pytest.raises(propagation.PropagationRefused):
        propagation.confirm_deletion(propagation=propagated, by=researcher)
    # ...that of the whole dataset is recorded as such.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"deleted": "dataset"}).status_code == 302
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.CONFIRMED
    event = AuditEvent.objects.get(action="provisioning.propagation_confirmed")
    assert event.after["deleted"] == "dataset"


def test_the_lead_confirms_the_deletion(
    client, propagated, researcher, dpo, django_capture_on_commit_callbacks
):
    login(client, researcher)
    page = client.get(f"/provisioning/propagations/{propagated.pk}/")
    assert page.status_code == 200
    assert propagated.pseudonyms[0] in page.content.decode()
    assert page.context["can_confirm"]
    assert not page.context["can_record_exception"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/provisioning/propagations/{propagated.pk}/confirm/")
    assert response.status_code == 302
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.CONFIRMED
    assert propagated.confirmed_by == researcher
    assert propagated.confirmed_at is not None
    event = AuditEvent.objects.get(action="provisioning.propagation_confirmed")
    assert event.actor == researcher
    assert [m.to for m in mail.outbox] == [[dpo.email]]
    # Settled: confirming again changes nothing.
    client.post(f"/provisioning/propagations/{propagated.pk}/confirm/")
    assert AuditEvent.objects.filter(action="provisioning.propagation_confirmed").count() == 1
    assert propagation.open_propagations().count() == 0


def test_only_the_lead_confirms(client, propagated, make_user, data_steward, dpo):
    analyst = make_user(Role.RESEARCHER)
    TeamMembership.objects.create(
        project=propagated.run.project, user=analyst, role=TeamRole.ANALYST
    )
    url = f"/provisioning/propagations/{propagated.pk}/confirm/"
    for user in (analyst, data_steward, dpo):
        login(client, user)
        assert client.post(url).status_code == 403
        with pytest.raises(PermissionDenied):
            propagation.confirm_deletion(propagation=propagated, by=user)
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.OPEN
    assert not AuditEvent.objects.filter(action="provisioning.propagation_confirmed").exists()


def test_the_dpo_records_an_exception_with_its_reason(
    client, propagated, researcher, dpo, django_capture_on_commit_callbacks
):
    login(client, dpo)
    url = f"/provisioning/propagations/{propagated.pk}/exception/"
    page = client.get(f"/provisioning/propagations/{propagated.pk}/")
    assert page.context["can_record_exception"]
    assert not page.context["can_confirm"]
    empty = client.post(url, {"reason": "   "})
    assert empty.status_code == 400
    assert empty.context["form"].errors["reason"]
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.OPEN

    reason = "Analyse terminée et publiée : l'effacement la compromettrait (art. 17(3)(d))."
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"reason": reason}).status_code == 302
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.EXCEPTION
    assert propagated.exception_reason == reason
    assert propagated.exception_by == dpo
    event = AuditEvent.objects.get(action="provisioning.propagation_exception")
    assert event.actor == dpo
    assert event.after["reason"] == reason
    assert researcher.email in {m.to[0] for m in mail.outbox}
    # The lead can no longer confirm a settled propagation.
    with pytest.raises(propagation.PropagationRefused):
        propagation.confirm_deletion(propagation=propagated, by=researcher)


def test_only_the_dpo_records_an_exception(client, propagated, researcher, data_steward):
    url = f"/provisioning/propagations/{propagated.pk}/exception/"
    for user in (researcher, data_steward):
        login(client, user)
        assert client.post(url, {"reason": "Parce que."}).status_code == 403
        with pytest.raises(PermissionDenied):
            propagation.record_exception(propagation=propagated, by=user, reason="Parce que.")
    propagated.refresh_from_db()
    assert propagated.status == PropagationStatus.OPEN


def test_the_dpo_lists_the_deletions_awaited(
    client, propagated, dpo, django_assert_max_num_queries
):
    login(client, dpo)
    with django_assert_max_num_queries(12):
        page = client.get("/provisioning/propagations/")
    assert page.status_code == 200
    assert page.context["propagations"] == [propagated]
    assert propagated.run.project.reference in page.content.decode()


@pytest.mark.parametrize(
    "persona", ["researcher", "data_steward", "secretariat", "auditor", "outsider"]
)
def test_other_roles_do_not_see_the_dpo_list(client, propagated, make_user, persona, request):
    user = request.getfixturevalue(persona)
    login(client, user)
    assert client.get("/provisioning/propagations/").status_code == 403


def test_strangers_do_not_learn_that_a_propagation_exists(
    client, propagated, make_user, outsider, secretariat
):
    url = f"/provisioning/propagations/{propagated.pk}/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    stranger = make_user(Role.RESEARCHER)
    login(client, stranger)
    assert client.get(url).status_code == 404
    assert client.post(url + "confirm/").status_code == 404
    for user in (outsider, secretariat):
        login(client, user)
        assert client.get(url).status_code == 403


def test_the_data_steward_follows_without_acting(client, propagated, data_steward):
    login(client, data_steward)
    page = client.get(f"/provisioning/propagations/{propagated.pk}/")
    assert page.status_code == 200
    assert not page.context["can_confirm"]
    assert not page.context["can_record_exception"]


# --- "Which projects used my data" --------------------------------------------------------------


def status_page(client, request):
    return client.post(
        "/opposition/status/", {"receipt_number": request.receipt_number, "birth_date": BIRTH}
    )


def test_the_status_page_lists_the_projects_that_received_the_persons_data(
    client, project, data_steward, identity_officer, django_capture_on_commit_callbacks
):
    keys = person_keys()
    # B objected before any delivery: never in a dataset. A objects after the first one.
    before = object_as(keys[1], identity_officer, django_capture_on_commit_callbacks)
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)
    after = object_as(keys[0], identity_officer, django_capture_on_commit_callbacks)
    waiting = online_request()

    response = status_page(client, after)
    assert response.status_code == 200
    deliveries = response.context["deliveries"]
    assert [d["project"] for d in deliveries] == [project]
    # Only the dataset that contained the person: not the new version built without them.
    assert deliveries[0]["dates"] == [run.finished_at]
    assert deliveries[0]["title"] == project.public_page.title
    body = response.content.decode()
    assert project.reference in body
    assert project.public_page.title in body
    viewed = AuditEvent.objects.filter(action="opposition.status_viewed").last()
    assert viewed.after["deliveries"] == [project.reference]

    # Nobody else's data: the person excluded before the delivery sees no project.
    assert status_page(client, before).context["deliveries"] == []
    # Not matched yet: nothing is listed.
    unmatched = status_page(client, waiting)
    assert unmatched.status_code == 200
    assert unmatched.context["deliveries"] == []
    assert project.reference not in unmatched.content.decode()


def test_an_omop_dataset_notice_names_the_person_source_value_and_the_person_id(
    client,
    researcher,
    secretariat,
    chair,
    data_steward,
    identity_officer,
    django_capture_on_commit_callbacks,
):
    """In the OMOP shape the pseudonym is person.person_source_value and the other tables carry
    person_id: the notice says so, and the run's delivery record reads that column."""
    import pyarrow.parquet as pq

    project = published(researcher, secretariat, chair, shape="omop")
    run = deliver(project, data_steward, django_capture_on_commit_callbacks)
    key = person_keys()[0]
    pseudonym = propagation.run_pseudonym(run, key)
    person = pq.read_table(Path(run.dataset_path) / "person.parquet")
    assert pseudonym in person.column("person_source_value").to_pylist()
    assert "person_pseudonym" not in person.column_names
    assert propagation.pseudonym_files(run) == ["person.csv", "person.parquet"]
    mail.outbox.clear()
    object_as(key, identity_officer, django_capture_on_commit_callbacks)
    item = Propagation.objects.get()
    assert item.pseudonyms == [pseudonym]  # found through the recorded delivery
    told = next(m for m in mail.outbox if pseudonym in m.body)
    assert "person_source_value column of person.csv" in told.body
    assert "delete the rows of that person_id in every table" in told.body
    login(client, researcher)
    body = client.get(f"/provisioning/propagations/{item.pk}/").content.decode()
    assert "note the person_id of each pseudonym" in body
    assert "I confirm the deletion<" in body
