"""Names the admin mixins share: purpose states, vetoes, paths, the reason field."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db.models import Field
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

NONE = "none"
ALLOWED = "allowed"
DENIED = "denied"

REASON_FIELD = "change_reason"

# Access vetoes: functions ``(customer_ids=, purpose=) -> set of vetoed ids`` registered by apps
# (``rights`` vetoes restricted customers). A vetoed customer's data is refused even under an
# allowed purpose, with a ``denied`` row, on every page of every admin using the mixin.
ACCESS_VETOES: list[Callable[..., set[int]]] = []


def register_access_veto(veto: Callable[..., set[int]]) -> Callable[..., set[int]]:
    """Register ``veto`` (called with ``customer_ids=`` and ``purpose=``); return it."""
    if veto not in ACCESS_VETOES:
        ACCESS_VETOES.append(veto)
    return veto


# Vetoes are asked about this many customer ids at a time (one query each for ``rights``).
VETO_CHUNK = 2000


def vetoed_customer_ids(customer_ids: Iterable[Any], *, purpose: str | None) -> set[int]:
    """Return those of ``customer_ids`` whose data a registered access veto forbids under
    ``purpose`` (``rights`` vetoes customers under a standing restriction, except for
    complaints). The one place that asks the vetoes: the admin, the services and the runs."""
    if not ACCESS_VETOES:
        return set()
    ids = [int(pk) for pk in customer_ids if pk is not None]
    vetoed: set[int] = set()
    for start in range(0, len(ids), VETO_CHUNK):
        for veto in ACCESS_VETOES:
            vetoed.update(veto(customer_ids=ids[start : start + VETO_CHUNK], purpose=purpose))
    return vetoed


def restriction_message() -> str:
    """Say why a vetoed customer's data is refused."""
    return gettext(
        "This customer has restricted the processing of their data: it may be used "
        "only to resolve complaints and questions."
    )


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
