"""Attachments: type by content, size limit, safe names, private storage, checked downloads."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from hypothesis import given
from hypothesis import strategies as st

from eds_portal import settings as portal_settings
from eds_portal.models import AuditEvent
from eds_portal.roles import Role
from projects import uploads
from projects.actions import NotEditable, create_project
from projects.attachment_actions import add_attachment, remove_attachment
from projects.models import Attachment, AttachmentKind, Project, ProtocolVersion, TeamMembership
from projects.uploads import (
    DOCX,
    ODT,
    PDF,
    UploadRefused,
    detect_document_type,
    sanitise_filename,
    size_limit_message,
)
from tests.conftest import login
from tests.projects.documents import (
    DOCM_MAIN,
    HTML,
    MINIMAL_PDF,
    PNG,
    make_docx,
    make_odt,
    make_zip,
)

DOCUMENTS = {"pdf": MINIMAL_PDF, "docx": make_docx(), "odt": make_odt()}
TYPES = {"pdf": PDF, "docx": DOCX, "odt": ODT}


def _detect(data: bytes):
    return detect_document_type(io.BytesIO(data), len(data))


# --- Storage: never the repository's var/ --------------------------------------------------


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path) -> Path:
    """Uploads of these tests go to a temporary folder (the signal resets default_storage)."""
    location = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


def test_the_storage_override_reaches_default_storage_and_the_file_field(private_storage):
    assert Path(default_storage.location) == private_storage
    assert Path(Attachment._meta.get_field("file").storage.location) == private_storage


# --- Detection by content -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["pdf", "docx", "odt"])
def test_each_accepted_type_is_recognised(code):
    assert _detect(DOCUMENTS[code]) is TYPES[code]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(HTML, id="html"),
        pytest.param(
            b"MZ\x90\x00\x03" + b"\x00" * 60 + b"This program cannot be run in DOS", id="exe"
        ),
        pytest.param(PNG, id="png"),
        pytest.param(b"just some text, %PDF-1.4 later", id="text-mentioning-pdf"),
        pytest.param(make_zip([("readme.txt", "hello"), ("data.csv", "a,b")]), id="plain-zip"),
        pytest.param(
            make_zip([("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<w/>")]),
            id="xlsx-like",
        ),
        pytest.param(make_odt(mimetype="application/vnd.oasis.opendocument.spreadsheet"), id="ods"),
        pytest.param(
            make_docx(
                main="application/vnd.openxmlformats-officedocument"
                ".wordprocessingml.template.main+xml"
            ),
            id="dotx",
        ),
        pytest.param(b"MZ\x90\x00" + b"\x00" * 60 + make_docx(), id="exe-with-docx-appended"),
        pytest.param(b"%PDF-1.4\n1 0 obj <<>> endobj\n", id="pdf-without-end-marker"),
        pytest.param(make_docx()[:-30], id="truncated-docx"),
    ],
)
def test_other_contents_are_refused(data):
    with pytest.raises(UploadRefused):
        _detect(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            make_docx(main=DOCM_MAIN, extra=(("word/vbaProject.bin", b"\x00" * 10),)), id="docm"
        ),
        pytest.param(make_odt(extra=(("Basic/Standard/Module1.xml", "<m/>"),)), id="odt-basic"),
    ],
)
def test_documents_with_macros_are_refused(data):
    with pytest.raises(UploadRefused, match="macro"):
        _detect(data)


def test_an_empty_file_is_refused():
    with pytest.raises(UploadRefused):
        _detect(b"")


@pytest.mark.usefixtures("english")
def test_zip_bombs_are_refused_before_decompression(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ZIP_UNCOMPRESSED_BYTES", 50_000)
    bomb = make_docx(extra=(("word/media/zeros.bin", b"\x00" * 200_000),))
    assert len(bomb) < 5_000
    with pytest.raises(UploadRefused, match="unreasonable size"):
        _detect(bomb)


@pytest.mark.usefixtures("english")
def test_archives_with_too_many_members_are_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ZIP_MEMBERS", 10)
    crowded = make_docx(extra=tuple((f"word/media/{i}.xml", "<x/>") for i in range(20)))
    with pytest.raises(UploadRefused, match="too many members"):
        _detect(crowded)


@pytest.mark.usefixtures("english")
def test_encrypted_members_are_refused():
    data = bytearray(make_docx())
    # Set the "encrypted" flag of every member in the central directory.
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        data[position + 8] |= 0x1
        position = data.find(b"PK\x01\x02", position + 4)
    with pytest.raises(UploadRefused, match=r"Encrypted|password"):
        _detect(bytes(data))


@pytest.mark.usefixtures("english")
def test_the_size_limit_comes_from_the_setting(settings):
    settings.EDS_MAX_UPLOAD_BYTES = len(MINIMAL_PDF) - 1
    with pytest.raises(UploadRefused, match="larger than the limit"):
        _detect(MINIMAL_PDF)


# --- File names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "document_type", "expected"),
    [
        ("../../etc/passwd.pdf", PDF, "passwd.pdf"),
        ("..\\x.pdf", PDF, "x.pdf"),
        ("C:\\Users\\claire\\Protocole final.docx", DOCX, "Protocole_final.docx"),
        ("..\uff0f..\uff0fsecret.pdf", PDF, "secret.pdf"),  # fullwidth solidus
        ("/etc/passwd", PDF, "passwd.pdf"),
        (".htaccess", PDF, "htaccess.pdf"),
        ("....", PDF, "document.pdf"),
        ("", ODT, "document.odt"),
        ("..", PDF, "document.pdf"),
        ("rapport\x00\x1b[31m.pdf", PDF, "rapport_31m.pdf"),
        ("Note d'information \u2013 été 2026.odt", ODT, "Note_d_information_été_2026.odt"),
        ("e\u0301te\u0301.pdf", PDF, "été.pdf"),  # decomposed accents
        ("notes.odt", DOCX, "notes.docx"),  # a DOCX renamed .odt keeps its real extension
        ("facture.pdf.exe", PDF, "facture.pdf.pdf"),
        ("Protocole v2.0", PDF, "Protocole_v2.0.pdf"),
        ("<b onclick=alert(1)>.pdf", PDF, "b_onclick_alert_1.pdf"),
        ("<script>x</script>.pdf", PDF, "script.pdf"),  # "/" is a folder separator
        ("CON.pdf", PDF, "CON_.pdf"),
        ("CV\u202eFDP.exe", PDF, "CVFDP.pdf"),  # right-to-left override removed
    ],
)
def test_names_are_sanitised(name, document_type, expected):
    assert sanitise_filename(name, document_type) == expected


def test_long_names_are_shortened_and_keep_their_extension():
    name = sanitise_filename("é" * 500 + ".pdf", PDF)
    assert name.endswith(".pdf")
    assert len(name) <= uploads.MAX_NAME_CHARACTERS
    assert len(name.encode("utf-8")) <= uploads.MAX_NAME_BYTES


@given(st.text(max_size=300))
def test_any_name_becomes_a_harmless_one(name):
    result = sanitise_filename(name, ODT)
    assert result.endswith(".odt")
    assert not result.startswith((".", "-", "_"))
    assert "/" not in result
    assert "\\" not in result
    assert ".." not in result
    assert all(ch.isalnum() or ch in "._-" for ch in result)
    assert 0 < len(result) <= uploads.MAX_NAME_CHARACTERS


# --- Actions ------------------------------------------------------------------------------


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites à domicile")


@pytest.fixture
def other_researcher(make_user):
    return make_user(Role.RESEARCHER, full_name="Olga Other")


def _upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _stored_path(attachment: Attachment) -> Path:
    return Path(default_storage.path(attachment.file.name)).resolve()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["pdf", "docx", "odt"])
def test_add_attachment_stores_the_file_privately_and_audits_without_the_name(
    project, researcher, private_storage, settings, code
):
    data = DOCUMENTS[code]
    attachment = add_attachment(
        project=project,
        kind=AttachmentKind.PROTOCOL,
        upload=_upload(data, f"Protocole Dupont.{code}"),
        by=researcher,
    )
    attachment.refresh_from_db()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size == len(data)
    assert attachment.content_type == TYPES[code].content_type
    assert attachment.original_name == f"Protocole_Dupont.{code}"
    assert attachment.uploaded_by == researcher
    path = _stored_path(attachment)
    assert path.is_relative_to(private_storage.resolve())
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o777 == 0o640
    event = AuditEvent.objects.get(action="project.attachment_added")
    assert event.actor == researcher
    assert event.target_id == str(project.pk)
    assert event.after["kind"] == "protocol"
    assert event.after["size"] == len(data)
    assert event.after["sha256"] == attachment.sha256
    assert "Dupont" not in json.dumps(event.after)


@pytest.mark.django_db
def test_path_tricks_end_as_harmless_names_inside_the_project_folder(
    project, researcher, private_storage
):
    for trick in ("../../etc/passwd.pdf", "..\\..\\x.pdf", "/srv/../../evil.pdf"):
        attachment = add_attachment(
            project=project,
            kind=AttachmentKind.CV,
            upload=_upload(MINIMAL_PDF, trick),
            by=researcher,
        )
        path = _stored_path(attachment)
        assert path.is_relative_to(private_storage.resolve() / "projects" / str(project.pk))
        assert "/" not in attachment.original_name
        assert "\\" not in attachment.original_name
        assert not attachment.original_name.startswith(".")
    assert not (private_storage.parent / "etc").exists()


@pytest.mark.django_db
def test_refused_files_leave_nothing_behind(project, researcher, private_storage):
    with pytest.raises(UploadRefused):
        add_attachment(
            project=project,
            kind=AttachmentKind.PROTOCOL,
            upload=_upload(HTML, "protocole.pdf"),
            by=researcher,
        )
    assert not Attachment.objects.exists()
    assert not AuditEvent.objects.filter(action="project.attachment_added").exists()
    assert not private_storage.exists() or not any(private_storage.rglob("*.*"))


@pytest.mark.django_db
@pytest.mark.usefixtures("english")
def test_add_attachment_refuses_oversized_files(project, researcher, settings):
    settings.EDS_MAX_UPLOAD_BYTES = 100
    with pytest.raises(UploadRefused, match="larger than the limit"):
        add_attachment(
            project=project,
            kind=AttachmentKind.PROTOCOL,
            upload=_upload(MINIMAL_PDF + b"\n" * 200, "p.pdf"),
            by=researcher,
        )
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_actions_refuse_a_project_that_is_no_longer_editable(project, researcher):
    attachment = add_attachment(
        project=project,
        kind=AttachmentKind.PROTOCOL,
        upload=_upload(MINIMAL_PDF, "p.pdf"),
        by=researcher,
    )
    Project.objects.filter(pk=project.pk).update(status="submitted")
    with pytest.raises(NotEditable):
        add_attachment(
            project=project,
            kind=AttachmentKind.PROTOCOL,
            upload=_upload(MINIMAL_PDF, "p.pdf"),
            by=researcher,
        )
    with pytest.raises(NotEditable):
        remove_attachment(attachment=attachment, by=researcher)
    assert Attachment.objects.get().removed_at is None


def test_the_real_storage_is_outside_anything_served():
    location = Path(portal_settings.STORAGES["default"]["OPTIONS"]["location"]).resolve()
    served = [Path(portal_settings.STATIC_ROOT), *map(Path, portal_settings.STATICFILES_DIRS)]
    for folder in served:
        assert not location.is_relative_to(folder.resolve())
        assert not folder.resolve().is_relative_to(location)
    assert not hasattr(portal_settings, "MEDIA_ROOT") or not portal_settings.MEDIA_ROOT


# --- Pages --------------------------------------------------------------------------------


def _list_url(project: Project) -> str:
    return f"/projects/{project.pk}/attachments/"


def _download_url(attachment: Attachment) -> str:
    return f"/projects/{attachment.project_id}/attachments/{attachment.pk}/download/"


def _post_file(client, project, data: bytes, name: str, kind: str = "protocol"):
    return client.post(
        _list_url(project),
        {
            "action": "upload",
            "kind": kind,
            "file": _upload(data, name),
        },
    )


def _content(response) -> bytes:
    """Reads a streamed download; the test client closes it (and the file) at the end."""
    return b"".join(response.streaming_content)


def _raw_multipart(client, project, data: bytes, filename: str):
    """A request built by hand: the test client would strip folders from the name itself."""
    boundary = "----eds-test-boundary"

    def part(disposition: str, value: bytes, headers: str = "") -> bytes:
        head = f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n{headers}\r\n"
        return head.encode() + value + b"\r\n"

    body = b"".join(
        [
            part('name="action"', b"upload"),
            part('name="kind"', b"protocol"),
            part(f'name="file"; filename="{filename}"', data, "Content-Type: application/pdf\r\n"),
            f"--{boundary}--\r\n".encode(),
        ]
    )
    return client.post(
        _list_url(project), data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["pdf", "docx", "odt"])
def test_the_lead_uploads_each_accepted_type(client, project, researcher, code):
    login(client, researcher)
    response = _post_file(client, project, DOCUMENTS[code], f"protocole.{code}")
    assert response.status_code == 302
    assert response.url == _list_url(project)
    attachment = Attachment.objects.get()
    assert attachment.content_type == TYPES[code].content_type
    page = client.get(_list_url(project)).content.decode()
    assert "protocole." + code in page
    assert _download_url(attachment) in page


@pytest.mark.django_db
def test_a_docx_named_odt_is_accepted_and_the_detected_type_is_said(client, project, researcher):
    login(client, researcher)
    response = _post_file(client, project, make_docx(), "note.odt", kind="information_note")
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.content_type == DOCX.content_type
    assert attachment.original_name == "note.docx"
    page = client.get(_list_url(project)).content.decode()
    assert "DOCX" in page
    assert "note.docx" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(HTML, "protocole.pdf", id="html-as-pdf"),
        pytest.param(make_zip([("a.txt", "x")]), "protocole.docx", id="zip-as-docx"),
        pytest.param(make_zip([("a.txt", "x")]), "protocole.odt", id="zip-as-odt"),
        pytest.param(PNG, "protocole.docx", id="png-as-docx"),
        pytest.param(b"MZ\x90\x00" + b"\x00" * 100, "protocole.pdf", id="exe-as-pdf"),
    ],
)
def test_disguised_files_are_refused_with_the_error_next_to_the_field(
    client, project, researcher, private_storage, data, name
):
    login(client, researcher)
    response = _post_file(client, project, data, name)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_file_error"' in page
    assert 'aria-invalid="true"' in page
    assert not Attachment.objects.exists()
    assert not private_storage.exists() or not any(private_storage.rglob("*.*"))


@pytest.mark.django_db
def test_oversized_uploads_are_dropped_while_they_arrive(client, project, researcher, settings):
    settings.EDS_MAX_UPLOAD_BYTES = 1000
    login(client, researcher)
    big = MINIMAL_PDF[:-6] + b"%" * 5000 + b"\n%%EOF\n"
    response = _post_file(client, project, big, "gros.pdf")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_file_error"' in page
    assert escape(size_limit_message()) in page
    assert not Attachment.objects.exists()
    # A file within the limit still goes through.
    assert _post_file(client, project, MINIMAL_PDF, "petit.pdf").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\x.pdf", "x.pdf"),
        ("/etc/../.hidden.pdf", "hidden.pdf"),
        (".bashrc", "bashrc.pdf"),
    ],
)
def test_path_tricks_in_the_request_end_as_harmless_names(
    client, project, researcher, private_storage, filename, expected
):
    login(client, researcher)
    response = _raw_multipart(client, project, MINIMAL_PDF, filename)
    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = Attachment.objects.get()
    assert attachment.original_name == expected
    assert _stored_path(attachment).is_relative_to(private_storage.resolve())


@pytest.mark.django_db
def test_the_page_lists_by_kind_and_works_without_javascript(client, project, researcher):
    add_attachment(
        project=project,
        kind=AttachmentKind.CV,
        upload=_upload(MINIMAL_PDF, "cv-dupont.pdf"),
        by=researcher,
    )
    login(client, researcher)
    response = client.get(_list_url(project))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'name="kind"' in page
    assert 'type="file"' in page
    assert 'for="id_file"' in page
    assert "<main" in page
    assert "cv-dupont.pdf" in page
    assert researcher.full_name in page
    assert 'name="action" value="remove"' in page
    assert "style=" not in page
    assert "<script>" not in page


@pytest.mark.django_db
def test_the_list_page_query_count_does_not_grow_with_the_files(client, project, researcher):
    login(client, researcher)
    add_attachment(
        project=project,
        kind=AttachmentKind.CV,
        upload=_upload(MINIMAL_PDF, "cv.pdf"),
        by=researcher,
    )
    with CaptureQueriesContext(connection) as one:
        assert client.get(_list_url(project)).status_code == 200
    for kind in (AttachmentKind.PROTOCOL, AttachmentKind.INFORMATION_NOTE, AttachmentKind.CV):
        add_attachment(
            project=project, kind=kind, upload=_upload(make_odt(), "x.odt"), by=researcher
        )
    with CaptureQueriesContext(connection) as four:
        assert client.get(_list_url(project)).status_code == 200
    assert len(four) == len(one)
    # Session, user, roles, project, team, attachments, then the session saved again.
    assert len(one) == 9


@pytest.fixture
def attachment(project, researcher):
    return add_attachment(
        project=project,
        kind=AttachmentKind.PROTOCOL,
        upload=_upload(MINIMAL_PDF, "Protocole été.pdf"),
        by=researcher,
    )


@pytest.mark.django_db
def test_the_lead_downloads_and_the_download_is_audited(client, attachment, researcher):
    login(client, researcher)
    response = client.get(_download_url(attachment))
    assert response.status_code == 200
    assert _content(response) == MINIMAL_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "Protocole_%C3%A9t%C3%A9.pdf" in disposition  # RFC 5987, the sanitised name
    assert "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="project.attachment_downloaded")
    assert event.actor == researcher
    assert event.after["attachment"] == attachment.pk
    assert "Protocole" not in json.dumps(event.after)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["docx", "odt"])
def test_downloads_carry_the_detected_content_type(client, project, researcher, code):
    attachment = add_attachment(
        project=project,
        kind=AttachmentKind.CV,
        upload=_upload(DOCUMENTS[code], "cv.pdf"),
        by=researcher,
    )
    login(client, researcher)
    response = client.get(_download_url(attachment))
    assert response["Content-Type"] == TYPES[code].content_type
    assert f'filename="cv.{code}"' in response["Content-Disposition"]
    assert _content(response) == DOCUMENTS[code]


@pytest.mark.django_db
def test_a_researcher_outside_the_team_gets_404(client, attachment, other_researcher):
    login(client, other_researcher)
    assert client.get(_download_url(attachment)).status_code == 404
    assert client.get(_list_url(attachment.project)).status_code == 404
    assert _post_file(client, attachment.project, MINIMAL_PDF, "x.pdf").status_code == 404
    assert not AuditEvent.objects.filter(action="project.attachment_downloaded").exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login_page(client, attachment):
    for url in (_download_url(attachment), _list_url(attachment.project)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_secretariat_downloads_but_does_not_upload(client, attachment, secretariat):
    login(client, secretariat)
    response = client.get(_download_url(attachment))
    assert response.status_code == 200
    assert _content(response) == MINIMAL_PDF
    page = client.get(_list_url(attachment.project)).content.decode()
    assert _download_url(attachment) in page
    assert 'type="file"' not in page
    assert _post_file(client, attachment.project, MINIMAL_PDF, "x.pdf").status_code == 403


@pytest.mark.django_db
def test_an_attachment_of_another_project_is_404(client, attachment, researcher):
    other = create_project(by=researcher, title="Autre projet")
    login(client, researcher)
    url = f"/projects/{other.pk}/attachments/{attachment.pk}/download/"
    assert client.get(url).status_code == 404
    missing = f"/projects/{attachment.project_id}/attachments/999999/download/"
    assert client.get(missing).status_code == 404


@pytest.mark.django_db
def test_upload_and_removal_are_refused_once_the_project_is_not_editable(
    client, project, attachment, researcher
):
    Project.objects.filter(pk=project.pk).update(status="submitted")
    login(client, researcher)
    assert _post_file(client, project, MINIMAL_PDF, "x.pdf").status_code == 403
    response = client.post(_list_url(project), {"action": "remove", "attachment": attachment.pk})
    assert response.status_code == 403
    assert Attachment.objects.filter(removed_at__isnull=True).count() == 1
    page = client.get(_list_url(project)).content.decode()
    assert 'type="file"' not in page


@pytest.mark.django_db
def test_an_analyst_of_the_team_sees_but_does_not_edit(client, project, attachment, make_user):
    analyst = make_user(Role.RESEARCHER, full_name="Ana Analyst")
    TeamMembership.objects.create(project=project, user=analyst, role="analyst")
    login(client, analyst)
    response = client.get(_download_url(attachment))
    assert response.status_code == 200
    assert _content(response) == MINIMAL_PDF
    assert _post_file(client, project, MINIMAL_PDF, "x.pdf").status_code == 403


@pytest.mark.django_db
def test_removal_keeps_the_file_for_the_version_it_was_submitted_with(
    client, project, attachment, researcher, private_storage
):
    version = ProtocolVersion.objects.create(
        project=project, number=1, content={}, submitted_at=timezone.now(), submitted_by=researcher
    )
    version.attachments.add(attachment)
    login(client, researcher)
    response = client.post(_list_url(project), {"action": "remove", "attachment": attachment.pk})
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.removed_at is not None
    assert _stored_path(attachment).exists()
    event = AuditEvent.objects.get(action="project.attachment_removed")
    assert event.after["kept_by_versions"] == [1]
    assert "Protocole" not in json.dumps([event.before, event.after])
    page = client.get(_list_url(project)).content.decode()
    assert "removed from the draft" in page or "retiré" in page
    assert _download_url(attachment) not in page
    response = client.get(_download_url(attachment))
    assert response.status_code == 200
    assert _content(response) == MINIMAL_PDF
    assert list(version.attachments.all()) == [attachment]


@pytest.mark.django_db
def test_a_removed_attachment_of_no_version_is_gone(client, attachment, researcher):
    remove_attachment(attachment=attachment, by=researcher)
    login(client, researcher)
    assert client.get(_download_url(attachment)).status_code == 404
    response = client.post(
        _list_url(attachment.project), {"action": "remove", "attachment": attachment.pk}
    )
    assert response.status_code == 404
