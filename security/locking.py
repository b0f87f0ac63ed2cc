"""Optimistic locking for admin forms that edit personal data.

A change form carries, in a hidden signed field, a fingerprint of each editable field's value as
loaded. On save the row is read again under ``SELECT … FOR UPDATE``; if any field changed in the
meantime the save is refused with a message naming what changed (and who changed it last), the
form keeps the editor's input, and nothing is written. Saving again after reading the message is a
deliberate decision, so the refreshed form carries the new fingerprint.

Use: ``class CustomerAdmin(OptimisticLockAdminMixin, SimpleHistoryAdmin): ...``
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.core import signing
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

VERSION_FIELD = "edit_version"
_SIGNING_SALT = "security.locking"


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


def _comparable(field: forms.Field, value: Any) -> Any:
    """Return ``value`` as the form field would render it (model instances as pks, lists sorted)."""
    prepared = field.prepare_value(value)
    if isinstance(prepared, list | tuple | set | frozenset):
        return sorted(prepared, key=repr)
    return prepared


def form_values(form: forms.BaseForm, names: list[str]) -> dict[str, Any]:
    """Return the initial value the (unbound) ``form`` shows in each field of ``names``.

    Model fields and form-only fields that an admin form fills from related rows (such as a
    customer's login email) alike: whatever the editor sees loaded is what the lock covers.
    """
    fields = form.fields
    return {name: _comparable(fields[name], form.get_initial_for_field(fields[name], name))
            for name in names if name in form.fields}


def version_token(values: dict[str, Any]) -> str:
    """Return the signed fingerprints of ``values``."""
    return signing.Signer(salt=_SIGNING_SALT).sign_object(
        {name: _fingerprint(value) for name, value in values.items()}, compress=True
    )


class OptimisticLockFormMixin(forms.ModelForm):
    """Refuse to save a form whose row changed after the form was loaded."""

    edit_version = forms.CharField(widget=forms.HiddenInput, required=False)
    conflict_message = _(
        "Someone else changed this record while you were editing it, so your changes were not "
        "saved. Changed meanwhile: %(changes)s. Check the current values, then save again if your "
        "change is still right."
    )

    def __init__(self, *args: Any, _snapshot: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not _snapshot:
            self.fields[VERSION_FIELD].initial = version_token(self._current_values())

    # Changed by signing in (a password re-hash), never by the editor; the reason is never loaded.
    lock_exclude = frozenset({VERSION_FIELD, "password", "last_login", "change_reason"})

    def _locked_names(self) -> list[str]:
        return [name for name, field in self.fields.items()
                if name not in self.lock_exclude and not field.disabled]

    def _current_values(self, *, lock: bool = False) -> dict[str, Any]:
        """Fingerprint source: what a form freshly loaded from the stored row would show."""
        manager = type(self.instance)._default_manager
        queryset = manager.select_for_update() if lock else manager.all()
        fresh = queryset.get(pk=self.instance.pk)
        snapshot = type(self)(instance=fresh, _snapshot=True)
        return form_values(snapshot, self._locked_names())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        current = self._current_values(lock=True)
        try:
            loaded = signing.Signer(salt=_SIGNING_SALT).unsign_object(
                self.data.get(self.add_prefix(VERSION_FIELD), "")
            )
        except signing.BadSignature:
            loaded = {}
        changed = [name for name, value in current.items()
                   if loaded.get(name) != _fingerprint(value)]
        if changed:
            data = self.data.copy()
            data[self.add_prefix(VERSION_FIELD)] = version_token(current)
            self.data = data
            raise forms.ValidationError(
                format_html("{} {}", self.conflict_message % {
                    "changes": ", ".join(str(self.fields[name].label or name)
                                         for name in changed)
                }, self._last_change_note()),
                code="edit_conflict",
            )
        return cleaned

    def _last_change_note(self) -> str:
        history = getattr(type(self.instance), "history", None)
        if history is None:
            return ""
        record = history.filter(**{type(self.instance)._meta.pk.attname: self.instance.pk}) \
            .order_by("-history_date", "-history_id").first()
        if record is None:
            return ""
        when = date_format(timezone.localtime(record.history_date), "DATETIME_FORMAT")
        who = getattr(record.history_user, "email", "") or gettext("the system")
        return format_html_join("", "{}", [(
            gettext("Last change: %(when)s by %(who)s.") % {"when": when, "who": who},
        )])


class OptimisticLockAdminMixin:
    """ModelAdmin mixin: change forms carry a version and refuse conflicting saves."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        base = kwargs.get("form", self.form)  # a change form the admin chose per object
        if obj is not None and not issubclass(base, OptimisticLockFormMixin):
            kwargs["form"] = type(f"Locked{base.__name__}", (OptimisticLockFormMixin, base), {})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            names = {name for _title, options in fieldsets
                     for entry in options.get("fields", [])
                     for name in (entry if isinstance(entry, list | tuple) else [entry])}
            if VERSION_FIELD not in names:
                fieldsets.append((None, {"fields": [VERSION_FIELD]}))
        return fieldsets
