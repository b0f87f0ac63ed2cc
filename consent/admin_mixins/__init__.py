"""The admin's one place for purpose checks, masking and access logging of personal data.

Apply ``PersonalDataAdminMixin`` (first in the bases) to every ``ModelAdmin`` whose pages can show
a customer's personal data, and declare what is personal::

    @admin.register(Device)
    class DeviceAdmin(PersonalDataAdminMixin, admin.ModelAdmin):
        personal_fields = ("customer__contact_person", "push_token")
        subject_path = "customer_id"              # how to reach the customer's id from a row
        allowed_purposes = {"licensing", "customer_care"}   # None: any of the five purposes
        list_display = ["customer__business_name", "customer__contact_person", "model"]

Then, on every page of that admin (changelist, search, change form, history, delete, exports,
autocomplete):

- **no purpose declared**: personal values are masked (``consent.masking``), change forms are
  read-only, deleting and exporting are refused; nothing personal is disclosed, nothing is logged;
- **a purpose the user's groups grant and the admin allows**: values are shown and one access-log
  row per customer per page is queued (``list``, ``search``, ``view``, ``history``, ``delete``,
  ``export``), naming the personal fields shown (a page showing none logs nothing, a delete
  always logs); changes are logged by the services they call;
- **any other purpose**: a 403 page that says why, and a ``denied`` row.

The package, by concern: ``mixin`` (``PersonalDataAdminMixin``: purposes, masking, change forms,
deletion, autocomplete), ``lookups`` (URL filters and search), ``history`` (history pages),
``exports`` (CSV/XLSX), ``autocomplete`` (autocomplete fields that take well-formed ids only) and
``common`` (shared names, and ``ReadOnlyAdmin`` for registers nobody edits). Import from
``consent.admin_mixins``.
"""

from .autocomplete import IdAutocompleteAdminMixin
from .common import (
    ACCESS_VETOES,
    ALLOWED,
    DENIED,
    NONE,
    REASON_FIELD,
    ReadOnlyAdmin,
    ReasonFormMixin,
    leaf,
    lookup_fields,
    register_access_veto,
    resolve,
    restriction_message,
    vetoed_customer_ids,
)
from .exports import FORMULA_TRIGGERS, neutralize_cell
from .lookups import FILTER_LOOKUPS
from .mixin import PersonalDataAdminMixin

__all__ = [
    "ACCESS_VETOES",
    "ALLOWED",
    "DENIED",
    "FILTER_LOOKUPS",
    "FORMULA_TRIGGERS",
    "IdAutocompleteAdminMixin",
    "NONE",
    "REASON_FIELD",
    "PersonalDataAdminMixin",
    "ReadOnlyAdmin",
    "ReasonFormMixin",
    "leaf",
    "lookup_fields",
    "neutralize_cell",
    "register_access_veto",
    "resolve",
    "restriction_message",
    "vetoed_customer_ids",
]
