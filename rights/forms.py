"""Forms of data-subject requests: the customer's filing form and staff's handling form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.normalize import has_control_characters

from .models import DataSubjectRequest

REASON_MAX_LENGTH = 2000
# The reason for an extension is stored in a shorter column than the customer's text.
EXTENSION_REASON_MAX_LENGTH = DataSubjectRequest._meta.get_field("extension_reason").max_length


def extension_reason_too_long(length: int) -> str:
    return _(
        "The reason for an extension may have at most %(max)d characters (you typed %(length)d)."
    ) % {"max": EXTENSION_REASON_MAX_LENGTH, "length": length}


# The kinds a customer files from /account/requests/ (closure is filed by declining a policy).
CUSTOMER_KINDS = [
    (value, label)
    for value, label in DataSubjectRequest.Kind.choices
    if value != DataSubjectRequest.Kind.CLOSURE
]


def clean_free_text(value: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if any(has_control_characters(ch) for ch in value if ch not in "\r\n\t"):
        raise forms.ValidationError(
            _("This field contains characters that are not allowed."), code="control"
        )
    if required and not value:
        raise forms.ValidationError(_("This field is required."), code="required")
    if len(value) > REASON_MAX_LENGTH:
        raise forms.ValidationError(
            _("Use at most %(max)d characters (you typed %(length)d).")
            % {"max": REASON_MAX_LENGTH, "length": len(value)},
            code="max_length",
        )
    return value


class RequestFileForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you ask for?"), choices=CUSTOMER_KINDS)
    reason = forms.CharField(
        label=_("Reason or details"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional. For a correction, say what is wrong."),
    )

    def clean_reason(self) -> str:
        return clean_free_text(self.cleaned_data.get("reason", ""))


class RequestHandleForm(forms.Form):
    """Staff's step on a request: acknowledge, extend, complete or reject."""

    STEPS = [
        ("acknowledge", _("Acknowledge")),
        ("extend", _("Extend the deadline")),
        ("complete", _("Complete")),
        ("reject", _("Reject")),
    ]

    step = forms.ChoiceField(label=_("Step"), choices=STEPS)
    days = forms.IntegerField(
        label=_("Extension (days)"),
        required=False,
        min_value=1,
        help_text=_("Only for an extension."),
    )
    note = forms.CharField(
        label=_("Reason / response to the customer"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to extend or reject."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].max_value = settings.RIGHTS_EXTENSION_MAX_DAYS
        self.fields["days"].validators.append(
            forms.IntegerField(max_value=settings.RIGHTS_EXTENSION_MAX_DAYS).validators[-1]
        )

    def clean_note(self) -> str:
        return clean_free_text(self.cleaned_data.get("note", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        step = cleaned.get("step")
        if step == "extend":
            if not cleaned.get("days"):
                self.add_error("days", _("Give the number of days of the extension."))
            if not cleaned.get("note"):
                self.add_error("note", _("Give the reason for the extension."))
            elif len(cleaned["note"]) > EXTENSION_REASON_MAX_LENGTH:
                self.add_error("note", extension_reason_too_long(len(cleaned["note"])))
        if step == "reject" and not cleaned.get("note"):
            self.add_error("note", _("Tell the customer why the request is rejected."))
        return cleaned
