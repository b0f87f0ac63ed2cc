"""Autocomplete fields that take only well-formed ids: anything else is a field error, not a query.

Django's own fields turn a malformed id into a field error, but the autocomplete widget still
queries the database with it to render the selected option again (``Field 'id' expected a
number``: a 500), and ids beyond 64 bits overflow SQLite's driver. ``IdAutocompleteAdminMixin``
gives every autocomplete field on an integer key a widget and a form field that check the id
first; ``PersonalDataAdminMixin`` includes it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.db import models

MAX_ID = 2**63 - 1
INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField)


def is_id(value: Any) -> bool:
    """Return True for a positive 64-bit id written in ASCII digits."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


class _IdsOnlyWidget:
    def optgroups(self, name: str, value: list[Any], attr: Any = None) -> Any:
        return super().optgroups(name, [v for v in value if is_id(v)], attr)


class IdAutocompleteSelect(_IdsOnlyWidget, AutocompleteSelect):
    pass


class IdAutocompleteSelectMultiple(_IdsOnlyWidget, AutocompleteSelectMultiple):
    pass


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not is_id(value):
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": ""}
            )
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        for item in value if isinstance(value, list | tuple) else ():
            if not is_id(item):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(item)[:40]},
                )
        return super().clean(value)


def _integer_key(db_field: Any) -> bool:
    return isinstance(db_field.target_field, INTEGER_KEYS)


class IdAutocompleteAdminMixin:
    """Checked ids for the admin's ``autocomplete_fields`` (apply before ``ModelAdmin``)."""

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name in self.get_autocomplete_fields(request) and _integer_key(db_field):
            db = kwargs.get("using")
            kwargs.setdefault("widget", IdAutocompleteSelect(db_field, self.admin_site, using=db))
            kwargs.setdefault("form_class", IdChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name in self.get_autocomplete_fields(request) and _integer_key(db_field):
            db = kwargs.get("using")
            kwargs.setdefault(
                "widget", IdAutocompleteSelectMultiple(db_field, self.admin_site, using=db)
            )
            kwargs.setdefault("form_class", IdMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
