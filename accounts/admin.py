"""Staff admin for customer accounts and logins. Thin: writes go through services.

Masking, purpose checks and access logging come from ``consent.admin_mixins``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import phonenumbers
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, ReadOnlyPasswordHashField
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from consent.admin_mixins import ALLOWED, PersonalDataAdminMixin, ReasonFormMixin
from security.locking import OptimisticLockAdminMixin

from . import services
from .forms import clean_email_address, clean_name, clean_phone
from .models import Customer, User
from .normalize import email_equals
from .selectors import email_in_use

# What a customer export holds under each purpose: only what that purpose needs.
# Business name is not personal data (docs/POLICY.md) and identifies the row in every export.
CUSTOMER_EXPORT_FIELDS: dict[str, tuple[str, ...]] = {
    # Licences are issued to the business and sent to its contact person.
    "licensing": ("business_name", "contact_person", "email"),
    # Update notices go out by email; no name or phone needed.
    "update_notices": ("business_name", "email"),
    "renewal_notices": ("business_name", "contact_person", "email"),
    # Care and complaints may need any way of reaching the contact person.
    "customer_care": ("business_name", "contact_person", "phone", "email"),
    "complaints": ("business_name", "contact_person", "phone", "email"),
}


def search_phone(term: str) -> str | None:
    """Return the search term as an E.164 number if it can be a phone number, else None."""
    try:
        number = phonenumbers.parse(term, "VN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)




class CustomerAdminForm(ReasonFormMixin):
    email = forms.EmailField(label=_("Email"), max_length=254)

    class Meta:
        model = Customer
        fields = ["business_name", "contact_person", "phone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["email"].initial = self.instance.user.email

    def clean_business_name(self) -> str:
        return clean_name(self.cleaned_data["business_name"])

    def clean_contact_person(self) -> str:
        return clean_name(self.cleaned_data["contact_person"])

    def clean_phone(self) -> Any:
        return clean_phone(self.cleaned_data["phone"])

    def clean_email(self) -> str:
        email = clean_email_address(self.cleaned_data["email"])
        if email_in_use(email, exclude_user_id=self.instance.user_id):
            raise forms.ValidationError(
                _("This email belongs to another login."), code="email_taken"
            )
        return email


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
class CustomerAdmin(OptimisticLockAdminMixin, PersonalDataAdminMixin, SimpleHistoryAdmin):
    form = CustomerAdminForm
    personal_fields = ("contact_person", "phone", "email")
    personal_paths = ("user__email",)
    subject_path = "pk"
    autocomplete_display = ("business_name", "contact_person")
    export_fields = CUSTOMER_EXPORT_FIELDS
    # The email lives on the login: its changes belong on the customer's history page too.
    history_related = ("user",)

    list_display = ["business_name", "contact_person", "phone", "email", "created_at"]
    list_select_related = ["user"]
    list_filter = [("created_at", admin.DateFieldListFilter), PolicyVersionFilter]
    search_fields = ["business_name", "user__email", "=phone"]
    ordering = ["-created_at", "-id"]
    sortable_by = ["business_name", "contact_person", "email", "created_at"]
    list_per_page = 100
    fieldsets = [
        (None, {"fields": ["business_name", "contact_person", "phone", "email"]}),
        (_("Account"), {"fields": ["created_at"]}),
    ]
    readonly_fields = ["created_at"]

    @admin.display(description=_("email"), ordering="user__email")
    def email(self, obj: Customer) -> str:
        return obj.user.email

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Match business names as typed, and exactly a normalised email or phone number.

        Without a purpose the mixin searches business names only (substrings of emails would
        rebuild masked addresses); under an allowed purpose emails match as substrings too. A
        phone number typed in any format and an email in any case find their customer either way.
        """
        term = unicodedata.normalize("NFC", search_term).strip()
        if not term:
            return queryset, False
        results, may_have_duplicates = super().get_search_results(request, queryset, term)
        phone = search_phone(term)
        if phone:
            results = results | queryset.filter(phone=phone)
        if "@" in term:
            results = results | queryset.filter(email_equals("user__email", term))
        return results, may_have_duplicates

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Customers sign up themselves; staff never create an account on a customer's behalf.
        return False

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        """Save through ``customer_update`` (history with the reason, a ``change`` access row)."""
        services.customer_update(customer=obj, email=form.cleaned_data.get("email"))


class UserAddForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]

    def clean_email(self) -> str:
        email = clean_email_address(self.cleaned_data["email"])
        if email_in_use(email):
            raise forms.ValidationError(
                _("This email belongs to another login."), code="email_taken"
            )
        return email


class UserAdminForm(ReasonFormMixin):
    password = ReadOnlyPasswordHashField(label=_("Password"))

    class Meta:
        model = User
        fields = ["email", "language", "is_active", "is_staff", "is_superuser", "groups"]

    def clean_email(self) -> str:
        email = clean_email_address(self.cleaned_data["email"])
        if email_in_use(email, exclude_user_id=self.instance.pk):
            raise forms.ValidationError(
                _("This email belongs to another login."), code="email_taken"
            )
        return email


@admin.register(User)
class UserAdmin(
    OptimisticLockAdminMixin, PersonalDataAdminMixin, SimpleHistoryAdmin, DjangoUserAdmin
):
    form = UserAdminForm
    add_form = UserAddForm
    # A customer's login email is personal data; staff logins are not a customer's data.
    personal_fields = ("email",)
    subject_path = "customer.pk"
    title_field = "email"
    autocomplete_display = ("email",)

    list_display = ["email", "is_staff", "is_active", "date_joined"]
    list_select_related = ["customer"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email"]
    ordering = ["email"]
    filter_horizontal = ["groups", "user_permissions"]
    fieldsets = [
        (None, {"fields": ["email", "password", "language"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Match an email exactly after normalisation, and as a substring where that is allowed.

        Under an allowed purpose any login's email matches as a substring; without one only
        staff logins' (not a customer's data) do, and customers' logins only by their exact email.
        """
        term = unicodedata.normalize("NFC", search_term).strip()
        if not term:
            return queryset, False
        results, may_have_duplicates = super().get_search_results(request, queryset, term)
        if self.purpose_state(request) != ALLOWED:
            results = results | queryset.filter(customer__isnull=True, email__icontains=term)
        if "@" in term:
            results = results | queryset.filter(email_equals("email", term))
        return results, may_have_duplicates

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        """Save a changed login through ``user_update``; a new one the way Django creates it."""
        if change:
            services.user_update(user=obj)
        else:
            super().save_model(request, obj, form, change)
