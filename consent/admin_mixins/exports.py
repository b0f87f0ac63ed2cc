"""CSV and XLSX exports of the admin lists: only under a purpose, only what it needs."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access
from .common import ALLOWED, resolve

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


class PersonalExportMixin:
    """Export actions of ``PersonalDataAdminMixin`` (which see)."""

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
