"""URL filters and search of the admin lists: nothing personal is matched without a purpose."""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.admin.views.main import IGNORED_PARAMS
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .. import access
from .common import ALLOWED, lookup_fields

# Refused URL lookups are reported where Django reports them when it answers 400 itself.
security_log = logging.getLogger("django.security.DisallowedModelAdminLookup")

# What a list filter's links put after a field's path (Django's FieldListFilter classes: choices,
# booleans, related objects, dates, empty/not empty). Under a purpose a declared filter on a
# personal field accepts these; pattern lookups (startswith, contains, regex, …) never.
FILTER_LOOKUPS = frozenset(
    {"", "exact", "isnull", "isempty", "in", "gte", "gt", "lt", "lte", "year", "month", "day"}
)


class PersonalLookupsMixin:
    """URL lookups, sidebar filters and search of ``PersonalDataAdminMixin`` (which see)."""

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
            if isinstance(other, PersonalLookupsMixin) and other is not self
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
        return super(PersonalLookupsMixin, restricted).get_search_results(
            request, queryset, search_term
        )
