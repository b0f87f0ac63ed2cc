"""Staff admin for data-subject requests, the erasure ledger and the breach register.

Thin: every step calls a service in ``rights.services``; reading a request's text is logged.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from consent import access
from consent.admin_mixins import (
    ALLOWED,
    NONE,
    IdAutocompleteAdminMixin,
    PersonalDataAdminMixin,
    ReadOnlyAdmin,
)
from security.locking import OptimisticLockAdminMixin

from . import services
from .forms import RequestHandleForm
from .models import Breach, DataSubjectRequest, ErasureRecord

Status = DataSubjectRequest.Status


class OverdueFilter(admin.SimpleListFilter):
    title = _("clock")
    parameter_name = "clock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("overdue", _("overdue")),
            ("ack_overdue", _("acknowledgement overdue")),
            ("open", _("open, within the deadline")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        open_ = queryset.filter(status__in=DataSubjectRequest.OPEN_STATUSES)
        ack_late = Q(acknowledged_at__isnull=True, acknowledge_due__lt=now)
        late = ack_late | Q(complete_due__lt=now)
        if self.value() == "overdue":
            return open_.filter(late)
        if self.value() == "ack_overdue":
            return open_.filter(ack_late)
        if self.value() == "open":
            return open_.exclude(late)
        return queryset


def _clock(due: Any, overdue: bool) -> str:
    local = timezone.localtime(due).strftime("%d/%m/%Y %H:%M")
    if overdue:
        return format_html('<span class="rights-overdue">{} ({})</span>', local, gettext("overdue"))
    return local


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(PersonalDataAdminMixin, SimpleHistoryAdmin):
    # Rights requests are handled under "complaints" (docs/POLICY.md): the purpose that resolves
    # the customer's complaints and questions, and the one a restriction still allows.
    personal_fields = ("reason", "response")
    subject_path = "customer_id"
    allowed_purposes = frozenset({"complaints"})
    list_display = [
        "id",
        "business_name",
        "kind",
        "status",
        "filed_at",
        "acknowledge_clock",
        "complete_clock",
        "extended_at",
    ]
    list_filter = [OverdueFilter, "kind", "status"]
    list_select_related = ["customer"]
    search_fields = ["=id", "customer__business_name"]
    ordering = ["complete_due"]
    show_full_result_count = False
    readonly_fields = [
        "customer",
        "kind",
        "reason",
        "status",
        "filed_at",
        "acknowledge_due",
        "acknowledged_at",
        "complete_due",
        "extended_at",
        "extension_days",
        "extension_reason",
        "closed_at",
        "response",
        "handled_by",
    ]
    fields = readonly_fields

    class Media:
        css = {"all": ["rights/admin.css"]}

    @admin.display(description=_("business name"), ordering="customer__business_name")
    def business_name(self, obj: DataSubjectRequest) -> str:
        return obj.customer.business_name

    @admin.display(description=_("acknowledge by"), ordering="acknowledge_due")
    def acknowledge_clock(self, obj: DataSubjectRequest) -> str:
        if obj.acknowledged_at:
            return timezone.localtime(obj.acknowledged_at).strftime("%d/%m/%Y %H:%M") + " ✓"
        return _clock(obj.acknowledge_due, obj.acknowledge_overdue())

    @admin.display(description=_("complete by"), ordering="complete_due")
    def complete_clock(self, obj: DataSubjectRequest) -> str:
        if obj.closed_at:
            return timezone.localtime(obj.closed_at).strftime("%d/%m/%Y %H:%M") + " ✓"
        return _clock(obj.complete_due, obj.complete_overdue())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        handle = self.admin_site.admin_view(self.handle_view)
        return [
            path("<int:pk>/handle/", handle, name="rights_datasubjectrequest_handle"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra = {"handle_url": reverse("admin:rights_datasubjectrequest_handle", args=[object_id])}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def handle_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Take one step on a request (acknowledge, extend, complete, reject) through a service."""
        obj = get_object_or_404(DataSubjectRequest.objects.select_related("customer"), pk=pk)
        state = self.purpose_state(request)
        if state == NONE:
            return self.purpose_required(
                request, message=gettext("Declare the purpose “complaints” to handle a request.")
            )
        if state != ALLOWED:
            return self.purpose_refused(
                request, action=access.Action.CHANGE, subjects=[obj.customer_id]
            )
        refusal = self.veto_refusal(request, obj, action=access.Action.CHANGE)
        if refusal is not None:
            return refusal
        form = RequestHandleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            step = data["step"]
            try:
                if step == "acknowledge":
                    services.request_acknowledge(request=obj, actor=request.user)
                elif step == "extend":
                    services.request_extend(
                        request=obj, actor=request.user, days=data["days"], reason=data["note"]
                    )
                elif step == "complete":
                    services.request_complete(
                        request=obj, actor=request.user, response=data["note"]
                    )
                else:
                    services.request_reject(request=obj, actor=request.user, response=data["note"])
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error)
            else:
                self.message_user(request, gettext("Done."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:rights_datasubjectrequest_change", args=[obj.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "form": form,
            "title": gettext("Handle request #%(id)s") % {"id": obj.pk},
        }
        return TemplateResponse(request, "rights/admin/handle.html", context)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "customer_id",
        "user_id",
        "request",
        "approved_by_id",
        "erased_at",
        "rows_erased",
    ]
    readonly_fields = list_display



# Breach times before this are typing errors (and year 1 cannot even be stored in UTC).
EARLIEST_BREACH_TIME = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _clean_breach_time(value: Any) -> Any:
    if value is None:
        return value
    if value < EARLIEST_BREACH_TIME:
        raise ValidationError(_("Enter a time after 1 January 2000."), code="too_early")
    if value > timezone.now():
        raise ValidationError(_("This time cannot be in the future."), code="future")
    return value


class BreachForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("categories of data"),
        choices=Breach.Category.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Breach
        fields = ["detected_at", "description", "categories", "affected", "authority_notified_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and isinstance(self.initial.get("categories"), str):
            self.initial["categories"] = [c for c in self.instance.categories.split(",") if c]

    def clean_categories(self) -> str:
        return ",".join(self.cleaned_data["categories"])

    def clean_detected_at(self) -> Any:
        value = self.cleaned_data["detected_at"]
        if value > timezone.now():
            raise ValidationError(_("The detection time cannot be in the future."))
        return _clean_breach_time(value)

    def clean_authority_notified_at(self) -> Any:
        return _clean_breach_time(self.cleaned_data.get("authority_notified_at"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        detected, notified = cleaned.get("detected_at"), cleaned.get("authority_notified_at")
        if detected and notified and notified < detected:
            self.add_error(
                "authority_notified_at", _("The authority cannot be notified before detection.")
            )
        return cleaned


@admin.register(Breach)
class BreachAdmin(OptimisticLockAdminMixin, IdAutocompleteAdminMixin, admin.ModelAdmin):
    form = BreachForm
    list_display = [
        "id",
        "detected_at",
        "notify_clock",
        "authority_notified_at",
        "affected_count",
        "notified_count",
    ]
    autocomplete_fields = ["affected"]
    actions = ["notify_affected"]

    readonly_fields = ["recorded_by", "recorded_at", "notify_clock", "notified_list"]

    class Media:
        css = {"all": ["rights/admin.css"]}

    @admin.display(description=_("notify the authority by"))
    def notify_clock(self, obj: Breach) -> str:
        if obj.pk is None:
            return "—"
        due = timezone.localtime(obj.notify_due).strftime("%d/%m/%Y %H:%M")
        if obj.authority_notified_at:
            return f"{due} ✓"
        left = obj.notify_due - timezone.now()
        if left.total_seconds() < 0:
            return format_html(
                '<span class="rights-overdue">{} ({})</span>',
                due,
                gettext("overdue by %(h)d h") % {"h": -left.total_seconds() // 3600},
            )
        hours, rest = divmod(int(left.total_seconds()), 3600)
        return f"{due} ({gettext('%(h)d h %(m)d min left') % {'h': hours, 'm': rest // 60}})"

    @admin.display(description=_("affected customers"))
    def affected_count(self, obj: Breach) -> int:
        return obj.affected.count()

    @admin.display(description=_("customers notified"))
    def notified_count(self, obj: Breach) -> int:
        return obj.notifications.count()

    @admin.display(description=_("customers notified"))
    def notified_list(self, obj: Breach) -> str:
        rows = obj.notifications.select_related("customer")
        return (
            ", ".join(
                f"{n.customer.business_name} ({timezone.localtime(n.notified_at):%d/%m/%Y %H:%M})"
                for n in rows
            )
            or "—"
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Breach, form: Any, change: bool) -> None:
        services.breach_save(breach=obj, actor=request.user)

    @admin.action(
        description=_("Notify the affected customers by email"), permissions=["change"]
    )
    def notify_affected(self, request: HttpRequest, queryset: QuerySet) -> None:
        outcomes = [
            services.breach_notify_customers(breach=breach, actor=request.user)
            for breach in queryset
        ]
        notified = sum(o.notified for o in outcomes)
        closed = sum(o.skipped_closed for o in outcomes)
        failed = sum(o.failed for o in outcomes)
        self.message_user(
            request, gettext("%(n)d customers notified.") % {"n": notified}, messages.SUCCESS
        )
        if closed:
            self.message_user(
                request,
                ngettext(
                    "%(n)d affected customer was not emailed: the account is closed or erased.",
                    "%(n)d affected customers were not emailed: their accounts are closed or "
                    "erased.",
                    closed,
                )
                % {"n": closed},
                messages.WARNING,
            )
        if failed:
            self.message_user(
                request,
                ngettext(
                    "%(n)d message could not be sent; notify again to retry.",
                    "%(n)d messages could not be sent; notify again to retry.",
                    failed,
                )
                % {"n": failed},
                messages.ERROR,
            )
