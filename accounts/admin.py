"""Staff admin for customer accounts and logins. Thin: writes go through services."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from consent.context import require_context
from security.locking import OptimisticLockAdminMixin

from . import services
from .forms import clean_name
from .models import Customer, User
from .normalize import normalize_email


def normalize_search_term(term: str) -> list[str]:
    """Return the forms of a search term worth matching: as typed, and as E.164 if it is a phone."""
    terms = [term]
    try:
        number = phonenumbers.parse(term, "VN")
    except phonenumbers.NumberParseException:
        return terms
    if phonenumbers.is_possible_number(number):
        terms.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return terms


class ReasonFormMixin(forms.ModelForm):
    """Adds the reason for a change, recorded in the history row."""

    change_reason = forms.CharField(
        label=_("Reason for this change"),
        max_length=100,
        required=True,
        help_text=_("Recorded in the change history, for example a ticket number."),
    )


class CustomerAdminForm(ReasonFormMixin):
    class Meta:
        model = Customer
        fields = ["business_name", "contact_person", "phone"]

    def clean_business_name(self) -> str:
        return clean_name(self.cleaned_data["business_name"])

    def clean_contact_person(self) -> str:
        return clean_name(self.cleaned_data["contact_person"])


class PolicyVersionFilter(admin.SimpleListFilter):
    title = _("accepted policy version")
    parameter_name = "policy"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from consent.selectors import policy_list

        return [(v.label, v.label) for v in policy_list()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(
                consents__policy_version__label=self.value(), consents__kind="accepted"
            ).distinct()
        return queryset


@admin.register(Customer)
class CustomerAdmin(OptimisticLockAdminMixin, SimpleHistoryAdmin):
    form = CustomerAdminForm
    list_display = ["business_name", "contact_person", "phone", "user", "created_at"]
    list_select_related = ["user"]
    list_filter = [("created_at", admin.DateFieldListFilter), PolicyVersionFilter]
    search_fields = ["business_name", "user__email", "=phone"]
    ordering = ["-created_at", "-id"]
    list_per_page = 100
    show_full_result_count = False
    history_list_display = ["history_purpose", "history_reference", "history_change_reason"]
    readonly_fields = ["user", "created_at"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Match business name and email as typed, and phone numbers typed in any format."""
        term = search_term.strip()
        if not term:
            return queryset, False
        results, may_have_duplicates = super().get_search_results(request, queryset, term)
        forms_of_term = normalize_search_term(term)
        if len(forms_of_term) > 1:
            results = results | queryset.filter(phone=forms_of_term[1])
        if "@" in term:
            results = results | queryset.filter(user__email__iexact=normalize_email(term))
        return results, may_have_duplicates

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Customers sign up themselves; staff never create an account on a customer's behalf.
        return False

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        require_context().reason = form.cleaned_data.get("change_reason", "")
        services.customer_update(customer=obj)


class UserAddForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserAdminForm(ReasonFormMixin):
    class Meta:
        model = User
        fields = ["email", "language", "is_active", "is_staff", "is_superuser", "groups"]


@admin.register(User)
class UserAdmin(OptimisticLockAdminMixin, SimpleHistoryAdmin, DjangoUserAdmin):
    form = UserAdminForm
    add_form = UserAddForm
    list_display = ["email", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email"]
    ordering = ["email"]
    filter_horizontal = ["groups", "user_permissions"]
    fieldsets = [
        (None, {"fields": ["email", "password", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
        (_("Change"), {"fields": ["change_reason"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]
    history_list_display = ["history_purpose", "history_reference", "history_change_reason"]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        require_context().reason = form.cleaned_data.get("change_reason", "")
        if change:
            obj.save_tracked()
        else:
            super().save_model(request, obj, form, change)
