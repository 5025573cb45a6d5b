"""The DPO's access review (SEC-04): every account, its roles (who validated each, until when),
its projects (team memberships and external experts' grants) and its last sign-in, with
one-click revocation of a role, of an expert's grant or of the whole account. Here rather than
in eds_portal because it lists project teams (dependencies point access -> projects ->
eds_portal)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from eds_portal.accounts.actions import deactivate_account
from eds_portal.actions import revoke_role
from eds_portal.authz import Permission
from eds_portal.hostile_input import strict_int
from eds_portal.models import User
from eds_portal.roles import Role
from eds_portal.views.base import AuthenticatedHttpRequest, PermissionView
from projects.models import ExpertInvitation, TeamMembership
from projects.review.experts import withdraw_expert_grant


class AccessReviewView(PermissionView):
    permission = Permission.REVIEW_ACCESS
    template_name = "projects/access_review.html"

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        memberships = TeamMembership.objects.select_related("project").order_by(
            "project__reference"
        )
        accounts = (
            User.objects.order_by("-is_active", "email")
            .prefetch_related(
                "groups",
                "role_grants",
                Prefetch("project_memberships", queryset=memberships),
                # External experts' grants on one file each (django-guardian), still open.
                Prefetch(
                    "expert_invitations",
                    queryset=ExpertInvitation.objects.filter(
                        accepted_at__isnull=False, ended_at__isnull=True
                    )
                    .select_related("project")
                    .order_by("project__reference"),
                    to_attr="open_expert_grants",
                ),
            )
            .only("pk", "email", "full_name", "is_active", "last_login", "date_joined")
        )
        today = timezone.localdate()
        rows = []
        for account in accounts:
            grants = {grant.role: grant for grant in account.role_grants.all()}
            roles = sorted(
                (Role(group.name) for group in account.groups.all() if group.name in Role.values),
                key=lambda role: role.label,
            )
            rows.append(
                {
                    "user": account,
                    # Who validated each role and until when (SEC-04); None for a role granted
                    # before grants were recorded.
                    "roles": [
                        {
                            "role": role,
                            "grant": grants.get(role.value),
                            "expired": role.value in grants
                            and grants[role.value].valid_until is not None
                            and grants[role.value].valid_until < today,
                        }
                        for role in roles
                    ],
                    "memberships": list(account.project_memberships.all()),
                    "expert_grants": account.open_expert_grants,
                }
            )
        return TemplateResponse(request, self.template_name, {"rows": rows})

    def post(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        # ASCII digits within 64 bits only ("²" is a digit to Python, not an id).
        account = User.objects.filter(pk=strict_int(request.POST.get("user")) or 0).first()
        if account is None:
            raise Http404
        action = request.POST.get("action")
        if action == "revoke_role" and request.POST.get("role") in Role.values:
            role = Role(request.POST["role"])
            revoke_role(user=account, role=role, by=request.user)
            messages.success(
                request,
                _("Role %(role)s revoked from %(name)s.")
                % {"role": role.label, "name": account.full_name or account.email},
            )
        elif action == "end_expert":
            invitation = ExpertInvitation.objects.filter(
                pk=strict_int(request.POST.get("invitation")) or 0, expert=account
            ).first()
            if invitation is None:
                raise Http404
            withdraw_expert_grant(invitation=invitation, by=request.user)
            messages.success(
                request,
                _("The access of %(name)s to %(ref)s as an external expert has ended.")
                % {"name": account.full_name or account.email, "ref": invitation.project.reference},
            )
        elif action == "deactivate":
            deactivate_account(user=account, by=request.user, reason="access_review")
            messages.success(
                request,
                _("The account of %(name)s is disabled.")
                % {"name": account.full_name or account.email},
            )
        else:
            return HttpResponse(status=400)
        return redirect("access_review")
