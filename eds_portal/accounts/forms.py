"""Forms of the account pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from eds_portal.accounts.actions import RESET_REQUESTED, reset_requests_recently
from eds_portal.audit import record_event
from eds_portal.mail import queue_mail

RESET_MAIL = "account.password_reset"


class CharterForm(forms.Form):
    accept = forms.BooleanField(
        label=gettext_lazy("I have read the confidentiality charter and I accept it."),
        required=True,
    )


class PasswordPairMixin(forms.Form):
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 12 characters, not a common or all-digit password."),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        return cleaned


class InvitationSignupForm(PasswordPairMixin):
    full_name = forms.CharField(
        label=gettext_lazy("Full name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    field_order = ["full_name", "password1", "password2", "accept_charter"]

    def __init__(self, *args, email: str, with_charter: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        if with_charter:
            self.fields["accept_charter"] = forms.BooleanField(
                label=gettext_lazy("I have read the confidentiality charter and I accept it."),
                required=True,
            )

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password1")
        if password and not self.has_error("password2"):
            from eds_portal.models import User

            probe = User(email=self.email, full_name=cleaned.get("full_name") or "")
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label=gettext_lazy("New e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This is not your current password."))
        return password

    def clean_new_email(self) -> str:
        address = self.cleaned_data["new_email"].strip().lower()
        if address == self.user.email.lower():
            raise forms.ValidationError(_("This is already your address."))
        return address


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, audited, limited, and sending through the mail queue.

    Whatever the address, the page that follows is the same; only the trail (account id, never
    the typed address) and the mail differ.
    """

    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    too_many_from_client = False

    def save(self, request=None, **kwargs) -> None:  # type: ignore[override]
        users = list(self.get_users(self.cleaned_data["email"]))
        user = users[0] if users else None
        event = record_event(
            action=RESET_REQUESTED,
            target_type="eds_portal.user" if user else "",
            target_id=str(user.pk) if user else "",
            after={"known_account": user is not None},
        )
        by_client, by_account = reset_requests_recently(event=event)
        if by_client > settings.EDS_PASSWORD_RESET_PER_CLIENT_HOUR:
            self.too_many_from_client = True
            return
        if user is None or by_account > settings.EDS_PASSWORD_RESET_PER_ACCOUNT_HOUR:
            return
        link = settings.EDS_PUBLIC_URL + reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = _("Reset your password")
            body = _(
                "Someone asked to reset the password of your account on %(portal)s.\n\n"
                "To choose a new password, open this link:\n%(link)s\n\n"
                "The link works once and expires in %(hours)s hours. If you did not ask for "
                "it, ignore this message: your password does not change."
            ) % {
                "portal": settings.EDS_PORTAL_NAME,
                "link": link,
                "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            }
        queue_mail(
            kind=RESET_MAIL,
            reference=str(user.pk),
            to=[user.email],
            subject=subject,
            body=body,
            recipient=user,
            language=user.language or settings.LANGUAGE_CODE,
        )
