"""``make run``'s demo: the decided project gets its formalities and its public page."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from projects.models import Project, ProjectStatus

pytestmark = pytest.mark.django_db(databases=["default", "warehouse", "vault"])


def test_the_decided_demo_project_is_published_on_the_portal(client):
    call_command("load_demo")
    call_command("load_demo_projects")
    decided = Project.objects.get(status=ProjectStatus.APPROVED)
    call_command("load_demo_oppositions")
    decided.refresh_from_db()
    assert decided.status == ProjectStatus.PUBLISHED
    assert decided.formality_records.count() == 1
    page = client.get(reverse("transparency_project", args=[decided.reference]))
    assert page.status_code == 200
    assert escape(decided.title) in page.content.decode()
    call_command("load_demo_oppositions")  # idempotent: nothing approved is left to publish
    assert decided.formality_records.count() == 1
