"""The admin history pages of personal data: field-level diffs, masked without a purpose."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.admin.utils import unquote
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from simple_history.template_utils import HistoricalRecordContextHelper

from .. import access
from ..masking import mask_value
from .common import ALLOWED, DENIED, NONE, leaf, resolve


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


class PersonalHistoryMixin:
    """History pages of ``PersonalDataAdminMixin`` (which see)."""

    def render_history_view(self, request: HttpRequest, template: str, context: Any, **kw: Any):
        if context.get("history_masked"):
            self.mask_title_context(context, context.get("object"))
        return super().render_history_view(request, template, context, **kw)

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
