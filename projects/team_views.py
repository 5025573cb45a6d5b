"""A project's team page and the page behind an invitation link."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.authz import Permission, has_permission
from eds_portal.models import User
from eds_portal.views.base import AuthenticatedView
from projects.models import Invitation, TeamRole
from projects.team_actions import (
    InvitationAlreadyAccepted,
    InvitationExpired,
    InvitationForAnotherAccount,
    InvitationNotFound,
    InvitationRevoked,
    TeamError,
    accept_invitation,
    change_member_role,
    check_acceptable,
    invitation_for_token,
    invite_member,
    remove_member,
    revoke_invitation,
    team_changes_allowed,
)
from projects.views import ProjectView

ROLE_CHOICES = [
    (TeamRole.CO_INVESTIGATOR.value, TeamRole.CO_INVESTIGATOR.label),
    (TeamRole.ANALYST.value, TeamRole.ANALYST.label),
]
ROLE_ORDER = {TeamRole.LEAD: 0, TeamRole.CO_INVESTIGATOR: 1, TeamRole.ANALYST: 2}


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        max_length=254,
        help_text=gettext_lazy("The invited person signs in with this address to accept."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=ROLE_CHOICES,
        help_text=gettext_lazy(
            "A co-investigator edits the draft; an analyst only receives the data."
        ),
    )


def _from_post(request: HttpRequest, queryset: QuerySet, name: str):
    """The row named by a hidden field, within the project's own rows; 404 otherwise."""
    try:
        pk = int(request.POST.get(name, ""))
    except ValueError as exc:
        raise Http404 from exc
    # Out of the bigint range, the database would fail instead of finding nothing.
    row = queryset.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if row is None:
        raise Http404
    return row


class TeamView(ProjectView):
    """Members, their roles and the pending invitations; the lead manages them here."""

    template_name = "projects/team.html"

    def _render(self, request: HttpRequest, invite_form: InviteForm, *, status: int = 200):
        project = self.project
        can_manage = has_permission(request.user, Permission.MANAGE_TEAM, project)
        members = sorted(
            project.memberships.select_related("user"),
            key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.full_name.lower(), m.pk),
        )
        now = timezone.now()
        # Pending invitees have not joined: their addresses are for the lead only.
        invitations = (
            list(
                project.invitations.filter(
                    accepted_at__isnull=True, revoked_at__isnull=True
                ).order_by("expires_at", "pk")
            )
            if can_manage
            else []
        )
        for invitation in invitations:
            invitation.is_expired = invitation.expires_at <= now
        return TemplateResponse(
            request,
            self.template_name,
            {
                "project": project,
                "members": members,
                "invitations": invitations,
                "can_manage": can_manage,
                "team_open": team_changes_allowed(project),
                "invite_form": invite_form,
                "role_choices": ROLE_CHOICES,
                "invitation_days": settings.EDS_INVITATION_DAYS,
            },
            status=status,
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._render(request, InviteForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not has_permission(request.user, Permission.MANAGE_TEAM, self.project):
            raise PermissionDenied
        handlers = {
            "invite": self._invite,
            "remove": self._remove,
            "change_role": self._change_role,
            "revoke": self._revoke,
        }
        handler = handlers.get(request.POST.get("action", ""))
        if handler is None:
            return HttpResponseBadRequest(_("Unknown action."))
        return handler(request)

    def _invite(self, request: HttpRequest) -> HttpResponse:
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation, _token = invite_member(
                    project=self.project,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    by=request.user,
                )
            except TeamError as refusal:
                form.add_error(None, refusal.message)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s. The link expires on %(date)s.")
                    % {
                        "email": invitation.email,
                        "date": date_format(
                            timezone.localtime(invitation.expires_at), "DATETIME_FORMAT"
                        ),
                    },
                )
                return redirect("project_team", pk=self.project.pk)
        return self._render(request, form, status=400)

    def _remove(self, request: HttpRequest) -> HttpResponse:
        membership = _from_post(
            request, self.project.memberships.select_related("user"), "membership"
        )
        try:
            remove_member(membership=membership, by=request.user)
        except TeamError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("%(name)s was removed from the team.")
                % {"name": membership.user.full_name or membership.user.email},
            )
        return redirect("project_team", pk=self.project.pk)

    def _change_role(self, request: HttpRequest) -> HttpResponse:
        membership = _from_post(
            request, self.project.memberships.select_related("user"), "membership"
        )
        try:
            changed = change_member_role(
                membership=membership, role=request.POST.get("role", ""), by=request.user
            )
        except TeamError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("%(name)s is now %(role)s.")
                % {
                    "name": membership.user.full_name or membership.user.email,
                    "role": TeamRole(changed.role).label.lower(),
                },
            )
        return redirect("project_team", pk=self.project.pk)

    def _revoke(self, request: HttpRequest) -> HttpResponse:
        invitation = _from_post(request, self.project.invitations.all(), "invitation")
        try:
            revoke_invitation(invitation=invitation, by=request.user)
        except TeamError as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("The invitation sent to %(email)s was revoked; its link no longer works.")
                % {"email": invitation.email},
            )
        return redirect("project_team", pk=self.project.pk)


# 410: the link existed but is of no use any more; 403: right link, wrong account.
REFUSAL_STATUS = {
    InvitationExpired: 410,
    InvitationRevoked: 410,
    InvitationAlreadyAccepted: 410,
    InvitationForAnotherAccount: 403,
}


class AcceptInvitationView(AuthenticatedView):
    """Any signed-in account may open a link; only the invited address may accept it."""

    template_name = "projects/invitation_accept.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        # Someone with no account yet follows the link of their invitation: they create it.
        if not request.user.is_authenticated:
            invitation = invitation_for_token(kwargs.get("token", ""))
            if (
                invitation is not None
                and not User.objects.filter(email__iexact=invitation.email).exists()
            ):
                return redirect("invitation_signup", token=kwargs["token"])
        return super().dispatch(request, *args, **kwargs)

    def _invitation(self, token: str) -> Invitation:
        invitation = invitation_for_token(token)
        if invitation is None:
            raise Http404
        return invitation

    def _refused(self, request: HttpRequest, invitation: Invitation, refusal: TeamError):
        # The project is not named: the account that opened the link may not be the invited
        # one. A member (e.g. who already accepted) gets a link to it.
        return TemplateResponse(
            request,
            self.template_name,
            {
                "refusal": refusal.message,
                "invitation": invitation,
                "is_member": invitation.project.memberships.filter(user=request.user).exists(),
            },
            status=REFUSAL_STATUS.get(type(refusal), 409),
        )

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        try:
            check_acceptable(invitation, request.user)
        except TeamError as refusal:
            return self._refused(request, invitation, refusal)
        return TemplateResponse(
            request,
            self.template_name,
            {"invitation": invitation, "project": invitation.project},
        )

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation = self._invitation(token)
        try:
            membership = accept_invitation(token=token, by=request.user)
        except InvitationNotFound as exc:
            raise Http404 from exc
        except TeamError as refusal:
            invitation.refresh_from_db()
            return self._refused(request, invitation, refusal)
        messages.success(
            request,
            _("You joined the team of %(ref)s as %(role)s.")
            % {
                "ref": invitation.project.reference,
                "role": TeamRole(membership.role).label.lower(),
            },
        )
        return redirect("project_detail", pk=invitation.project_id)
