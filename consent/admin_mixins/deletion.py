"""Deleting personal data from the admin: the delete page and the ``delete_selected`` action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .. import access
from .common import ALLOWED, DENIED, NONE, leaf, restriction_message


class PersonalDeletionMixin:
    """Deletion (and the list's actions) of ``PersonalDataAdminMixin`` (which see)."""

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
                    reason=restriction_message(),
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
