"""Forms of the consent app: declaring a purpose, publishing a policy version."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .models import PolicyVersion, Purpose

REFERENCE_MAX_LENGTH = 200

# The message of Django's ProhibitNullCharactersValidator (on every CharField) is missing from
# Django's Vietnamese catalogue. Marked here, it is in ours (which take precedence) and so
# translated for every form of the portal and the admin at once.
gettext_noop("Null characters are not allowed.")


class PurposeDeclarationForm(forms.Form):
    """Pick one of the five purposes and an optional reference (ticket number or note).

    Every purpose is offered as a choice so that picking one the user's groups do not grant is a
    refused (and logged) attempt, not a silent form error; the view checks the grant.
    """

    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=40,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the purpose you are working for.")},
    )
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=REFERENCE_MAX_LENGTH,
        help_text=_("Optional: a ticket number or a short note (at most 200 characters)."),
        error_messages={
            "max_length": _("Use at most %(limit_value)d characters (you typed %(show_value)d)."),
        },
    )

    def __init__(self, *args: Any, granted: list[Purpose], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].widget.choices = [(p.code, p.name) for p in granted]

    def clean_purpose(self) -> str:
        code = self.cleaned_data["purpose"]
        if not Purpose.objects.filter(code=code).exists():
            raise forms.ValidationError(_("Choose one of the purposes listed."), code="invalid")
        return code

    def clean_reference(self) -> str:
        return " ".join(self.cleaned_data.get("reference", "").split())


class PolicyPublishForm(forms.ModelForm):
    """Publish a new policy version (the admin's add form; versions are never edited)."""

    class Meta:
        model = PolicyVersion
        fields = ["label", "effective_date", "text_vi", "text_en"]
