"""Technical administration (superusers with a verified second factor).

Roles cannot be edited in the user form: they change only through the admin actions below
(granting a staff role asks, in the action bar, who validated it and until when: SEC-04),
which call the audited actions (``grant_role``, ``revoke_role``, ``reset_two_factor``), one
audit event per account and role (LOG-01). Other changes made here are audited through Django's
admin log (see signals.audit_admin_change).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from eds_portal.actions import (
    GrantRefused,
    grant_refusals,
    grant_role,
    reset_two_factor,
    revoke_role,
)
from eds_portal.models import Charter, RoleGrant, User
from eds_portal.roles import Role


class EmailUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name", "organisation")


class EmailUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {"email": forms.EmailField}


class GrantDetailsForm(forms.Form):
    """What granting a staff role asks for (SEC-04): who validated it and its last day."""

    validated_by = forms.CharField(
        label=_("Validated by (line manager)"), max_length=200, required=False
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class RoleActionForm(ActionForm, GrantDetailsForm):
    """The admin's action bar, with the grant's details."""


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = EmailUserChangeForm
    action_form = RoleActionForm
    add_form = EmailUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "organisation", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "full_name", "organisation")
    # Roles (groups) are read-only here: they change through the audited actions below.
    readonly_fields = ("last_login", "date_joined", "groups", "role_grants")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identity"), {"fields": ("full_name", "organisation")}),
        (
            _("Roles and access"),
            {"fields": ("is_active", "groups", "role_grants", "is_staff", "is_superuser")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "organisation", "password1", "password2"),
            },
        ),
    )

    @admin.display(description=_("Validated by and until"))
    def role_grants(self, obj):
        grants = RoleGrant.objects.filter(user=obj).order_by("role") if obj.pk else []
        return (
            "; ".join(
                f"{Role(grant.role).label}: {grant.validated_by or '-'}, "
                f"{grant.valid_until.isoformat() if grant.valid_until else '-'}"
                for grant in grants
            )
            or "-"
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        for role in Role:
            for _verb, function in (("grant", _grant_action), ("revoke", _revoke_action)):
                action = function(role)
                actions[action.__name__] = (
                    action,
                    action.__name__,
                    action.short_description,
                )
        actions["reset_two_factor"] = (
            _reset_two_factor_action,
            "reset_two_factor",
            _reset_two_factor_action.short_description,  # type: ignore[attr-defined]
        )
        return actions


def _grant_action(role: Role):
    def action(modeladmin, request, queryset):
        form = GrantDetailsForm(request.POST)
        valid = form.is_valid()
        validated_by: str = (form.cleaned_data.get("validated_by") or "") if valid else ""
        valid_until = form.cleaned_data.get("valid_until") if valid else None
        reasons = grant_refusals(role, validated_by=validated_by, valid_until=valid_until)
        if not valid or reasons:
            # Nothing is granted: the whole selection or none.
            modeladmin.message_user(
                request,
                " ".join(reasons) or _("Enter a valid end date."),
                messages.ERROR,
            )
            return None
        try:
            changed = sum(
                grant_role(
                    user=user,
                    role=role,
                    by=request.user,
                    validated_by=validated_by,
                    valid_until=valid_until,
                )
                for user in queryset
            )
        except GrantRefused as refused:
            modeladmin.message_user(request, str(refused), messages.ERROR)
            return None
        modeladmin.message_user(
            request,
            _("Role %(role)s granted to %(count)d account(s).")
            % {"role": role.label, "count": changed},
            messages.SUCCESS,
        )
        return None

    action.__name__ = f"grant_{role.value}"
    action.short_description = _("Grant the role: %(role)s") % {"role": role.label}  # type: ignore[attr-defined]
    return action


def _revoke_action(role: Role):
    def action(modeladmin, request, queryset):
        changed = sum(revoke_role(user=user, role=role, by=request.user) for user in queryset)
        modeladmin.message_user(
            request,
            _("Role %(role)s revoked from %(count)d account(s).")
            % {"role": role.label, "count": changed},
            messages.SUCCESS,
        )

    action.__name__ = f"revoke_{role.value}"
    action.short_description = _("Revoke the role: %(role)s") % {"role": role.label}  # type: ignore[attr-defined]
    return action


def _reset_two_factor_action(modeladmin, request, queryset):
    for user in queryset:
        reset_two_factor(user=user, by=request.user)
    modeladmin.message_user(
        request,
        _("Two-factor devices removed; the accounts enrol again at their next sign-in."),
        messages.SUCCESS,
    )


_reset_two_factor_action.short_description = _("Reset two-factor login (lost phone)")  # type: ignore[attr-defined]


@admin.register(Charter)
class CharterAdmin(admin.ModelAdmin):
    """Read-only: a charter is published with ``manage.py publish_charter`` (audited)."""

    list_display = ("version", "published_at", "published_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# DRF's token admin would show every API token in clear to administrators: tokens are managed by
# their owners on their account page only.
try:
    from rest_framework.authtoken.admin import TokenProxy  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - authtoken not installed
    TokenProxy = None
if TokenProxy is not None and admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
