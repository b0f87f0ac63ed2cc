"""Sign-in and enrolment forms for the second factor."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.forms import OTPTokenForm

from .selectors import has_confirmed_device, recovery_device_get, totp_device_get


class ChooseDeviceByCodeMixin:
    """Pick the device from the code's shape: six digits for the app, otherwise a recovery code."""

    def _chosen_device(self, user: Any) -> Any:
        if self.cleaned_data.get("otp_device"):
            return super()._chosen_device(user)
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if token.isdigit() and len(token) == 6:
            return totp_device_get(user=user)
        return recovery_device_get(user=user)

OTP_ERRORS = {
    "token_required": _("Enter the 6-digit code from your authenticator app, or a recovery code."),
    "invalid_token": _("That code is not valid. Check the time on your phone and try again, or "
                       "use a recovery code."),
    "n_failed_attempts": _("Code checks are paused after %(failure_count)d wrong codes. Try again "
                           "in a minute."),
    "verification_not_allowed": _("This code cannot be checked now. Try again later."),
    "device_required": _("That code is not valid. Check the time on your phone and try again, or "
                         "use a recovery code."),
}


class OTPTokenField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("One-time code"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("strip", True)
        kwargs.setdefault("widget", forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ))
        kwargs.setdefault("help_text", _("From your authenticator app, or one recovery code."))
        super().__init__(**kwargs)


class StaffLoginForm(ChooseDeviceByCodeMixin, OTPAdminAuthenticationForm):
    """The admin sign-in: password and one-time code.

    Staff who have not enrolled a device yet sign in with the password only; the two-factor
    middleware then lets them reach nothing but the enrolment page.
    """

    otp_error_messages = {**OTPAdminAuthenticationForm.otp_error_messages, **OTP_ERRORS}
    otp_token = OTPTokenField()

    def clean(self) -> dict[str, Any]:
        self.cleaned_data = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if user is not None and has_confirmed_device(user=user):
            self.clean_otp(user)
        return self.cleaned_data


class VerifyForm(ChooseDeviceByCodeMixin, OTPTokenForm):
    """Verify a signed-in staff member's one-time code (after a password-only sign-in)."""

    otp_error_messages = {**OTPTokenForm.otp_error_messages, **OTP_ERRORS}
    otp_token = OTPTokenField(required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp_device"].widget = forms.HiddenInput()
        self.fields["otp_device"].required = False
        self.fields["otp_challenge"].widget = forms.HiddenInput()


class EnrolForm(forms.Form):
    """Confirm a new authenticator by typing the code it shows."""

    wrong_code_message = _("That code does not match. Check that the phone's clock is right and "
                           "type the code currently shown.")

    token = forms.CharField(
        label=_("Code shown by your authenticator app"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip().replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError(_("Enter the digits shown by the app."), code="invalid")
        return token
