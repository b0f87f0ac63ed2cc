"""Forms of the consent app: declaring a purpose, publishing a policy version."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PolicyVersion, Purpose

REFERENCE_MAX_LENGTH = 200

# The code of Django's ProhibitNullCharactersValidator, on every CharField. Its message ("Null
# characters are not allowed.") is missing from Django's Vietnamese catalogue.
NULL_CHARACTERS = "null_characters_not_allowed"


def translate_null_character_errors(form: forms.BaseForm) -> None:
    """Give every field of ``form`` a message in the active language for text holding NUL."""
    message = _("This field contains characters that are not allowed.")
    for field in form.fields.values():
        field.error_messages = {**field.error_messages, NULL_CHARACTERS: message}


class NullCharacterMessagesMixin:
    """A form whose fields refuse NUL characters with a translated message (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_null_character_errors(self)


class PurposeDeclarationForm(NullCharacterMessagesMixin, forms.Form):
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


class PolicyPublishForm(NullCharacterMessagesMixin, forms.ModelForm):
    """Publish a new policy version (the admin's add form; versions are never edited)."""

    class Meta:
        model = PolicyVersion
        fields = ["label", "effective_date", "text_vi", "text_en"]
