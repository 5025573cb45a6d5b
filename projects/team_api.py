"""A project's team over the API: members and their roles, invitations.

The same team rules as the team page (team_views.py); accepting an invitation stays in the
browser (it needs the e-mailed link).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from eds_portal.api.schema import StrictInput
from eds_portal.authz import Permission, has_permission
from projects.api import (
    NOT_FOUND,
    PK,
    DetailSerializer,
    NamedChoiceField,
    TeamMemberSerializer,
    _object_id,
    _project_or_404,
)
from projects.models import Invitation, TeamMembership, TeamRole
from projects.team_actions import (
    TeamError,
    change_member_role,
    invite_member,
    remove_member,
    revoke_invitation,
    team_changes_allowed,
)

INVITABLE_ROLE_CHOICES = [
    (TeamRole.CO_INVESTIGATOR.value, TeamRole.CO_INVESTIGATOR.label),
    (TeamRole.ANALYST.value, TeamRole.ANALYST.label),
]
ROLE_HELP = "A co-investigator edits the draft; an analyst only receives the data."


def _invitable_role(**kwargs) -> NamedChoiceField:
    return NamedChoiceField(
        INVITABLE_ROLE_CHOICES, enum_name="InvitableRoleEnum", help_text=ROLE_HELP, **kwargs
    )


class TeamMembershipSerializer(TeamMemberSerializer):
    id = serializers.IntegerField(help_text="The membership's id (not the user's).")
    added_at = serializers.DateTimeField()
    url = serializers.URLField(help_text="PATCH its role or DELETE it here (the lead only).")


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=TeamRole.choices)
    role_label = serializers.CharField()
    invited_by = serializers.CharField(help_text="Full name of who sent it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    expired = serializers.BooleanField(
        help_text="The link no longer works: revoke the invitation and send a new one."
    )
    url = serializers.URLField(help_text="DELETE it here to revoke it.")


class TeamSerializer(serializers.Serializer):
    can_manage = serializers.BooleanField(
        help_text="Whether the caller may invite, change roles and remove members (the lead)."
    )
    team_open = serializers.BooleanField(
        help_text="False once the project is withdrawn or closed: its team no longer changes."
    )
    members = TeamMembershipSerializer(many=True, help_text="The lead first, then by role.")
    invitations = InvitationSerializer(
        many=True,
        allow_null=True,
        help_text=(
            "Invitations neither accepted nor revoked, expired ones included; null for those "
            "who may not manage the team."
        ),
    )


class InviteSerializer(StrictInput):
    email = serializers.EmailField(
        max_length=254, help_text="The invited person signs in with this address to accept."
    )
    role = _invitable_role()


class MemberRoleSerializer(StrictInput):
    role = _invitable_role()


_ROLE_ORDER = {TeamRole.LEAD: 0, TeamRole.CO_INVESTIGATOR: 1, TeamRole.ANALYST: 2}


def _membership(request, membership: TeamMembership) -> dict[str, Any]:
    user = membership.user
    return {
        "id": membership.pk,
        "user_id": membership.user_id,
        "full_name": user.full_name,
        "email": user.email,
        "role": membership.role,
        "role_label": str(TeamRole(membership.role).label),
        "added_at": membership.added_at,
        "url": reverse(
            "api_project_team_member",
            args=[membership.project_id, membership.pk],
            request=request,
        ),
    }


def _invitation(request, invitation: Invitation, now) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "role_label": str(TeamRole(invitation.role).label),
        "invited_by": invitation.invited_by.full_name,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "expired": invitation.expires_at <= now,
        "url": reverse(
            "api_project_team_invitation",
            args=[invitation.project_id, invitation.pk],
            request=request,
        ),
    }


def _team_refused(refusal: TeamError) -> Response:
    return Response(DetailSerializer({"detail": refusal.message}).data, status.HTTP_409_CONFLICT)


INVITATION_ID = OpenApiParameter(
    "invitation_id", int, OpenApiParameter.PATH, description="The invitation's id."
)
MEMBERSHIP_ID = OpenApiParameter(
    "membership_id",
    int,
    OpenApiParameter.PATH,
    description="The membership's id (`id` in the team's `members`).",
)
TEAM_REFUSALS = {
    403: DetailSerializer,
    409: OpenApiResponse(
        DetailSerializer,
        description="Refused by the team rules (the message says why): already a member, a "
        "pending invitation, the lead, a withdrawn or closed project...",
    ),
    **NOT_FOUND,
}


class TeamDetail(APIView):
    """A project's team; its lead manages it through the endpoints below this one."""

    required_permission = Permission.VIEW_PROJECT

    @extend_schema(
        summary="The team: members with their role, and pending invitations for the lead",
        parameters=[PK],
        responses={200: TeamSerializer, **NOT_FOUND},
    )
    def get(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.VIEW_PROJECT)
        can_manage = has_permission(request.user, Permission.MANAGE_TEAM, project)
        members = sorted(
            project.memberships.select_related("user"),
            key=lambda m: (_ROLE_ORDER.get(m.role, 9), m.user.full_name.lower(), m.pk),
        )
        invitations = None
        if can_manage:
            now = timezone.now()
            pending = (
                project.invitations.filter(accepted_at__isnull=True, revoked_at__isnull=True)
                .select_related("invited_by")
                .order_by("expires_at", "pk")
            )
            invitations = [_invitation(request, invitation, now) for invitation in pending]
        data = {
            "can_manage": can_manage,
            "team_open": team_changes_allowed(project),
            "members": [_membership(request, membership) for membership in members],
            "invitations": invitations,
        }
        return Response(TeamSerializer(data).data)


class InvitationCreate(APIView):
    required_permission = Permission.MANAGE_TEAM

    @extend_schema(
        summary="Invite an e-mail address to the team (the lead only)",
        description=(
            "The invited person receives a link by e-mail and accepts it in the portal, signed "
            "in with that address. The link's token is never returned by the API."
        ),
        parameters=[PK],
        request=InviteSerializer,
        responses={201: InvitationSerializer, 400: OpenApiTypes.OBJECT, **TEAM_REFUSALS},
    )
    def post(self, request, pk: int):
        project = _project_or_404(request, pk, Permission.MANAGE_TEAM)
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            # The token goes into the e-mail only: whoever holds it may join the team.
            invitation, _token = invite_member(
                project=project,
                email=body.validated_data["email"],
                role=body.validated_data["role"],
                by=request.user,
            )
        except TeamError as refusal:
            return _team_refused(refusal)
        return Response(
            InvitationSerializer(_invitation(request, invitation, timezone.now())).data,
            status=status.HTTP_201_CREATED,
        )


class InvitationDetail(APIView):
    required_permission = Permission.MANAGE_TEAM

    @extend_schema(
        summary="Revoke an invitation: its link stops working (the lead only)",
        parameters=[PK, INVITATION_ID],
        request=None,
        responses={204: None, **TEAM_REFUSALS},
    )
    def delete(self, request, pk: int, invitation_id: int):
        project = _project_or_404(request, pk, Permission.MANAGE_TEAM)
        invitation = project.invitations.filter(pk=_object_id(invitation_id)).first()
        if invitation is None:
            raise NotFound
        try:
            revoke_invitation(invitation=invitation, by=request.user)
        except TeamError as refusal:
            return _team_refused(refusal)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetail(APIView):
    required_permission = Permission.MANAGE_TEAM

    def _membership(self, request, pk: int, membership_id: int) -> TeamMembership:
        project = _project_or_404(request, pk, Permission.MANAGE_TEAM)
        membership = (
            project.memberships.select_related("user", "project")
            .filter(pk=_object_id(membership_id))
            .first()
        )
        if membership is None:
            raise NotFound
        return membership

    @extend_schema(
        summary="Change a member's role: co-investigator or analyst (the lead only)",
        description="The body must name the new role; the lead's own role does not change.",
        parameters=[PK, MEMBERSHIP_ID],
        request=MemberRoleSerializer,
        responses={200: TeamMembershipSerializer, 400: OpenApiTypes.OBJECT, **TEAM_REFUSALS},
    )
    def patch(self, request, pk: int, membership_id: int):
        membership = self._membership(request, pk, membership_id)
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            changed = change_member_role(
                membership=membership, role=body.validated_data["role"], by=request.user
            )
        except TeamError as refusal:
            return _team_refused(refusal)
        changed.user = membership.user
        return Response(TeamMembershipSerializer(_membership(request, changed)).data)

    @extend_schema(
        summary="Remove a member from the team; they lose access at once (the lead only)",
        parameters=[PK, MEMBERSHIP_ID],
        request=None,
        responses={204: None, **TEAM_REFUSALS},
    )
    def delete(self, request, pk: int, membership_id: int):
        membership = self._membership(request, pk, membership_id)
        try:
            remove_member(membership=membership, by=request.user)
        except TeamError as refusal:
            return _team_refused(refusal)
        return Response(status=status.HTTP_204_NO_CONTENT)
