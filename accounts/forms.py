"""The signup form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template import loader
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from notices.outbox import outbox_send

from .models import User
from .normalize import has_control_characters, normalize_email, normalize_name
from .selectors import customer_of, email_in_use, password_reset_recipients
from .validators import validate_normalized_email

NAME_MAX_LENGTH = 200


def clean_name(value: str) -> str:
    """Return a normalised name or raise a field error."""
    if has_control_characters(value):
        raise forms.ValidationError(
            _("This field contains characters that are not allowed."), code="control"
        )
    name = normalize_name(value)
    if not name:
        raise forms.ValidationError(_("This field is required."), code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise forms.ValidationError(
            _("Use at most %(max)d characters (you typed %(length)d).")
            % {"max": NAME_MAX_LENGTH, "length": len(name)},
            code="max_length",
        )
    return name


def clean_email_address(value: str) -> str:
    """Return the email as it will be stored (normalised), validated again, or a field error."""
    email = normalize_email(value)
    validate_normalized_email(email)
    return email


def clean_phone(number: Any) -> Any:
    """Return the parsed phone number, or a field error if it carries an extension."""
    # E.164 has no extension: stored, "+84 912 345 678 ext 5" would silently lose the "5".
    if number and getattr(number, "extension", None):
        raise forms.ValidationError(
            _("Enter the phone number without an extension."), code="extension"
        )
    return number


class PolicyCheckboxInput(forms.CheckboxInput):
    """A checkbox ticked only by the value a browser sends for it ("on").

    Django's checkbox counts any value but "false" as ticked ("off", "0", NUL); consent is given
    by ticking the box, so nothing else counts.
    """

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        return data.get(name) == "on"


class SignupForm(forms.Form):
    business_name = forms.CharField(label=_("Business name"), max_length=1000, strip=False)
    contact_person = forms.CharField(label=_("Contact person"), max_length=1000, strip=False)
    phone = PhoneNumberField(
        label=_("Phone number"),
        region="VN",
        help_text=_("For example 0912 345 678 or +84 912 345 678."),
        error_messages={
            "invalid": _("Enter a valid phone number, for example 0912 345 678 or +84 912 345 678.")
        },
    )
    email = forms.EmailField(label=_("Email"), max_length=254)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_policy = forms.BooleanField(
        label=_("I have read and accept the privacy policy"),
        required=True,
        initial=False,
        widget=PolicyCheckboxInput,
        error_messages={"required": _("You must read and accept the privacy policy to sign up.")},
    )
    policy_version = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args: Any, current_policy: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_policy = current_policy
        self.fields["policy_version"].initial = current_policy.label
        self.fields["accept_policy"].help_text = format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("consent:policy"),
            _("Read the privacy policy (version %(label)s)") % {"label": current_policy.label},
        )

    def clean_business_name(self) -> str:
        return clean_name(self.cleaned_data["business_name"])

    def clean_contact_person(self) -> str:
        return clean_name(self.cleaned_data["contact_person"])

    def clean_phone(self) -> Any:
        return clean_phone(self.cleaned_data["phone"])

    def clean_email(self) -> str:
        email = clean_email_address(self.cleaned_data["email"])
        if email_in_use(email):
            signin = reverse("accounts:login")
            # Worded so that it does not tell a stranger whether the address has an account.
            raise forms.ValidationError(
                format_html(
                    '{} <a href="{}">{}</a>',
                    _(
                        "We cannot create a new account with this email. If you already have an "
                        "account, sign in instead."
                    ),
                    signin,
                    _("Sign in"),
                ),
                code="unavailable",
            )
        return email

    def clean_policy_version(self) -> str:
        label = self.cleaned_data["policy_version"]
        if label != self.current_policy.label:
            raise forms.ValidationError(
                _(
                    "The privacy policy changed while you were signing up. Please read the new "
                    "version and accept it again."
                ),
                code="stale_policy",
            )
        return label

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            user = User(email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class CorrectDataForm(forms.Form):
    """The customer corrects their contact person and phone number."""

    contact_person = forms.CharField(label=_("Contact person"), max_length=1000, strip=False)
    phone = PhoneNumberField(
        label=_("Phone number"),
        region="VN",
        help_text=_("For example 0912 345 678 or +84 912 345 678."),
        error_messages={
            "invalid": _("Enter a valid phone number, for example 0912 345 678 or +84 912 345 678.")
        },
    )

    def clean_contact_person(self) -> str:
        return clean_name(self.cleaned_data["contact_person"])

    def clean_phone(self) -> Any:
        return clean_phone(self.cleaned_data["phone"])


class EmailChangeForm(forms.Form):
    """The customer asks to change their email; it changes once the new address confirms."""

    email = forms.EmailField(label=_("New email"), max_length=254)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = clean_email_address(self.cleaned_data["email"])
        if email.lower() == self.user.email.lower():
            raise forms.ValidationError(_("This is already your email."), code="same")
        return email


class UpdateNoticesForm(forms.Form):
    """The one purpose the customer may switch off: update notices."""

    update_notices = forms.BooleanField(label=_("Send me update notices"), required=False)


class PolicyDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", _("I accept")), ("decline", _("I decline"))],
        widget=forms.HiddenInput,
    )
    policy_version = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args: Any, current_policy: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_policy = current_policy
        self.fields["policy_version"].initial = current_policy.label

    def clean_policy_version(self) -> str:
        label = self.cleaned_data["policy_version"]
        if label != self.current_policy.label:
            raise forms.ValidationError(
                _(
                    "The privacy policy changed while you were reading it. Please read the new "
                    "version."
                ),
                code="stale_policy",
            )
        return label


class CustomerPasswordResetForm(PasswordResetForm):
    """Django's reset form; each reset email to a customer is recorded as a notice.

    Unknown, inactive (erased) and passwordless logins get no email, as in Django. Staff logins
    are no customers: their email is sent but not recorded.
    """

    def get_users(self, email: str) -> Any:
        return password_reset_recipients(email)

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        customer = customer_of(context["user"])
        if customer is None:
            return super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        message = EmailMultiAlternatives(
            subject, loader.render_to_string(email_template_name, context), from_email, [to_email]
        )
        if html_email_template_name is not None:
            message.attach_alternative(
                loader.render_to_string(html_email_template_name, context), "text/html"
            )
        outbox_send(customer=customer, template=email_template_name, purpose="", message=message)
