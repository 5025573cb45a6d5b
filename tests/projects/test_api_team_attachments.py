"""The projects API, continued: the team, the attachments and the comparison of versions."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects.actions import create_project, save_section, submit_project, withdraw_project
from projects.attachment_actions import add_attachment
from projects.models import (
    Attachment,
    AttachmentKind,
    Invitation,
    Project,
    ProjectStatus,
    TeamMembership,
    TeamRole,
)
from projects.team_actions import invite_member, token_digest
from projects.uploads import size_limit_message
from tests.conftest import login
from tests.projects.documents import HTML, MINIMAL_PDF, PNG, make_docx, make_zip
from tests.projects.helpers import VALID_SECTIONS, attach_required, fill_draft

pytestmark = pytest.mark.django_db(databases=["default", "warehouse"])

API = "/api/v1/projects/"
INVITEE = "ines.invitee@chu.example"


def _client(user=None, *, language: str = "en") -> APIClient:
    # The API answers in the request's language; English is what the messages' ids say.
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    return login(client, user) if user is not None else client


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites")


@pytest.fixture
def lead(researcher):
    return _client(researcher)


@pytest.fixture
def co_investigator(make_user, project):
    user = make_user(Role.RESEARCHER, full_name="Céline Coinvestigator", email="celine@u.example")
    TeamMembership.objects.create(project=project, user=user, role=TeamRole.CO_INVESTIGATOR)
    return user


@pytest.fixture
def analyst(make_user, project):
    user = make_user(Role.RESEARCHER, full_name="Ana Analyst", email="ana@u.example")
    TeamMembership.objects.create(project=project, user=user, role=TeamRole.ANALYST)
    return user


@pytest.fixture
def invitation(project, researcher):
    invitation, _token = invite_member(
        project=project, email=INVITEE, role=TeamRole.ANALYST, by=researcher
    )
    return invitation


@pytest.fixture
def attachment(project, researcher):
    return add_attachment(
        project=project,
        kind=AttachmentKind.PROTOCOL,
        upload=_file(MINIMAL_PDF, "Protocole été.pdf"),
        by=researcher,
    )


def _file(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _team(project) -> str:
    return f"{API}{project.pk}/team/"


def _member(membership) -> str:
    return f"{API}{membership.project_id}/team/members/{membership.pk}/"


def _invitation(invitation) -> str:
    return f"{API}{invitation.project_id}/team/invitations/{invitation.pk}/"


def _attachments(project) -> str:
    return f"{API}{project.pk}/attachments/"


def _attachment(attachment) -> str:
    return f"{API}{attachment.project_id}/attachments/{attachment.pk}/"


def _upload(client, project, data: bytes, name: str, kind: str = "protocol"):
    return client.post(
        _attachments(project), {"kind": kind, "file": _file(data, name)}, format="multipart"
    )


def _events(action: str):
    return AuditEvent.objects.filter(action=action)


# --- Team -------------------------------------------------------------------------------------


def test_the_lead_reads_the_team_and_its_pending_invitations(
    project, researcher, co_investigator, analyst, invitation
):
    expired, _token = invite_member(
        project=project, email="old@u.example", role=TeamRole.ANALYST, by=researcher
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    revoked, _token = invite_member(
        project=project, email="gone@u.example", role=TeamRole.ANALYST, by=researcher
    )
    Invitation.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())

    response = _client(researcher).get(_team(project))
    assert response.status_code == 200
    team = response.json()
    assert team["can_manage"] is True
    assert team["team_open"] is True
    assert [m["role"] for m in team["members"]] == ["lead", "co_investigator", "analyst"]
    lead_member = team["members"][0]
    assert lead_member["user_id"] == researcher.pk
    assert lead_member["email"] == researcher.email
    assert lead_member["role_label"] == "Project lead"
    membership = TeamMembership.objects.get(project=project, user=co_investigator)
    assert team["members"][1]["id"] == membership.pk
    assert team["members"][1]["url"].endswith(_member(membership))

    pending = {i["email"]: i for i in team["invitations"]}
    assert set(pending) == {INVITEE, "old@u.example"}
    assert pending[INVITEE]["role"] == "analyst"
    assert pending[INVITEE]["expired"] is False
    assert pending[INVITEE]["invited_by"] == researcher.full_name
    assert pending[INVITEE]["url"].endswith(_invitation(invitation))
    assert pending["old@u.example"]["expired"] is True
    assert invitation.token_sha256 not in response.content.decode()

    # Members see the team, not the addresses invited to it.
    for user in (co_investigator, analyst):
        team = _client(user).get(_team(project)).json()
        assert team["can_manage"] is False
        assert team["invitations"] is None
        assert len(team["members"]) == 3


def test_the_secretariat_reads_the_team_without_the_invitations(project, invitation, secretariat):
    response = _client(secretariat).get(_team(project))
    assert response.status_code == 200
    assert response.json()["invitations"] is None
    assert INVITEE not in response.content.decode()


def test_the_lead_invites_and_the_token_is_only_emailed(
    project, researcher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(researcher).post(
            f"{_team(project)}invitations/",
            {"email": "  Ines.Invitee@CHU.example ", "role": "co_investigator"},
            format="json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    invitation = Invitation.objects.get(project=project)
    assert body["id"] == invitation.pk
    assert body["email"] == INVITEE
    assert body["role"] == "co_investigator"
    assert body["expired"] is False
    assert body["url"].endswith(_invitation(invitation))
    assert "token" not in body

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token_digest(token) == invitation.token_sha256
    assert token not in response.content.decode()
    event = _events("project.member_invited").get()
    assert event.actor == researcher
    assert event.after["invitation"] == invitation.pk
    assert token not in json.dumps([event.before, event.after])


@pytest.mark.usefixtures("english")
def test_invitations_are_checked_and_refused_with_the_reason(
    project, researcher, co_investigator, invitation
):
    url = f"{_team(project)}invitations/"
    client = _client(researcher)
    assert client.post(url, {"email": "nope", "role": "analyst"}, format="json").status_code == 400
    lead_role = client.post(url, {"email": "x@u.example", "role": "lead"}, format="json")
    assert lead_role.status_code == 400
    assert "role" in lead_role.json()
    assert client.post(url, {}, format="json").status_code == 400

    again = client.post(url, {"email": INVITEE, "role": "analyst"}, format="json")
    assert again.status_code == 409
    assert again.json() == {
        "detail": f"{INVITEE} already has a pending invitation. Revoke it first to send a new one."
    }
    member = client.post(url, {"email": co_investigator.email, "role": "analyst"}, format="json")
    assert member.status_code == 409
    assert member.json()["detail"] == f"{co_investigator.email} is already a member of the team."
    assert Invitation.objects.filter(project=project).count() == 1
    assert _events("project.member_invited").count() == 1


def test_refusals_come_in_the_callers_language(project, researcher, invitation):
    french = _client(researcher, language="fr")
    again = french.post(
        f"{_team(project)}invitations/", {"email": INVITEE, "role": "analyst"}, format="json"
    )
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"{INVITEE} a déjà une invitation en attente.")


@pytest.mark.usefixtures("english")
def test_the_lead_revokes_an_invitation(project, researcher, invitation, make_user):
    client = _client(researcher)
    assert client.delete(_invitation(invitation)).status_code == 204
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    event = _events("project.invitation_revoked").get()
    assert event.actor == researcher
    assert event.before["invitation"] == invitation.pk

    again = client.delete(_invitation(invitation))
    assert again.status_code == 409
    assert again.json()["detail"] == "This invitation has already been revoked."
    assert client.get(_team(project)).json()["invitations"] == []
    assert client.delete(f"{_team(project)}invitations/999999/").status_code == 404
    # A number beyond 64 bits is refused before any query (eds_portal.hostile_input).
    assert client.delete(f"{_team(project)}invitations/{2**70}/").status_code == 400

    # An invitation of another project is not found through this one.
    other = create_project(by=researcher, title="Autre")
    foreign, _token = invite_member(project=other, email=INVITEE, role="analyst", by=researcher)
    url = f"{_team(project)}invitations/{foreign.pk}/"
    assert client.delete(url).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


@pytest.mark.usefixtures("english")
def test_the_lead_changes_roles_and_removes_members(project, researcher, co_investigator):
    client = _client(researcher)
    membership = TeamMembership.objects.get(project=project, user=co_investigator)

    changed = client.patch(_member(membership), {"role": "analyst"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["role"] == "analyst"
    assert changed.json()["id"] == membership.pk
    assert changed.json()["full_name"] == co_investigator.full_name
    membership.refresh_from_db()
    assert membership.role == TeamRole.ANALYST
    event = _events("project.member_role_changed").get()
    assert event.actor == researcher
    assert event.after == {"user": co_investigator.pk, "role": "analyst"}

    same = client.patch(_member(membership), {"role": "analyst"}, format="json")
    assert same.status_code == 409
    assert same.json()["detail"] == "This member is already analyst."
    assert client.patch(_member(membership), {"role": "lead"}, format="json").status_code == 400
    assert client.patch(_member(membership), {}, format="json").status_code == 400

    lead_membership = TeamMembership.objects.get(project=project, user=researcher)
    refused = client.patch(_member(lead_membership), {"role": "analyst"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "The project lead cannot be removed from the team or change role."
    )
    assert client.delete(_member(lead_membership)).status_code == 409

    assert client.delete(_member(membership)).status_code == 204
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()
    event = _events("project.member_removed").get()
    assert event.before == {"user": co_investigator.pk, "role": "analyst"}
    assert client.delete(_member(membership)).status_code == 404
    # The removed member loses access at once.
    assert _client(co_investigator).get(f"{API}{project.pk}/").status_code == 404


def test_only_the_lead_manages_the_team(project, co_investigator, analyst, invitation, secretariat):
    lead_membership = project.memberships.get(role=TeamRole.LEAD)
    analyst_membership = project.memberships.get(user=analyst)
    for user in (co_investigator, analyst, secretariat):
        client = _client(user)
        invite = client.post(
            f"{_team(project)}invitations/", {"email": "x@u.example", "role": "analyst"}
        )
        assert invite.status_code == 403, user
        assert client.delete(_invitation(invitation)).status_code == 403
        patch = client.patch(_member(analyst_membership), {"role": "co_investigator"})
        assert patch.status_code == 403
        assert client.delete(_member(lead_membership)).status_code == 403
        assert client.delete(_member(analyst_membership)).status_code == 403
    assert Invitation.objects.filter(project=project).count() == 1
    assert project.memberships.count() == 3
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


@pytest.mark.usefixtures("english")
def test_the_team_of_a_withdrawn_project_no_longer_changes(project, researcher, co_investigator):
    withdraw_project(project=project, by=researcher, reason="Financement arrêté.")
    client = _client(researcher)
    assert client.get(_team(project)).json()["team_open"] is False
    refused = client.post(
        f"{_team(project)}invitations/", {"email": INVITEE, "role": "analyst"}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == "The team of a withdrawn project can no longer change."
    membership = project.memberships.get(user=co_investigator)
    assert client.delete(_member(membership)).status_code == 409
    assert project.memberships.count() == 2


def test_the_team_query_count_does_not_grow_with_members(project, researcher, make_user):
    client = _client(researcher)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_team(project)).status_code == 200
        return len(queries)

    few = count()
    for index in range(4):
        user = make_user(Role.RESEARCHER)
        TeamMembership.objects.create(project=project, user=user, role=TeamRole.ANALYST)
        invite_member(project=project, email=f"p{index}@u.example", role="analyst", by=researcher)
    assert count() == few


# --- Attachments ------------------------------------------------------------------------------


def test_upload_list_download_and_remove(project, researcher):
    client = _client(researcher)
    created = _upload(client, project, MINIMAL_PDF, "Protocole été.pdf")
    assert created.status_code == 201, created.content
    body = created.json()
    attachment = Attachment.objects.get()
    assert body["id"] == attachment.pk
    assert body["kind"] == "protocol"
    assert body["name"] == "Protocole_été.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(MINIMAL_PDF)
    assert body["sha256"] == hashlib.sha256(MINIMAL_PDF).hexdigest()
    assert body["uploaded_by"] == researcher.full_name
    assert created["Location"] == body["url"]
    assert body["url"].endswith(_attachment(attachment))
    assert body["download_url"].endswith(f"{_attachment(attachment)}download/")
    added = _events("project.attachment_added").get()
    assert added.actor == researcher
    assert "Protocole" not in json.dumps(added.after)

    listed = client.get(_attachments(project))
    assert listed.status_code == 200
    assert listed.json() == [body]
    assert client.get(_attachment(attachment)).json() == body

    download = client.get(body["download_url"], HTTP_ACCEPT="application/pdf")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == MINIMAL_PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "Protocole_%C3%A9t%C3%A9.pdf" in download["Content-Disposition"]
    assert download["Cache-Control"] == "private, no-store"
    downloaded = _events("project.attachment_downloaded").get()
    assert downloaded.actor == researcher
    assert downloaded.after["attachment"] == attachment.pk

    assert client.delete(_attachment(attachment)).status_code == 204
    removed = _events("project.attachment_removed").get()
    assert removed.before["attachment"] == attachment.pk
    assert client.get(_attachments(project)).json() == []
    # Held by no version, the removed file is gone for the API as for the pages.
    assert client.get(f"{_attachment(attachment)}download/").status_code == 404
    assert client.delete(_attachment(attachment)).status_code == 404
    assert _events("project.attachment_downloaded").count() == 1


def test_a_document_is_typed_by_its_content(project, researcher):
    created = _upload(_client(researcher), project, make_docx(), "note.odt", "information_note")
    assert created.status_code == 201
    assert created.json()["name"] == "note.docx"
    assert created.json()["content_type"].endswith("wordprocessingml.document")


@pytest.mark.usefixtures("english")
@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(HTML, "protocole.pdf", id="html-as-pdf"),
        pytest.param(make_zip([("a.txt", "x")]), "protocole.docx", id="zip-as-docx"),
        pytest.param(PNG, "protocole.docx", id="png-as-docx"),
    ],
)
def test_disguised_files_are_refused(project, researcher, data, name):
    refused = _upload(_client(researcher), project, data, name)
    assert refused.status_code == 400
    assert refused.json() == {
        "file": [
            "This file is not a PDF, ODT or DOCX document (its content was checked, not its name)."
        ]
    }
    assert not Attachment.objects.exists()
    assert not _events("project.attachment_added").exists()


@pytest.mark.usefixtures("english")
def test_oversized_files_are_refused(project, researcher, settings):
    settings.EDS_MAX_UPLOAD_BYTES = 1000
    client = _client(researcher)
    big = MINIMAL_PDF[:-6] + b"%" * 5000 + b"\n%%EOF\n"
    refused = _upload(client, project, big, "gros.pdf")
    assert refused.status_code == 400
    assert refused.json() == {"file": [size_limit_message()]}
    assert "larger than the limit" in refused.json()["file"][0]
    assert not Attachment.objects.exists()
    assert _upload(client, project, MINIMAL_PDF, "petit.pdf").status_code == 201


def test_an_upload_needs_a_kind_and_a_file(project, researcher):
    client = _client(researcher)
    assert client.post(_attachments(project), {"kind": "protocol"}).status_code == 400
    no_kind = client.post(_attachments(project), {"file": _file(MINIMAL_PDF, "p.pdf")})
    assert no_kind.status_code == 400
    assert "kind" in no_kind.json()
    wrong = _upload(client, project, MINIMAL_PDF, "p.pdf", kind="photo")
    assert wrong.status_code == 400
    as_json = client.post(_attachments(project), {"kind": "protocol"}, format="json")
    assert as_json.status_code == 415
    assert not Attachment.objects.exists()


def test_who_may_upload_download_and_remove(
    project, attachment, co_investigator, analyst, secretariat
):
    uploaded = _upload(_client(co_investigator), project, MINIMAL_PDF, "cv.pdf", "cv")
    assert uploaded.status_code == 201
    for user in (analyst, secretariat):
        client = _client(user)
        assert client.get(_attachments(project)).status_code == 200
        download = client.get(f"{_attachment(attachment)}download/")
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == MINIMAL_PDF
        assert _upload(client, project, MINIMAL_PDF, "x.pdf").status_code == 403
        assert client.delete(_attachment(attachment)).status_code == 403
    assert Attachment.objects.filter(removed_at__isnull=True).count() == 2
    assert [e.actor for e in _events("project.attachment_downloaded").order_by("seq")] == [
        analyst,
        secretariat,
    ]


def test_a_submitted_draft_keeps_its_attachments_and_they_stay_downloadable(project, researcher):
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    client = _client(researcher)
    kept = project.attachments.get(kind=AttachmentKind.PROTOCOL)

    refused = _upload(client, project, MINIMAL_PDF, "v2.pdf")
    assert refused.status_code == 409
    assert client.delete(_attachment(kept)).status_code == 409
    kept.refresh_from_db()
    assert kept.removed_at is None

    # The commission asked for changes: the draft is editable again.
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.CHANGES_REQUESTED)
    assert client.delete(_attachment(kept)).status_code == 204
    assert client.get(_attachment(kept)).status_code == 404
    download = client.get(f"{_attachment(kept)}download/")
    assert download.status_code == 200  # version 1 holds it
    assert b"".join(download.streaming_content) == b"%PDF-1.4\n"


def test_the_attachment_list_query_count_does_not_grow_with_files(project, researcher):
    client = _client(researcher)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(_attachments(project)).status_code == 200
        return len(queries)

    add_attachment(project=project, kind="cv", upload=_file(MINIMAL_PDF, "a.pdf"), by=researcher)
    one = count()
    for index in range(3):
        upload = _file(MINIMAL_PDF, f"cv{index}.pdf")
        add_attachment(project=project, kind="cv", upload=upload, by=researcher)
    assert count() == one


# --- Comparing versions -----------------------------------------------------------------------

OLD_OBJECTIVES = "Décrire l'incidence des bronchiolites en hiver"
NEW_OBJECTIVES = "Décrire l'incidence et la gravité des bronchiolites chaque hiver"


@pytest.fixture
def two_versions(project, researcher, analyst):
    fill_draft(project, researcher)
    purpose = {**VALID_SECTIONS["purpose"], "objectives": OLD_OBJECTIVES}
    save_section(project=project, section_key="purpose", raw=purpose, by=researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    # The commission's transition belongs to another module: simulate it.
    Project.objects.filter(pk=project.pk).update(status=ProjectStatus.CHANGES_REQUESTED)
    project.refresh_from_db()

    purpose = {**VALID_SECTIONS["purpose"], "objectives": NEW_OBJECTIVES}
    save_section(project=project, section_key="purpose", raw=purpose, by=researcher)
    request = {
        **VALID_SECTIONS["data_request"],
        "var__visit.kind": "on",
        "just__visit.kind": "Distinguer visites et consultations.",
        "gen__visit.kind": "exact",
        "access_months": "36",
    }
    save_section(project=project, section_key="data_request", raw=request, by=researcher)
    TeamMembership.objects.filter(project=project, user=analyst).update(role="co_investigator")
    submit_project(project=project, by=researcher)
    return project


def _compare(project, query: str = "") -> str:
    return f"{API}{project.pk}/versions/compare/{query}"


@pytest.mark.usefixtures("english")
def test_two_versions_compared_as_json(two_versions, researcher, analyst):
    project = two_versions
    client = _client(researcher)
    response = client.get(_compare(project, "?old=1&new=2"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["project"] == project.reference
    assert (body["old"]["number"], body["new"]["number"]) == (1, 2)
    assert body["has_changes"] is True
    assert client.get(_compare(project)).json() == body  # the latest and the one before

    sections = {section["key"]: section for section in body["sections"]}
    assert set(sections) == set(VALID_SECTIONS)
    purpose = sections["purpose"]
    assert purpose["has_changes"] is True
    objectives = next(f for f in purpose["fields"] if f["name"] == "objectives")
    assert objectives["status"] == "changed"
    assert objectives["status_label"] == "Changed"
    assert (objectives["old"], objectives["new"]) == (OLD_OBJECTIVES, NEW_OBJECTIVES)
    ops = {segment["op"] for segment in objectives["word_diff"]}
    assert ops == {"equal", "insert", "delete"}
    inserted = [s["text"] for s in objectives["word_diff"] if s["op"] == "insert"]
    assert "et la gravité" in " ".join(inserted)
    assert {s["op"] for s in objectives["old_segments"]} <= {"equal", "delete"}
    assert {s["op"] for s in objectives["new_segments"]} <= {"equal", "insert"}
    unchanged = next(f for f in purpose["fields"] if f["name"] == "public_interest")
    assert unchanged["status"] == "unchanged"
    assert unchanged["word_diff"] == []
    assert unchanged["new_segments"] == [{"op": "equal", "text": unchanged["new"]}]
    assert sections["methodology"]["has_changes"] is False

    request = sections["data_request"]
    variables = {v["code"]: v for v in request["variables"]}
    assert variables["visit.kind"]["status"] == "added"
    assert variables["person.sex"]["status"] == "unchanged"
    months = next(f for f in request["fields"] if f["name"] == "access_months")
    assert (months["old"], months["new"], months["status"]) == ("24", "36", "changed")

    member = next(m for m in body["team"] if m["key"] == str(analyst.pk))
    assert member["status"] == "changed"
    assert member["role"]["old"] == "Analyst"
    assert member["role"]["new"] == "Co-investigator"
    assert all(a["status"] == "unchanged" for a in body["attachments"])
    assert len(body["attachments"]) == 3

    summary = {row["key"]: row for row in body["summary"]}
    assert summary["purpose"]["changed"] == 1
    assert summary["team"]["changed"] == 1
    assert summary["attachments"]["total"] == 0
    substantial = body["substantial_changes"]
    assert any(line.startswith("New variable:") and "visit.kind" in line for line in substantial)
    assert "Access duration (months): 24 → 36" in substantial

    backwards = client.get(_compare(project, "?old=2&new=1")).json()
    reversed_objectives = next(
        f
        for s in backwards["sections"]
        if s["key"] == "purpose"
        for f in s["fields"]
        if f["name"] == "objectives"
    )
    assert reversed_objectives["old"] == NEW_OBJECTIVES


@pytest.mark.usefixtures("english")
def test_the_versions_to_compare_are_checked(two_versions, researcher):
    client = _client(researcher)
    same = client.get(_compare(two_versions, "?old=2&new=2"))
    assert same.status_code == 400
    assert same.json() == {"new": ["Choose two different versions."]}
    unknown = client.get(_compare(two_versions, "?old=7&new=2"))
    assert unknown.status_code == 400
    assert unknown.json() == {"old": ["This project has no version 7."]}
    assert client.get(_compare(two_versions, "?old=x")).status_code == 400
    assert client.get(_compare(two_versions, "?new=1")).json() == {
        "old": ["Choose the version to compare from."]
    }


@pytest.mark.usefixtures("english")
def test_one_version_is_nothing_to_compare(project, researcher):
    fill_draft(project, researcher)
    attach_required(project, researcher)
    submit_project(project=project, by=researcher)
    response = _client(researcher).get(_compare(project, "?old=1&new=2"))
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This project has 1 submitted version: there is nothing to compare yet."
    }


# --- Who may know a project exists ------------------------------------------------------------


def _new_endpoints(project, membership, invitation, attachment) -> list[tuple[str, str]]:
    return [
        ("get", _team(project)),
        ("post", f"{_team(project)}invitations/"),
        ("delete", _invitation(invitation)),
        ("patch", _member(membership)),
        ("delete", _member(membership)),
        ("get", _attachments(project)),
        ("post", _attachments(project)),
        ("get", _attachment(attachment)),
        ("delete", _attachment(attachment)),
        ("get", f"{_attachment(attachment)}download/"),
        ("get", _compare(project, "?old=1&new=2")),
    ]


@pytest.fixture
def endpoints(project, co_investigator, invitation, attachment):
    membership = project.memberships.get(user=co_investigator)
    return _new_endpoints(project, membership, invitation, attachment)


def _call(client, method: str, url: str):
    data = {"email": "x@u.example", "role": "analyst"} if method in ("post", "patch") else None
    return getattr(client, method)(url, data, format="json")


def test_strangers_get_404_on_every_new_endpoint(project, endpoints, make_user):
    stranger = _client(make_user(Role.RESEARCHER))
    for method, url in endpoints:
        response = _call(stranger, method, url)
        assert response.status_code == 404, (method, url, response.status_code)
        # The same answer as for a project that does not exist.
        unknown = url.replace(f"{API}{project.pk}/", f"{API}999999/")
        assert response.json() == _call(stranger, method, unknown).json()
    assert Invitation.objects.get().revoked_at is None
    assert project.memberships.count() == 2
    assert Attachment.objects.get().removed_at is None
    assert not _events("project.attachment_downloaded").exists()


def test_anonymous_and_accounts_without_a_role_are_refused(endpoints, outsider):
    for client in (_client(), _client(outsider)):
        for method, url in endpoints:
            assert _call(client, method, url).status_code in (401, 403), (method, url)
    assert not _events("project.attachment_downloaded").exists()


# --- Schema -----------------------------------------------------------------------------------


def test_the_schema_validates_and_documents_the_new_endpoints(lead, tmp_path):
    from openapi_spec_validator import validate

    response = lead.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    expected = {
        "/api/v1/projects/{id}/team/": {"get"},
        "/api/v1/projects/{id}/team/invitations/": {"post"},
        "/api/v1/projects/{id}/team/invitations/{invitation_id}/": {"delete"},
        "/api/v1/projects/{id}/team/members/{membership_id}/": {"patch", "delete"},
        "/api/v1/projects/{id}/attachments/": {"get", "post"},
        "/api/v1/projects/{id}/attachments/{attachment_id}/": {"get", "delete"},
        "/api/v1/projects/{id}/attachments/{attachment_id}/download/": {"get"},
        "/api/v1/projects/{id}/versions/compare/": {"get"},
    }
    paths = spec["paths"]
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    upload = paths["/api/v1/projects/{id}/attachments/"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
    download = paths["/api/v1/projects/{id}/attachments/{attachment_id}/download/"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
    compare = paths["/api/v1/projects/{id}/versions/compare/"]["get"]
    assert {p["name"] for p in compare["parameters"]} == {"id", "old", "new"}
    schemas = spec["components"]["schemas"]
    assert schemas["SegmentOpEnum"]["enum"] == ["equal", "insert", "delete"]
    assert set(schemas["ChangeStatusEnum"]["enum"]) >= {"added", "removed", "changed"}
    invite = schemas["Invite"]["properties"]
    assert "token" not in json.dumps(schemas["Invitation"])
    assert set(invite) == {"email", "role"}

    # What CI runs: no warning from drf-spectacular either.
    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert not GENERATOR_STATS
