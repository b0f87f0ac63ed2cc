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
    fields=("reason", "response", "extension_reason"),
    subject=lambda customer: {"customer_id": customer.pk},
)
# The admin's change log names objects by ``str(obj)`` (a login by its email, a support request
# by its subject): ``rights.erasure`` erases those names for the objects of every model declared
# here, and django-axes' sign-in attempts under every email the login ever had.
