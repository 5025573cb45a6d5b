"""Roles are groups with descriptions; the facade decides from roles, objects and guardian."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from eds_portal import authz
from eds_portal.actions import grant_role, revoke_role
from eds_portal.authz import Permission, has_permission, register_object_rule
from eds_portal.models import AuditEvent
from eds_portal.roles import ROLE_DESCRIPTIONS, STAFF_ROLES, Role

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group_with_a_description():
    names = set(Group.objects.values_list("name", flat=True))
    assert {role.value for role in Role} <= names
    for role in Role:
        assert len(str(ROLE_DESCRIPTIONS[role])) > 40


def test_staff_roles_are_every_role_but_the_researchers():
    assert set(Role) - STAFF_ROLES == {Role.RESEARCHER}


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("dpo", True),
        ("auditor", True),
        ("researcher", False),
        ("secretariat", False),
        ("commission_member", False),
        ("patient_representative", False),
        ("chair", False),
        ("identity_officer", False),
        ("data_steward", False),
        ("outsider", False),
    ],
    indirect=["persona"],
)
def test_audit_trail_permission_by_role(persona, allowed):
    assert has_permission(persona, Permission.VIEW_AUDIT_TRAIL) is allowed
    assert has_permission(persona, Permission.EXPORT_AUDIT_TRAIL) is allowed


def test_anonymous_and_none_get_nothing():
    from django.contrib.auth.models import AnonymousUser

    for permission in Permission:
        assert not has_permission(AnonymousUser(), permission)
        assert not has_permission(None, permission)


def test_an_inactive_account_loses_its_roles(dpo):
    dpo.is_active = False
    dpo.save()
    assert not has_permission(dpo, Permission.VIEW_AUDIT_TRAIL)


def test_superuser_gets_nothing_for_free(make_user):
    admin = make_user(is_superuser=True, is_staff=True)
    assert not has_permission(admin, Permission.VIEW_AUDIT_TRAIL)
    assert admin.requires_two_factor


def test_grant_and_revoke_role_are_audited_and_idempotent(outsider, dpo):
    details = {"validated_by": "Marie Manager", "valid_until": date.today() + timedelta(days=9)}
    assert grant_role(user=outsider, role=Role.AUDITOR, by=dpo, **details)
    assert not grant_role(user=outsider, role=Role.AUDITOR, by=dpo, **details)
    assert not grant_role(user=outsider, role=Role.AUDITOR, by=dpo)
    assert has_permission(outsider, Permission.VIEW_AUDIT_TRAIL)
    events = AuditEvent.objects.filter(action="role.granted", target_id=str(outsider.pk))
    assert events.count() == 1
    assert events.get().actor == dpo
    assert revoke_role(user=outsider, role=Role.AUDITOR, by=dpo)
    assert not revoke_role(user=outsider, role=Role.AUDITOR, by=dpo)
    assert not has_permission(outsider, Permission.VIEW_AUDIT_TRAIL)
    assert AuditEvent.objects.filter(action="role.revoked").count() == 1


def test_roles_are_read_once_per_user_instance(dpo, django_assert_num_queries):
    dpo.forget_roles()
    with django_assert_num_queries(1):
        for _ in range(5):
            has_permission(dpo, Permission.VIEW_AUDIT_TRAIL)


@pytest.fixture
def group_rule():
    """An object rule on Group, standing in for the models of the other apps."""
    key = (Permission.VIEW_AUDIT_TRAIL, Group)
    register_object_rule(
        Permission.VIEW_AUDIT_TRAIL,
        Group,
        roles_on_all=frozenset({Role.AUDITOR}),
        predicate=lambda user, group: group.name == f"team-{user.pk}",
        guardian_codename="auth.view_group",
    )
    yield
    del authz._registry.rules[key]


def test_object_rule_role_on_all_objects(group_rule, auditor, dpo):
    group = Group.objects.create(name="some-project")
    assert has_permission(auditor, Permission.VIEW_AUDIT_TRAIL, group)
    # The DPO's role-wide grant does not extend to objects with their own rule.
    assert not has_permission(dpo, Permission.VIEW_AUDIT_TRAIL, group)


def test_object_rule_predicate(group_rule, dpo):
    mine = Group.objects.create(name=f"team-{dpo.pk}")
    other = Group.objects.create(name="team-someone-else")
    assert has_permission(dpo, Permission.VIEW_AUDIT_TRAIL, mine)
    assert not has_permission(dpo, Permission.VIEW_AUDIT_TRAIL, other)


def test_object_rule_guardian_grant_on_one_object(group_rule, dpo):
    granted = Group.objects.create(name="granted")
    other = Group.objects.create(name="not-granted")
    assign_perm("auth.view_group", dpo, granted)
    assert has_permission(dpo, Permission.VIEW_AUDIT_TRAIL, granted)
    assert not has_permission(dpo, Permission.VIEW_AUDIT_TRAIL, other)


def test_an_object_rule_never_grants_without_the_role(group_rule, researcher, outsider):
    """Revoking a role ends access to every object, whatever the rules and grants say."""
    mine = Group.objects.create(name=f"team-{researcher.pk}")
    assign_perm("auth.view_group", outsider, mine)
    assert not has_permission(researcher, Permission.VIEW_AUDIT_TRAIL, mine)
    assert not has_permission(outsider, Permission.VIEW_AUDIT_TRAIL, mine)


@pytest.fixture
def group_object_grant():
    """A per-object grant standing for the role on one Group (as external experts' grants)."""
    key = (Permission.VIEW_AUDIT_TRAIL, Group)
    authz.register_object_grant(
        Permission.VIEW_AUDIT_TRAIL,
        Group,
        codename="auth.change_group",
        condition=lambda user, group: not group.name.startswith("closed"),
    )
    yield
    del authz._registry.rules[key]


def test_an_object_grant_stands_for_the_role_on_its_one_object(
    group_object_grant, outsider, researcher, dpo
):
    granted = Group.objects.create(name="granted")
    closed = Group.objects.create(name="closed-file")
    other = Group.objects.create(name="other")
    assign_perm("auth.change_group", outsider, granted)
    assign_perm("auth.change_group", outsider, closed)
    assert has_permission(outsider, Permission.VIEW_AUDIT_TRAIL, granted)
    # On no other object, not without the object, and not when the condition fails.
    assert not has_permission(outsider, Permission.VIEW_AUDIT_TRAIL, other)
    assert not has_permission(outsider, Permission.VIEW_AUDIT_TRAIL)
    assert not has_permission(outsider, Permission.VIEW_AUDIT_TRAIL, closed)
    # Another account does not benefit from it; the role holders keep their role-wide grant.
    assert not has_permission(researcher, Permission.VIEW_AUDIT_TRAIL, granted)
    assert has_permission(dpo, Permission.VIEW_AUDIT_TRAIL, other)
    # A disabled account loses it.
    outsider.is_active = False
    assert not has_permission(outsider, Permission.VIEW_AUDIT_TRAIL, granted)
