"""Declarations of the personal fields of every app (see ``rights.registry``).

An app not installed is skipped, so declaring models of optional apps here is harmless.
"""

from __future__ import annotations

from .registry import register

register(
    "accounts.User",
    fields=("email",),
    subject=lambda customer: {"id": customer.user_id},
)
register(
    "accounts.Customer",
    fields=("contact_person", "phone"),
    subject=lambda customer: {"id": customer.pk},
)
register(
    "rights.DataSubjectRequest",
    fields=("reason", "response"),
    subject=lambda customer: {"customer_id": customer.pk},
)
# The admin's own change log names a login by its email (str(User)).
register(
    "admin.LogEntry",
    fields=("object_repr",),
    subject=lambda customer: {"content_type__model": "user", "object_id": str(customer.user_id)},
    history=False,
)
