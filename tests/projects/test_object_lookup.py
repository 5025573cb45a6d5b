"""``get_object_for_user``: one lookup with access; strangers learn nothing (issue 18)."""

from __future__ import annotations

import pytest
from django.http import Http404
from rest_framework.test import APIClient

from eds_portal.authz import Permission, get_object_for_user
from eds_portal.roles import Role
from projects.actions import create_project
from projects.models import Project
from tests.conftest import login


@pytest.fixture
def project(researcher):
    return create_project(by=researcher, title="Bronchiolites")


def test_a_missing_object_is_404(researcher, project):
    with pytest.raises(Http404):
        get_object_for_user(researcher, Project, project.pk + 1000, Permission.VIEW_PROJECT)


def test_an_object_the_user_may_not_see_is_404_as_if_missing(make_user, project):
    stranger = make_user(Role.RESEARCHER)
    with pytest.raises(Http404):
        get_object_for_user(stranger, Project, project.pk, Permission.VIEW_PROJECT)


def test_without_the_role_it_is_404_too(outsider, project):
    with pytest.raises(Http404):
        get_object_for_user(outsider, Project, project.pk, Permission.VIEW_PROJECT)


def test_the_allowed_user_gets_the_object(researcher, project):
    assert get_object_for_user(researcher, Project, project.pk, Permission.VIEW_PROJECT) == project


def test_a_queryset_keeps_its_filters_and_select_related(
    researcher, project, django_assert_num_queries
):
    found = get_object_for_user(
        researcher, Project.objects.select_related("draft"), project.pk, Permission.VIEW_PROJECT
    )
    with django_assert_num_queries(0):
        assert found.draft.project_id == project.pk
    with pytest.raises(Http404):
        get_object_for_user(
            researcher,
            Project.objects.exclude(pk=project.pk),
            project.pk,
            Permission.VIEW_PROJECT,
        )


def test_the_api_answers_404_for_a_stranger_and_for_a_missing_project(make_user, project):
    client = login(APIClient(), make_user(Role.RESEARCHER))
    hidden = client.get(f"/api/v1/projects/{project.pk}/")
    missing = client.get(f"/api/v1/projects/{project.pk + 1000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
