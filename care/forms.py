"""Forms for customer-care requests (customer pages and admin)."""

from __future__ import annotations

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.normalize import has_control_characters

from .models import CareRequest

SUBJECT_MAX = 200
BODY_MAX = 5000


def clean_text(value: str, *, limit: int, multiline: bool) -> str:
    """Return trimmed text or raise a field error (empty, too long, control characters)."""
    text = unicodedata.normalize("NFC", value).strip()
    check = text.replace("\r", "").replace("\n", "").replace("\t", "") if multiline else text
    if has_control_characters(check):
        raise forms.ValidationError(
            _("This field contains characters that are not allowed."), code="control"
        )
    if not text:
        raise forms.ValidationError(_("This field is required."), code="required")
    if len(text) > limit:
        raise forms.ValidationError(
            _("Use at most %(max)d characters (you typed %(length)d).")
            % {"max": limit, "length": len(text)},
            code="max_length",
        )
    return text


class CareRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=CareRequest.Kind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX * 5, strip=False)
    body = forms.CharField(
        label=_("Message"), max_length=BODY_MAX * 5, strip=False, widget=forms.Textarea
    )

    def clean_subject(self) -> str:
        return clean_text(self.cleaned_data["subject"], limit=SUBJECT_MAX, multiline=False)

    def clean_body(self) -> str:
        return clean_text(self.cleaned_data["body"], limit=BODY_MAX, multiline=True)


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=BODY_MAX * 5, strip=False, widget=forms.Textarea
    )

    def clean_body(self) -> str:
        return clean_text(self.cleaned_data["body"], limit=BODY_MAX, multiline=True)
