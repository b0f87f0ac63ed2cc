"""``PersonalDataAdminMixin``: purpose checks, masking and access logging on every admin page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from django.contrib.admin.exceptions import DisallowedModelAdminLookup, DisallowedModelAdminToField
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import (
    NotRelationField,
    flatten_fieldsets,
    get_fields_from_path,
    label_for_field,
    unquote,
)
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .. import access
from ..admin_site import purpose_denied_response
from ..context import current_context
from ..masking import mask_value
from ..selectors import user_may_declare
from .autocomplete import IdAutocompleteAdminMixin
from .common import (
    ALLOWED,
    DENIED,
    NONE,
    REASON_FIELD,
    _MaskedTitle,
    leaf,
    resolve,
    restriction_message,
    vetoed_customer_ids,
)
from .deletion import PersonalDeletionMixin
from .exports import PersonalExportMixin
from .history import PersonalHistoryMixin
from .lookups import PersonalLookupsMixin


class PersonalDataAdminMixin(
    PersonalLookupsMixin,
    PersonalHistoryMixin,
    PersonalDeletionMixin,
    PersonalExportMixin,
    IdAutocompleteAdminMixin,
):
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
        return vetoed_customer_ids(ids, purpose=request.access_context.purpose)

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
            reason=restriction_message(),
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

    actions: ClassVar[list[str]] = ["export_csv", "export_xlsx"]
