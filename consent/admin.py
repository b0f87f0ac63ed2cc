"""Admin for the purpose registry, policy versions, consent records and the access log.

All four are read-only: purposes come from the policy (a new purpose is a new policy version),
policy versions are published (never edited) through ``policy_publish``, consent records and the
access log are append-only evidence.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from . import services
from .admin_mixins import PersonalDataAdminMixin, ReadOnlyAdmin
from .forms import PolicyPublishForm
from .models import AccessLog, ConsentRecord, PolicyVersion, Purpose


@admin.register(Purpose)
class PurposeAdmin(ReadOnlyAdmin):
    list_display = ["position", "code", "name_vi", "name_en", "roles"]
    list_display_links = ["code"]
    fields = ["code", "position", "name_vi", "name_en", "clause_vi", "clause_en", "groups"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("granted to groups"))
    def roles(self, obj: Purpose) -> str:
        return ", ".join(sorted(g.name for g in obj.groups.all()))


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Publishing is the add form (``policy_publish``); a published version is never edited."""

    form = PolicyPublishForm
    list_display = ["label", "effective_date", "published_at", "sha256_vi"]
    readonly_fields = ["sha256_vi", "sha256_en", "published_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return ["label", "effective_date", "text_vi", "text_en"]
        return [
            "label",
            "effective_date",
            "published_at",
            "text_vi",
            "sha256_vi",
            "text_en",
            "sha256_en",
        ]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PolicyVersion, form: Any, change: bool):
        """Publish through ``policy_publish`` (hashes the texts); ``obj`` becomes the new row."""
        published = services.policy_publish(
            label=form.cleaned_data["label"],
            effective_date=form.cleaned_data["effective_date"],
            text_vi=form.cleaned_data["text_vi"],
            text_en=form.cleaned_data["text_en"],
        )
        obj.__dict__.update({k: v for k, v in published.__dict__.items() if k != "_state"})
        obj._state.adding = False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(PersonalDataAdminMixin, ReadOnlyAdmin):
    personal_fields = ("ip_address", "user_agent")
    subject_path = "customer_id"
    list_display = ["recorded_at", "customer", "kind", "policy_version", "purpose", "language"]
    list_select_related = ["customer", "policy_version", "purpose"]
    list_filter = ["kind", "policy_version", "purpose", "language"]
    fields = [
        "customer",
        "kind",
        "policy_version",
        "purpose",
        "text_sha256",
        "language",
        "recorded_at",
        "ip_address",
        "user_agent",
    ]
    actions = []


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "actor_id",
        "customer_id",
        "purpose",
        "reference",
        "action",
        "fields",
        "channel",
        "outcome",
    ]
    list_filter = ["action", "outcome", "channel", "purpose"]
    search_fields = ["=customer_id", "=actor_id", "=request_id", "reference"]
    show_full_result_count = False
    list_per_page = 100
