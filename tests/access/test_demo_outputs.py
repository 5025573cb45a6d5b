"""``make run``'s demo of issue 12: the "Done when" walk, in-process, with the demo's accounts
and its sample tables (docs/demo/): the researcher asks for the release of a table holding a
cell of 4, the checks flag it, she uploads the corrected table, the two demo output checkers
approve it, it is released and listed on the project's public page; then the project is closed
and its dataset destroyed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from access.models_outputs import OutputItemStatus, ReviewVerdict
from access.models_provisioning import DestructionCertificate, RunStatus
from access.outputs import actions
from access.outputs.closeout import submit_closing_report
from access.provisioning import delivery, runs
from eds_portal.authz import Permission, has_permission
from eds_portal.demo import DEMO_ACCOUNTS
from eds_portal.models import User
from eds_portal.roles import Role
from projects import workflow
from projects.models import Project, ProjectStatus
from tests.access.provisioning_helpers import DBS

pytestmark = [
    pytest.mark.django_db(databases=DBS),
    pytest.mark.usefixtures("warehouse_rows", "english_client"),
]

DEMO = Path(django_settings.BASE_DIR) / "docs" / "demo"


def demo_user(role: Role) -> User:
    return User.objects.get(email=next(a.email for a in DEMO_ACCOUNTS if role in a.roles))


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DEMO / name).read_bytes(), content_type="text/csv")


def test_the_demo_has_two_output_checkers_with_a_second_factor():
    call_command("load_demo")
    checkers = User.objects.filter(groups__name=Role.OUTPUT_CHECKER.value)
    assert {c.email for c in checkers} == {"controle@demo.eds", "verification@demo.eds"}
    for checker in checkers:
        assert checker.totpdevice_set.filter(confirmed=True).count() == 1


def test_the_done_when_walk_of_issue_12(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.EDS_DATASETS_DIR = tmp_path / "datasets"
    settings.EDS_INFORMATION_WINDOW_DAYS = 0  # as `make run` does
    call_command("load_demo")
    call_command("load_demo_projects")
    call_command("load_demo_oppositions")
    project = Project.objects.get(status=ProjectStatus.PUBLISHED)
    researcher = demo_user(Role.RESEARCHER)
    steward = demo_user(Role.DATA_STEWARD)
    secretariat = demo_user(Role.SECRETARIAT)
    first, second = User.objects.filter(groups__name=Role.OUTPUT_CHECKER.value).order_by("pk")

    # The data steward provisions the published project: it becomes active.
    settings.EDS_SMALL_CELL_THRESHOLD = 1  # the tiny test warehouse has small classes
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(project=project, by=steward)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED, run.reasons
    project.refresh_from_db()
    assert project.status == ProjectStatus.ACTIVE
    settings.EDS_SMALL_CELL_THRESHOLD = 11

    # The table with a cell of 4 is flagged; the corrected one passes and goes to the checkers.
    request = actions.create_output_request(project=project, title="Article", by=researcher)
    item = actions.add_output_item(
        request=request,
        upload=upload("gastro-enterites-par-age.csv"),
        by=researcher,
        kind="table",
        title="Gastro-entérites par âge et sexe",
        description="Enfants vus par SOS Médecins, par tranche d'âge et sexe.",
        cell_unit="persons",
        variables_crossed="tranche d'âge, sexe",
    )
    flagged = item.current_version.findings
    assert [(f["rule"], f["row"], f["value"]) for f in flagged] == [
        ("small_cell", "moins d'un an", "4")
    ]
    with pytest.raises(actions.OutputRefused):
        actions.submit_output_request(request=request, by=researcher)
    fixed = actions.add_output_version(
        item=item, upload=upload("gastro-enterites-par-age-corrige.csv"), by=researcher
    )
    assert fixed.findings == []
    actions.submit_output_request(request=request, by=researcher)

    # The two demo checkers may check it (neither on the team nor conflicted) and approve.
    item.refresh_from_db()
    for checker in (first, second):
        assert has_permission(checker, Permission.CHECK_OUTPUTS, item)
        actions.review_output(item=item, verdict=ReviewVerdict.APPROVE, comment="", by=checker)
    item.refresh_from_db()
    assert item.status == OutputItemStatus.RELEASED
    actions.list_output_publicly(item=item, publication_reference="", by=researcher)
    from django.test import Client

    public = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = reverse("transparency_project", args=[project.reference])
    assert "Gastro-entérites par âge et sexe" in public.get(url).content.decode()

    # The final report, then the secretariat closes: the dataset is destroyed.
    submit_closing_report(
        project=project,
        results_summary="Les gastro-entérites culminent en décembre.",
        publications="",
        no_results_reason="Rapport interne seulement.",
        copies_destroyed=True,
        by=researcher,
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.fire(project, "close", by=secretariat)
    assert DestructionCertificate.objects.get(run=run).reason == delivery.REASON_PROJECT_CLOSED
    page = public.get(url).content.decode()
    assert "Completed" in page
    assert "Les gastro-entérites culminent en décembre." in page
