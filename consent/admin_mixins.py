"""The admin's one place for purpose checks, masking and access logging of personal data.

Apply ``PersonalDataAdminMixin`` (first in the bases) to every ``ModelAdmin`` whose pages can show
a customer's personal data, and declare what is personal::

    @admin.register(Device)
    class DeviceAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
        personal_fields = ("customer__contact_person", "push_token")
        subject_path = "customer_id"              # how to reach the customer's id from a row
        allowed_purposes = {"licensing", "customer_care"}   # None: any of the five purposes
        list_display = ["customer__business_name", "customer__contact_person", "model"]

Then, on every page of that admin (changelist, search, change form, history, delete, exports,
autocomplete):

- **no purpose declared**: personal values are masked (``consent.masking``), change forms are
  read-only, deleting and exporting are refused; nothing personal is disclosed, nothing is logged;
- **a purpose the user's groups grant and the admin allows**: values are shown and one access-log
  row per customer per page is queued (``list``, ``search``, ``view``, ``history``, ``delete``,
  ``export``), naming the personal fields shown (a page showing none logs nothing, a delete
  always logs); changes are logged by the services they call;
- **any other purpose**: a 403 page that says why, and a ``denied`` row.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import DisallowedModelAdminLookup, DisallowedModelAdminToField
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import (
    NotRelationField,
    flatten_fieldsets,
    get_fields_from_path,
    label_for_field,
    unquote,
)
from django.contrib.admin.views.main import IGNORED_PARAMS
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, PermissionDenied
from django.db.models import Field
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.template_utils import HistoricalRecordContextHelper

from . import access
from .admin_site import purpose_denied_response
from .context import current_context
from .forms import translate_null_character_errors
from .masking import mask_value
from .selectors import user_may_declare

NONE = "none"
ALLOWED = "allowed"
DENIED = "denied"

REASON_FIELD = "change_reason"

# Refused URL lookups are reported where Django reports them when it answers 400 itself.
security_log = logging.getLogger("django.security.DisallowedModelAdminLookup")

# What a list filter's links put after a field's path (Django's FieldListFilter classes: choices,
# booleans, related objects, dates, empty/not empty). Under a purpose a declared filter on a
# personal field accepts these; pattern lookups (startswith, contains, regex, …) never.
FILTER_LOOKUPS = frozenset(
    {"", "exact", "isnull", "isempty", "in", "gte", "gt", "lt", "lte", "year", "month", "day"}
)

# Access vetoes: functions ``(customer_ids=, purpose=) -> set of vetoed ids`` registered by apps
# (``rights`` vetoes restricted customers). A vetoed customer's data is refused even under an
# allowed purpose, with a ``denied`` row, on every page of every admin using the mixin.
ACCESS_VETOES: list[Callable[..., set[int]]] = []


def register_access_veto(veto: Callable[..., set[int]]) -> Callable[..., set[int]]:
    """Register ``veto`` (called with ``customer_ids=`` and ``purpose=``); return it."""
    if veto not in ACCESS_VETOES:
        ACCESS_VETOES.append(veto)
    return veto


# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet: text that could start a formula gets a ``'``."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        translate_null_character_errors(self)


class _MaskedTitle:
    """Stands for an object in templates, with its ``str`` masked."""

    def __init__(self, obj: Any, text: str) -> None:
        self._obj = obj
        self._text = text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __str__(self) -> str:
        return self._text


class _MaskingHistoryHelper(HistoricalRecordContextHelper):
    def __init__(self, *args: Any, masked: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.masked = masked

    def format_delta_change(self, change: Any) -> Any:
        formatted = super().format_delta_change(change)
        if change.field not in self.masked:
            return formatted
        return dataclasses.replace(
            formatted,
            old=mask_value(change.field, change.old),
            new=mask_value(change.field, change.new),
        )


class PersonalDataAdminMixin:
    """Mask, refuse or log every admin access to customers' personal data, by declared purpose.

    Declarative attributes:

    ``personal_fields``
        Names (fields, properties or ``__`` paths, as used in ``list_display``/``fieldsets``) whose
        values are a person's data. Masked without a purpose; named in access-log rows by their
        last part (``user__email`` → ``email``). Business name is not personal (docs/POLICY.md).
    ``subject_path``
        Path from a row to the id of the customer whose data it is (``"pk"`` for ``Customer``,
        ``"customer_id"`` for a row with a ``customer`` foreign key). A row whose path leads
        nowhere (a staff login) holds no customer's data: shown as is, not logged.
    ``allowed_purposes``
        Purpose codes under which this admin may show personal data; ``None`` means any of the five.
    ``personal_paths``
        Model field paths holding personal data that ``personal_fields`` names only through a
        property or an admin method (customers' ``email`` is ``user__email``). URL filters and
        searches that reach them obey the same rules as those on ``personal_fields``.
    ``title_field``
        The personal field ``str(obj)`` shows, if any (``"email"`` for logins): masked in titles,
        breadcrumbs and the delete page without a purpose.
    ``autocomplete_display``
        Fields joined into the autocomplete text (masked without a purpose); ``None``: ``str(obj)``.
    ``export_fields``
        ``{purpose code: (field, ...)}``: the columns the CSV/XLSX export gives under each purpose
        (only what that purpose needs). Empty: no export actions. A purpose not in the map cannot
        export.
    ``history_related``
        Paths from an object to related objects with history whose rows its history page shows
        among its own, by date, masked and logged alike (a customer's ``user``: the email lives
        on the login).

    The mixin also adds the required "reason for this change" (``ReasonFormMixin``) to the change
    form and copies it into the access context, from which the history row takes it.
    """

    personal_fields: ClassVar[Sequence[str]] = ()
    personal_paths: ClassVar[Sequence[str]] = ()
    subject_path: ClassVar[str] = "pk"
    allowed_purposes: ClassVar[set[str] | frozenset[str] | None] = None
    title_field: ClassVar[str | None] = None
    autocomplete_display: ClassVar[Sequence[str] | None] = None
    export_fields: ClassVar[dict[str, Sequence[str]]] = {}
    history_related: ClassVar[Sequence[str]] = ()

    show_full_result_count = False
    # With SimpleHistoryAdmin: field-level diffs plus purpose, reference, reason and channel.
    object_history_list_template = "consent/admin/object_history_list.html"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._masked_names = {
            name: self._make_masked_display(name) for name in self.personal_fields
        }

    # -- the purpose ---------------------------------------------------------------------------

    def purpose_state(self, request: HttpRequest) -> str:
        """Return ``"none"``, ``"allowed"`` or ``"denied"`` for the request's declared purpose."""
        ctx = getattr(request, "access_context", None)
        purpose = ctx.purpose if ctx is not None else None
        if not purpose:
            return NONE
        granted = getattr(request, "_purpose_granted", None)
        if granted is None or granted[0] != purpose:
            granted = (purpose, user_may_declare(request.user, purpose))
            request._purpose_granted = granted
        if not granted[1]:
            return DENIED
        if self.allowed_purposes is not None and purpose not in self.allowed_purposes:
            return DENIED
        return ALLOWED

    def purpose_denied_reason(self, request: HttpRequest) -> str:
        """Return the sentence the 403 page shows for a refused purpose."""
        purpose = request.access_context.purpose
        if not user_may_declare(request.user, purpose):
            return _(
                "None of your roles grants the purpose you declared, so you may not use "
                "customers' personal data for it. End it and declare one of your purposes."
            )
        return _(
            "The purpose you declared does not cover %(things)s. Change your purpose to one "
            "that does."
        ) % {"things": self.model._meta.verbose_name_plural}

    def purpose_refused(
        self,
        request: HttpRequest,
        *,
        action: str,
        subjects: Iterable[Any] = (None,),
        reason: str | None = None,
    ) -> TemplateResponse:
        """Log a ``denied`` row per subject and return the 403 page explaining why."""
        access.access_denied(subjects=list(subjects), action=action)
        return purpose_denied_response(
            request,
            reason=reason or self.purpose_denied_reason(request),
            purpose=request.access_context.purpose,
            site=self.admin_site,
        )

    def vetoed_ids(self, request: HttpRequest, ids: Iterable[Any]) -> set[int]:
        """Return those customer ids a registered veto forbids under the declared purpose."""
        ids = [i for i in ids if i is not None]
        if not ids or not ACCESS_VETOES:
            return set()
        purpose = request.access_context.purpose
        vetoed: set[int] = set()
        for veto in ACCESS_VETOES:
            vetoed |= veto(customer_ids=ids, purpose=purpose)
        return vetoed

    def veto_refusal(self, request: HttpRequest, obj: Any, *, action: str) -> Any:
        """Return the refusal page (and log ``denied``) if a veto covers ``obj``, else None."""
        subject = self.subject_id(obj) if obj is not None else None
        if subject is None or self.purpose_state(request) != ALLOWED:
            return None
        if not self.vetoed_ids(request, [subject]):
            return None
        return self.purpose_refused(
            request,
            action=action,
            subjects=[subject],
            reason=_(
                "This customer has restricted the processing of their data: it may be used "
                "only to resolve complaints and questions."
            ),
        )

    def purpose_required(self, request: HttpRequest, *, message: str) -> TemplateResponse:
        """Return the 403 page for an action that needs a declared purpose (nothing is logged)."""
        return purpose_denied_response(request, reason=message, purpose="", site=self.admin_site)

    # -- subjects and fields -------------------------------------------------------------------

    def subject_id(self, obj: Any) -> int | None:
        """Return the id of the customer whose data ``obj`` holds, or None (not a customer's)."""
        return resolve(obj, self.subject_path)

    def subject_ids(self, objs: Iterable[Any]) -> list[int]:
        ids = (self.subject_id(obj) for obj in objs)
        return list(dict.fromkeys(i for i in ids if i is not None))

    def personal_in(self, names: Iterable[Any]) -> list[str]:
        """Return the access-log names of the personal fields among ``names``."""
        return sorted({leaf(n) for n in names if isinstance(n, str) and n in self.personal_fields})

    def log_access(
        self,
        request: HttpRequest,
        objs: Iterable[Any],
        *,
        action: str,
        fields: Any,
        always: bool = False,
    ) -> None:
        """Queue one access-log row per customer among ``objs`` that disclosed personal fields.

        With ``always`` a row is queued even when no personal field was shown (deleting a
        customer's record uses their data whatever the confirmation page shows).
        """
        subjects = self.subject_ids(objs)
        if subjects and (fields or always):
            access.access_record(subjects=subjects, action=action, fields=fields)

    def _make_masked_display(self, name: str) -> Any:
        def masked(obj: Any) -> str:
            value = resolve(obj, name)
            if self.subject_id(obj) is None:
                return "" if value is None else str(value)
            return mask_value(leaf(name), "" if value is None else str(value))

        masked.short_description = self.field_label(name)
        # No admin_order_field: sorting by a masked column would reveal what the mask hides.
        attr = f"masked__{name}"
        setattr(self, attr, masked)
        return attr

    def field_label(self, name: str) -> str:
        """Return a column's label; for a ``__`` path, the verbose name of the field it ends at."""
        if "__" in name:
            try:
                return capfirst(get_fields_from_path(self.model, name)[-1].verbose_name)
            except (FieldDoesNotExist, NotRelationField):
                pass
        return capfirst(label_for_field(name, self.model, self))

    def masked_str(self, obj: Any) -> str:
        """Return ``str(obj)`` with its personal part masked (see ``title_field``)."""
        text = str(obj)
        if self.title_field and self.subject_id(obj) is not None:
            value = resolve(obj, self.title_field)
            if value:
                text = text.replace(str(value), mask_value(leaf(self.title_field), str(value)))
        return text

    def _mask_titles(self, response: Any, obj: Any) -> None:
        context = getattr(response, "context_data", None)
        if context:
            self.mask_title_context(context, obj)

    def mask_title_context(self, context: dict[str, Any], obj: Any) -> None:
        """Replace ``str(obj)`` by its masked form in a page's titles, breadcrumbs and lists."""
        if not self.title_field or obj is None or self.subject_id(obj) is None:
            return
        text, masked = str(obj), self.masked_str(obj)

        def swap(value: Any) -> Any:
            if isinstance(value, str):
                return value.replace(text, masked).replace(escape(text), escape(masked))
            if isinstance(value, list):
                return [swap(v) for v in value]
            return value

        for key in ("original", "object"):
            value = context.get(key)
            if isinstance(value, self.model) and value.pk == obj.pk:
                context[key] = _MaskedTitle(value, masked)
        for key in ("title", "subtitle", "object_name", "deleted_objects", "protected"):
            if key in context:
                context[key] = swap(context[key])

    def render_history_view(self, request: HttpRequest, template: str, context: Any, **kw: Any):
        if context.get("history_masked"):
            self.mask_title_context(context, context.get("object"))
        return super().render_history_view(request, template, context, **kw)

    def shows_clear_values(self) -> bool:
        """Return True while rendering under an allowed purpose (refused ones never render)."""
        ctx = current_context()
        return bool(ctx is not None and ctx.purpose)

    def action_checkbox(self, obj: Any) -> Any:
        """The row's action checkbox, labelled with the masked name without a purpose."""
        if self.shows_clear_values() or not self._is_personal(obj):
            return super().action_checkbox(obj)
        return super().action_checkbox(_MaskedTitle(obj, self.masked_str(obj)))

    def _log_safe(self, obj: Any) -> Any:
        return _MaskedTitle(obj, self.masked_str(obj)) if self._is_personal(obj) else obj

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        """Log to Django's admin history with the object's name masked (it keeps no values)."""
        return super().log_addition(request, self._log_safe(obj), message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        """Log to Django's admin history with the object's name masked (it keeps no values)."""
        return super().log_change(request, self._log_safe(obj), message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        """Log deletions to Django's admin history with the objects' names masked."""
        return super().log_deletions(request, [self._log_safe(obj) for obj in queryset])

    def _is_personal(self, obj: Any) -> bool:
        return obj is not None and self.subject_id(obj) is not None

    # -- URL filters and search ----------------------------------------------------------------

    def personal_model_fields(self) -> frozenset[Field]:
        """Return the model fields that hold personal data, as this site's admins declare them.

        This admin's ``personal_fields`` and ``personal_paths`` that name model fields, and those
        of every other admin of the site using the mixin: a customer's phone stays personal when
        reached from another model (``customer__phone``). Properties and admin methods are not
        fields and cannot be filtered on; ``personal_paths`` names the fields behind them.
        """
        cached = getattr(self, "_personal_model_fields", None)
        if cached is not None:
            return cached
        admins = [self] + [
            other
            for other in self.admin_site._registry.values()
            if isinstance(other, PersonalDataAdminMixin) and other is not self
        ]
        found: set[Field] = set()
        for model_admin in admins:
            for name in (*model_admin.personal_fields, *model_admin.personal_paths):
                try:
                    found.add(get_fields_from_path(model_admin.model, name)[-1])
                except (FieldDoesNotExist, NotRelationField):
                    continue
        self._personal_model_fields = frozenset(found)
        return self._personal_model_fields

    def personal_field_reached(self, lookup: str) -> tuple[str, str] | None:
        """Return ``(path to the personal field, what follows it)`` if ``lookup`` reaches one.

        ``user__email__startswith`` on customers gives ``("user__email", "startswith")``;
        a lookup that reaches no personal field gives None.
        """
        fields, rest = lookup_fields(self.model, lookup)
        personal = self.personal_model_fields()
        for index, field in enumerate(fields):
            if field in personal:
                after = [f.name for f in fields[index + 1 :]] + rest
                return "__".join(f.name for f in fields[: index + 1]), "__".join(after)
        return None

    def declared_filter_paths(self, request: HttpRequest) -> set[str]:
        """Return the field paths of this admin's own filters (``list_filter``, date hierarchy)."""
        paths = {self.date_hierarchy} if self.date_hierarchy else set()
        for item in self.get_list_filter(request):
            if isinstance(item, str):
                paths.add(item)
            elif isinstance(item, (list, tuple)):
                paths.add(item[0])
        return paths

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        """Return the sidebar filters; without an allowed purpose none that reads personal data."""
        filters = super().get_list_filter(request)
        if self.purpose_state(request) == ALLOWED:
            return filters
        return [item for item in filters if not self._filter_is_personal(item)]

    def _filter_is_personal(self, item: Any) -> bool:
        if isinstance(item, (list, tuple)):
            item = item[0]
        return isinstance(item, str) and self.personal_field_reached(item) is not None

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest | None = None) -> bool:
        """Return True if the URL may filter the list by ``lookup``.

        Django lets any lookup on a model's own fields through, so ``?phone__startswith=+849`` or
        ``?contact_person__regex=^Tr`` would answer questions about the values the page masks.
        A lookup that reaches a personal field (``personal_model_fields``) is refused without an
        allowed purpose; under one it must still be one of this admin's own filters
        (``list_filter``, ``date_hierarchy``), used the way their links use it
        (``FILTER_LOOKUPS``): a purpose shows the data the page offers, it does not open ad-hoc
        pattern searches over it (the search box does that, see ``get_search_results``). Other
        lookups follow Django's rules. Django answers a refusal with
        ``DisallowedModelAdminLookup``; ``changelist_view`` turns it into a 400 page that says why.
        """
        reached = self.personal_field_reached(lookup)
        if reached is None:
            return super().lookup_allowed(lookup, value, request)
        if request is None or self.purpose_state(request) != ALLOWED:
            return False
        path, after = reached
        return path in self.declared_filter_paths(request) and after in FILTER_LOOKUPS

    def lookup_refused(self, request: HttpRequest) -> TemplateResponse:
        """Return the 400 page for a URL filter this list does not allow.

        Under a purpose, an attempt to filter personal data outside the page's filters is
        logged as ``denied``; without one nothing personal was touched and nothing is logged.
        """
        state = self.purpose_state(request)
        personal = any(
            self.personal_field_reached(key) is not None
            for key in request.GET
            if key not in IGNORED_PARAMS
        )
        if personal and state != ALLOWED:
            reason = _(
                "Filtering by customers' personal data needs a declared purpose. Search by an "
                "exact email address or phone number, or declare a purpose."
            )
        elif personal:
            reason = _("Personal data can be filtered only with the filters this page offers.")
            access.access_denied(subjects=[None], action=access.Action.SEARCH)
        else:
            reason = _("This page does not offer that filter.")
        security_log.warning(
            "Refused admin filter on %s: %s",
            self.opts.label,
            ", ".join(sorted(k for k in request.GET if k not in IGNORED_PARAMS)),
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Filter not allowed"),
            "reason": reason,
            "opts": self.opts,
            "show_declare": personal and state != ALLOWED,
        }
        return TemplateResponse(request, "consent/admin/lookup_refused.html", context, status=400)

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        """Search; without an allowed purpose only in the search fields that are not personal.

        Substring search on personal fields (``user__email``) would let staff rebuild a masked
        value one character at a time, so it needs a purpose like the value itself. Admins add
        exact matches (a normalised email or phone number) in their own ``get_search_results``.
        """
        if not search_term or self.purpose_state(request) == ALLOWED:
            return super().get_search_results(request, queryset, search_term)
        open_fields = [
            name
            for name in self.get_search_fields(request)
            if self.personal_field_reached(str(name).lstrip("^=@")) is None
        ]
        if not open_fields:
            return queryset.none(), False
        # Django's own search, on the open fields only.
        restricted = copy.copy(self)
        restricted.search_fields = open_fields
        restricted.get_search_fields = lambda request: open_fields
        return super(PersonalDataAdminMixin, restricted).get_search_results(
            request, queryset, search_term
        )

    # -- changelist ----------------------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> Sequence[Any]:
        """Return the columns, with personal ones masked unless a purpose allows them."""
        names = super().get_list_display(request)
        if self.purpose_state(request) == ALLOWED:
            return names
        return [self._masked_names.get(n, n) if isinstance(n, str) else n for n in names]

    def get_list_display_links(self, request: HttpRequest, list_display: Sequence[Any]) -> Any:
        links = super().get_list_display_links(request, list_display)
        if links is None or self.purpose_state(request) == ALLOWED:
            return links
        return [self._masked_names.get(n, n) if isinstance(n, str) else n for n in links]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Show the list; log ``list`` (or ``search``) rows for the customers shown."""
        state = self.purpose_state(request)
        action = access.Action.SEARCH if request.GET.get("q") else access.Action.LIST
        if state == DENIED:
            selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
            if request.method == "POST" and selected:
                is_export = request.POST.get("action", "").startswith("export_")
                chosen = self.model._default_manager.filter(pk__in=selected)
                return self.purpose_refused(
                    request,
                    action=access.Action.EXPORT if is_export else access.Action.CHANGE,
                    subjects=self.subject_ids(chosen) or [None],
                )
            return self.purpose_refused(request, action=action)
        try:
            response = super().changelist_view(request, extra_context)
        except (DisallowedModelAdminLookup, DisallowedModelAdminToField):
            return self.lookup_refused(request)
        context = getattr(response, "context_data", None) or {}
        if state == ALLOWED and "cl" in context:
            cl = context["cl"]
            vetoed = self.vetoed_ids(request, self.subject_ids(cl.result_list))
            if vetoed:
                access.access_denied(subjects=sorted(vetoed), action=action)
                cl.result_list = [o for o in cl.result_list if self.subject_id(o) not in vetoed]
            self.log_access(
                request,
                cl.result_list,
                action=action,
                fields=self.personal_in(cl.list_display),
            )
        return response

    # -- change form ---------------------------------------------------------------------------

    def may_edit(self, request: HttpRequest, obj: Any = None) -> bool:
        """Return True if personal data of ``obj`` may be changed now (a purpose allows it)."""
        return self.purpose_state(request) == ALLOWED or (
            obj is not None and not self._is_personal(obj)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return self.purpose_state(request) == ALLOWED
        return self.may_edit(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """Return the fieldsets: masked names when read-only, plus the reason when editable."""
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        if not self.may_edit(request, obj) or not self.has_change_permission(request, obj):
            masked = [
                (title, {**options, "fields": self._read_only_fields(request, options, obj)})
                for title, options in fieldsets
            ]
            return [fs for fs in masked if fs[1]["fields"]]
        has_reason = REASON_FIELD in getattr(self.form, "declared_fields", {})
        if has_reason and REASON_FIELD not in flatten_fieldsets(fieldsets):
            fieldsets.append((_("Reason for this change"), {"fields": [REASON_FIELD]}))
        return fieldsets

    def _read_only_fields(self, request: HttpRequest, options: Any, obj: Any) -> list[Any]:
        masking = self._is_personal(obj) and self.purpose_state(request) != ALLOWED

        def swap(name: Any) -> Any:
            if isinstance(name, (list, tuple)):
                return tuple(swap(n) for n in name if n != REASON_FIELD)
            return self._masked_names.get(name, name) if masking else name

        return [swap(f) for f in options["fields"] if f != REASON_FIELD]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.may_edit(request, obj):
            fields += [
                f for f in flatten_fieldsets(self.get_fieldsets(request, obj)) if f not in fields
            ]
        return fields

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        """Copy the change form's reason into the access context (the history row reads it)."""
        reason = form.cleaned_data.get(REASON_FIELD) if hasattr(form, "cleaned_data") else None
        if reason:
            request.access_context.reason = reason
        return super().save_form(request, form, change)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Show or save one object; log a ``view`` row when its personal data is shown."""
        state = self.purpose_state(request)
        obj = self.get_object(request, unquote(object_id))
        personal = self._is_personal(obj)
        if state == DENIED and personal:
            action = access.Action.CHANGE if request.method == "POST" else access.Action.VIEW
            return self.purpose_refused(request, action=action, subjects=[self.subject_id(obj)])
        action = access.Action.CHANGE if request.method == "POST" else access.Action.VIEW
        refusal = self.veto_refusal(request, obj, action=action) if personal else None
        if refusal is not None:
            return refusal
        response = super().change_view(request, object_id, form_url, extra_context)
        if not personal:
            return response
        if state == ALLOWED:
            if response.status_code == 200:
                self.log_access(
                    request,
                    [obj],
                    action=access.Action.VIEW,
                    fields=self.personal_in(flatten_fieldsets(self.get_fieldsets(request, obj))),
                )
        else:
            self._mask_titles(response, obj)
        return response

    # -- history -------------------------------------------------------------------------------

    def get_historical_record_context_helper(self, request: HttpRequest, historical_record: Any):
        """Return the diff formatter of one history row: masking without an allowed purpose."""
        model = getattr(historical_record, "instance_type", self.model)
        if self.purpose_state(request) == ALLOWED or self.subject_id(historical_record) is None:
            return HistoricalRecordContextHelper(model, historical_record)
        return _MaskingHistoryHelper(
            model, historical_record, masked={leaf(f) for f in self.personal_fields}
        )

    def get_history_queryset(
        self, request: HttpRequest, history_manager: Any, pk_name: str, object_id: Any
    ) -> Any:
        """Return the object's history rows, and those of its ``history_related``, newest first.

        Merged rows come as a list; each carries ``history_previous`` (the older row of the same
        object, to diff against) and related ones ``history_source`` (what they belong to).
        """
        records = super().get_history_queryset(request, history_manager, pk_name, object_id)
        if not self.history_related:
            return records
        obj = self.model._default_manager.filter(pk=object_id).first()
        if obj is None:  # deleted: its own rows only
            return records
        tracks = [list(records)]
        for path in self.history_related:
            related = resolve(obj, path)
            opts = getattr(related, "_meta", None)
            manager_name = getattr(opts, "simple_history_manager_attribute", None)
            if not manager_name:
                continue
            rows = list(getattr(related, manager_name).select_related("history_user"))
            for record in rows:
                record.history_source = self.field_label(path)
            tracks.append(rows)
        for track in tracks:
            for newer, older in zip(track, [*track[1:], None], strict=True):
                newer.history_previous = older
        return sorted(
            (record for track in tracks for record in track),
            key=lambda record: record.history_date,
            reverse=True,
        )

    def set_history_delta_changes(
        self, request: HttpRequest, historical_records: Any, foreign_keys_are_objs: bool = True
    ) -> None:
        """Give each row its field-level changes against the older row of the same object."""
        records = list(historical_records)
        if not any(hasattr(record, "history_previous") for record in records):
            return super().set_history_delta_changes(
                request, records, foreign_keys_are_objs=foreign_keys_are_objs
            )
        for record in records:
            if record.history_previous is None:
                continue
            delta = record.diff_against(
                record.history_previous, foreign_keys_are_objs=foreign_keys_are_objs
            )
            helper = self.get_historical_record_context_helper(request, record)
            record.history_delta_changes = helper.context_for_delta_changes(delta)
        return None

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        """Show the field-level history (masked without a purpose); log a ``history`` row."""
        state = self.purpose_state(request)
        obj = self.get_object(request, unquote(object_id))
        personal = self._is_personal(obj)
        if state == DENIED and personal:
            return self.purpose_refused(
                request, action=access.Action.HISTORY, subjects=[self.subject_id(obj)]
            )
        refusal = personal and self.veto_refusal(request, obj, action=access.Action.HISTORY)
        if refusal:
            return refusal
        extra = {
            **(extra_context or {}),
            "history_masked": personal and state != ALLOWED,
            "history_object_label": self.masked_str(obj) if obj is not None else "",
        }
        response = super().history_view(request, object_id, extra)
        if personal and state == ALLOWED and response.status_code == 200:
            self.log_access(
                request,
                [obj],
                action=access.Action.HISTORY,
                fields=sorted({leaf(f) for f in self.personal_fields}),
            )
        elif personal:
            self._mask_titles(response, obj)
        return response

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        """Show one past version: only under an allowed purpose (logged as ``history``)."""
        state = self.purpose_state(request)
        obj = self.get_object(request, unquote(object_id))
        if self._is_personal(obj):
            if state == DENIED:
                return self.purpose_refused(
                    request, action=access.Action.HISTORY, subjects=[self.subject_id(obj)]
                )
            if state == NONE:
                return self.purpose_required(
                    request, message=_("Declare a purpose to see a past version of this record.")
                )
            refusal = self.veto_refusal(request, obj, action=access.Action.HISTORY)
            if refusal is not None:
                return refusal
            self.log_access(
                request,
                [obj],
                action=access.Action.HISTORY,
                fields=sorted({leaf(f) for f in self.personal_fields}),
            )
        return super().history_form_view(request, object_id, version_id, extra_context)

    # -- delete --------------------------------------------------------------------------------

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        """Confirm or delete; masked and refused without a purpose, logged with one."""
        state = self.purpose_state(request)
        obj = self.get_object(request, unquote(object_id))
        personal = self._is_personal(obj)
        if personal and state == DENIED:
            return self.purpose_refused(
                request, action=access.Action.DELETE, subjects=[self.subject_id(obj)]
            )
        refusal = self.veto_refusal(request, obj, action=access.Action.DELETE) if personal else None
        if refusal is not None:
            return refusal
        if personal and state == NONE:
            if request.method == "POST":
                return self.purpose_required(
                    request, message=_("Declare a purpose before deleting personal data.")
                )
        response = super().delete_view(request, object_id, extra_context)
        if personal and state == NONE:
            self._mask_titles(response, obj)
        if personal and state == ALLOWED:
            shown = [leaf(self.title_field)] if self.title_field else []
            self.log_access(request, [obj], action=access.Action.DELETE, fields=shown, always=True)
        return response

    # -- autocomplete --------------------------------------------------------------------------

    def autocomplete_check(self, request: HttpRequest) -> None:
        """Refuse (and log) autocomplete under a purpose this admin does not allow."""
        if self.purpose_state(request) == DENIED:
            access.access_denied(subjects=[None], action=access.Action.SEARCH)
            raise PermissionDenied(self.purpose_denied_reason(request))

    def autocomplete_text(self, request: HttpRequest, obj: Any) -> str:
        """Return one autocomplete result's text: masked, or clear and logged as ``search``."""
        if self.autocomplete_display is None:
            return self.masked_str(obj) if self.purpose_state(request) != ALLOWED else str(obj)
        allowed = self.purpose_state(request) == ALLOWED or self.subject_id(obj) is None
        if allowed and self.vetoed_ids(request, [self.subject_id(obj)]):
            access.access_denied(subjects=[self.subject_id(obj)], action=access.Action.SEARCH)
            allowed = False
        parts = []
        for name in self.autocomplete_display:
            value = resolve(obj, name)
            text = "" if value is None else str(value)
            if name in self.personal_fields and not allowed:
                text = mask_value(leaf(name), text)
            parts.append(text)
        if allowed:
            self.log_access(
                request,
                [obj],
                action=access.Action.SEARCH,
                fields=self.personal_in(self.autocomplete_display),
            )
        return " — ".join(p for p in parts if p)

    # -- exports -------------------------------------------------------------------------------

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """Return the list's actions; deleting selected rows only under an allowed purpose.

        Django's ``delete_selected`` shows every selected row's name and deletes them: without
        a purpose it is not offered (a forged POST finds no such action), under one it is
        wrapped to refuse vetoed customers and to log a ``delete`` row per customer.
        """
        actions = super().get_actions(request)
        if not self.export_fields:
            actions.pop("export_csv", None)
            actions.pop("export_xlsx", None)
        if "delete_selected" in actions:
            if self.purpose_state(request) != ALLOWED:
                del actions["delete_selected"]
            else:
                func, name, description = actions["delete_selected"]
                actions["delete_selected"] = (self._logged_delete(func), name, description)
        return actions

    def _logged_delete(self, delete_selected: Callable[..., Any]) -> Callable[..., Any]:
        def action(modeladmin: Any, request: HttpRequest, queryset: Any) -> Any:
            objs = list(queryset)
            vetoed = self.vetoed_ids(request, self.subject_ids(objs))
            if vetoed:
                return self.purpose_refused(
                    request,
                    action=access.Action.DELETE,
                    subjects=sorted(vetoed),
                    reason=_(
                        "This customer has restricted the processing of their data: it may be "
                        "used only to resolve complaints and questions."
                    ),
                )
            shown = [leaf(self.title_field)] if self.title_field else []
            self.log_access(request, objs, action=access.Action.DELETE, fields=shown, always=True)
            return delete_selected(modeladmin, request, queryset)

        return action

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        """Delete the selected rows: refused for customers' data without an allowed purpose."""
        if self.purpose_state(request) != ALLOWED and self.subject_ids(queryset):
            raise PermissionDenied(_("Declare a purpose before deleting personal data."))
        super().delete_queryset(request, queryset)

    def export_columns(self, request: HttpRequest) -> list[str] | None:
        """Return the columns the declared purpose may export, or None (refused, with a message)."""
        state = self.purpose_state(request)
        if state != ALLOWED:
            self.message_user(
                request, _("Declare a purpose before exporting personal data."), messages.ERROR
            )
            return None
        columns = self.export_fields.get(request.access_context.purpose)
        if not columns:
            self.message_user(
                request,
                _("Your declared purpose does not need an export of these records."),
                messages.ERROR,
            )
            return None
        return list(columns)

    def export_rows(self, request: HttpRequest, queryset: Any, columns: list[str]):
        """Yield the header and one row per object, cells neutralised; log ``export`` rows."""
        objs = list(queryset)
        vetoed = self.vetoed_ids(request, self.subject_ids(objs))
        if vetoed:
            access.access_denied(subjects=sorted(vetoed), action=access.Action.EXPORT)
            objs = [o for o in objs if self.subject_id(o) not in vetoed]
        self.log_access(
            request, objs, action=access.Action.EXPORT, fields=self.personal_in(columns)
        )
        yield [str(self.field_label(c)) for c in columns]
        for obj in objs:
            yield [neutralize_cell(resolve(obj, c)) for c in columns]

    def _export_filename(self, ext: str) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.model._meta.model_name}-{stamp}.{ext}"

    @admin.action(description=gettext_lazy("Export selected as CSV"))
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        columns = self.export_columns(request)
        if columns is None:
            return None
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in self.export_rows(request, queryset, columns):
            writer.writerow(row)
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{self._export_filename("csv")}"'
        return response

    @admin.action(description=gettext_lazy("Export selected as Excel (XLSX)"))
    def export_xlsx(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        from openpyxl import Workbook

        columns = self.export_columns(request)
        if columns is None:
            return None
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(str(self.model._meta.verbose_name_plural)[:31])
        for row in self.export_rows(request, queryset, columns):
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{self._export_filename("xlsx")}"'
        return response

    actions: ClassVar[list[str]] = ["export_csv", "export_xlsx"]
