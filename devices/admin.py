"""Staff admin for devices, permission states and app tokens.

Device data is personal: through ``PersonalDataAdminMixin`` it is shown only under the purposes
``customer_care`` and ``licensing`` (with access-log rows), masked without a purpose and refused
under any other. Everything is read-only except revoking app tokens, which calls the service.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from consent.admin_mixins import PersonalDataAdminMixin

from . import services
from .models import ApiToken, Device, DevicePermission
from .selectors import with_last_call

DEVICE_PURPOSES = frozenset({"customer_care", "licensing"})


class ReadOnlyMixin:
    """Devices and permission states are written only by the app, through the API."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        names = [f.name for f in self.model._meta.fields]
        return [*names, *getattr(self, "extra_readonly", ())]


@admin.register(Device)
class DeviceAdmin(ReadOnlyMixin, PersonalDataAdminMixin, SimpleHistoryAdmin):
    personal_fields = (
        "model",
        "install_id",
        "os_version",
        "app_version",
        "permissions_summary",
        "features_off_summary",
    )
    subject_path = "customer_id"
    allowed_purposes = DEVICE_PURPOSES
    extra_readonly = ("seen", "permissions_summary", "features_off_summary")

    list_display = [
        "id",
        "customer",
        "platform",
        "model",
        "app_version",
        "registered_at",
        "seen",
        "unregistered_at",
        "features_off_summary",
    ]
    list_select_related = ["customer"]
    list_filter = ["platform", ("unregistered_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__business_name"]
    ordering = ["-registered_at", "-id"]
    sortable_by = ["id", "registered_at"]
    fieldsets = [
        (None, {"fields": ["customer", "platform", "model", "install_id"]}),
        (_("Versions"), {"fields": ["os_version", "app_version"]}),
        (_("Dates"), {"fields": ["registered_at", "seen", "unregistered_at"]}),
        (_("Permissions"), {"fields": ["permissions_summary", "features_off_summary"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return with_last_call(super().get_queryset(request).prefetch_related("permissions"))

    @admin.display(description=_("last seen"))
    def seen(self, obj: Device) -> str:
        """The app's newest call about the device (a repeated report writes nothing to it)."""
        return formats.localize(timezone.localtime(obj.seen_at))


@admin.register(DevicePermission)
class DevicePermissionAdmin(ReadOnlyMixin, PersonalDataAdminMixin, SimpleHistoryAdmin):
    personal_fields = ("state", "observed_at", "source")
    subject_path = "device__customer_id"
    allowed_purposes = DEVICE_PURPOSES

    list_display = ["device", "name", "state", "observed_at", "source"]
    list_select_related = ["device"]
    list_filter = ["name", "state", "source"]
    ordering = ["device", "name"]
    sortable_by = ["device", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
    personal_fields = ("user__email",)
    subject_path = "user__customer__pk"
    allowed_purposes = DEVICE_PURPOSES
    title_field = None

    list_display = ["prefix", "user__email", "name", "created_at", "expires_at", "revoked_at"]
    list_select_related = ["user", "user__customer", "revoked_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    ordering = ["-created_at", "-id"]
    sortable_by = ["created_at", "expires_at"]
    fields = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at", "revoked_by"]
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected app tokens"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Revoke the selected tokens (logged on each customer as a change of ``api_token``)."""
        count = sum(
            services.api_token_revoke(token=token, actor=request.user)
            for token in queryset.select_related("user", "user__customer")
        )
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )
