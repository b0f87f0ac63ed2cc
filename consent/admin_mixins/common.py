"""Names the admin mixins share: purpose states, paths, the reason field, read-only admins.

The access vetoes live in ``consent.vetoes`` (services and runs ask them too); they are
re-exported here for the admin code.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import Field
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from ..vetoes import (  # noqa: F401 (re-exported for the admin mixins)
    ACCESS_VETOES,
    register_access_veto,
    restriction_message,
    vetoed_customer_ids,
)

NONE = "none"
ALLOWED = "allowed"
DENIED = "denied"

REASON_FIELD = "change_reason"

def leaf(name: str) -> str:
    """Return the last part of a ``__`` path: the field name an access-log row names."""
    return name.rsplit("__", 1)[-1]


def lookup_fields(model: Any, lookup: str) -> tuple[list[Field], list[str]]:
    """Return the model fields a ``__`` lookup walks through, and the parts after them.

    ``user__email__startswith`` on customers gives ``([Customer.user, User.email],
    ["startswith"])``; a part that is not a field (a lookup, a transform, ``pk``) ends the walk.
    """
    fields: list[Field] = []
    parts = lookup.split("__")
    opts = model._meta
    for index, part in enumerate(parts):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            return fields, parts[index:]
        fields.append(field)
        path_infos = getattr(field, "path_infos", None)
        if not path_infos:
            return fields, parts[index + 1 :]
        opts = path_infos[-1].to_opts
    return fields, []


def resolve(obj: Any, path: str) -> Any:
    """Follow a ``__`` (or ``.``) path of attributes from ``obj``; None where the chain breaks."""
    value = obj
    for part in path.replace(".", "__").split("__"):
        try:
            value = getattr(value, part)
        except ObjectDoesNotExist:
            return None
        if value is None:
            return None
    return value


class ReasonFormMixin(forms.ModelForm):
    """A required "reason for this change" field, recorded in the history row of the change."""

    change_reason = forms.CharField(
        label=gettext_lazy("Reason for this change"),
        max_length=100,
        required=True,
        help_text=gettext_lazy("Recorded in the change history, for example a ticket number."),
        error_messages={
            "required": gettext_lazy("Say why you are making this change."),
            "max_length": gettext_lazy(
                "Use at most %(limit_value)d characters (you typed %(show_value)d)."
            ),
        },
    )


class _MaskedTitle:
    """Stands for an object in templates, with its ``str`` masked."""

    def __init__(self, obj: Any, text: str) -> None:
        self._obj = obj
        self._text = text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __str__(self) -> str:
        return self._text


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin where nobody adds, changes or deletes rows; those with the view permission read
    them (evidence: the registers, the access log, the notices sent, the erasure ledger)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
