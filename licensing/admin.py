"""Staff admin for plans and licences. Licence changes go through ``licensing.services``.

Licences are shown and changed only under the purpose ``licensing`` (``PersonalDataAdminMixin``:
masked and read-only without it, refused with a ``denied`` row under another purpose).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from consent import access
from consent.admin_mixins import ALLOWED, PersonalDataAdminMixin, ReasonFormMixin

from . import services
from .models import Licence, Plan
from .work import Restricted, require_not_vetoed


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "duration_days", "seats", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


class LicenceGrantForm(ReasonFormMixin):
    seats = forms.IntegerField(
        label=_("Seats"), min_value=1, max_value=100000, required=False,
        help_text=_("Leave empty for the plan's number of seats."),
    )
    starts_on = forms.DateField(
        label=_("Starts on"), required=False, help_text=_("Leave empty for today.")
    )

    class Meta:
        model = Licence
        fields = ["customer", "plan"]

    def clean_customer(self) -> Any:
        """Refuse (with a ``denied`` row) a customer under a data-subject restriction."""
        customer = self.cleaned_data["customer"]
        try:
            require_not_vetoed(customer_id=customer.pk, action=access.Action.CREATE)
        except Restricted as exc:
            raise ValidationError(str(exc), code="restricted") from exc
        return customer


class LicenceChangeForm(ReasonFormMixin):
    extend_days = forms.IntegerField(
        label=_("Extend by (days)"), min_value=1, max_value=3660, required=False,
        help_text=_("Leave empty to leave the expiry date as it is."),
    )

    class Meta:
        model = Licence
        fields: list[str] = []

    def clean_extend_days(self) -> int | None:
        days = self.cleaned_data.get("extend_days")
        if days and self.instance.status == Licence.Status.CANCELLED:
            raise ValidationError(_("A cancelled licence cannot be extended; grant a new one."))
        return days


@admin.register(Licence)
class LicenceAdmin(PersonalDataAdminMixin, SimpleHistoryAdmin):
    personal_fields = ()
    subject_path = "customer_id"
    allowed_purposes = frozenset({"licensing"})
    list_display = ["__str__", "customer", "plan", "seats", "starts_on", "expires_on", "status"]
    list_select_related = ["customer", "plan"]
    list_filter = ["status", "plan", ("expires_on", admin.DateFieldListFilter)]
    search_fields = ["customer__business_name"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["customer", "plan", "seats", "starts_on", "expires_on", "status",
                       "created_at"]
    actions = ["suspend", "reinstate", "cancel", "extend_by_plan"]
    list_per_page = 100

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = LicenceChangeForm if obj is not None else LicenceGrantForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["customer", "plan", "seats", "starts_on",
                                       "change_reason"]})]
        fieldsets: list[Any] = [
            (None, {"fields": ["customer", "plan", "seats", "starts_on", "expires_on", "status",
                               "created_at"]}),
        ]
        if self.purpose_state(request) == ALLOWED and obj.status != Licence.Status.CANCELLED:
            fieldsets.append((_("Extend"), {"fields": ["extend_days", "change_reason"]}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and self.purpose_state(request) == ALLOWED

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Licence, form: Any, change: bool) -> None:
        """Grant through ``licence_grant``, or extend through ``licence_extend``."""
        data = form.cleaned_data
        if not change:
            licence = services.licence_grant(
                customer=data["customer"], plan=data["plan"], seats=data.get("seats"),
                starts_on=data.get("starts_on"),
            )
            for field in Licence._meta.concrete_fields:
                setattr(obj, field.attname, getattr(licence, field.attname))
            obj._state.adding = False
        elif data.get("extend_days"):
            services.licence_extend(licence=obj, days=data["extend_days"])

    def _apply(self, request: HttpRequest, queryset: QuerySet, service: Any, done: str) -> None:
        if self.purpose_state(request) != ALLOWED:
            self.message_user(
                request, _("Declare the purpose “licence management” first."), messages.ERROR
            )
            return
        request.access_context.reason = request.access_context.reason or str(done)
        changed, refused = 0, []
        for licence in queryset.select_related("plan"):
            try:
                service(licence=licence)
            except ValidationError as exc:
                refused.append(f"{licence}: {' '.join(exc.messages)}")
            except Restricted as exc:  # the service logged the denied attempt
                refused.append(f"{licence}: {exc}")
            else:
                changed += 1
        if changed:
            self.message_user(request, _("%(count)d licence(s) changed.") % {"count": changed})
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description=_("Suspend selected licences"), permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.licence_suspend, _("suspended in the admin"))

    @admin.action(description=_("Reinstate selected licences"), permissions=["change"])
    def reinstate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.licence_reinstate, _("reinstated in the admin"))

    @admin.action(description=_("Cancel selected licences"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.licence_cancel, _("cancelled in the admin"))

    @admin.action(description=_("Extend selected licences by their plan's duration"),
                  permissions=["change"])
    def extend_by_plan(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.licence_extend, _("extended in the admin"))
