"""Writes of login users and customer accounts. The only code that writes their personal data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from consent import access
from consent.context import context_changed, require_context
from consent.history import bulk_update_tracked
from consent.models import PolicyVersion
from consent.services import consent_record

from .models import Customer, User
from .normalize import normalize_email, normalize_name

# The personal fields of a customer account, as named in access-log rows.
CONTACT_FIELDS = ("contact_person", "phone", "email")


@transaction.atomic
def customer_register(
    *,
    business_name: str,
    contact_person: str,
    phone: Any,
    email: str,
    password: str,
    language: str,
    policy_version: PolicyVersion,
    ip_address: str | None,
    user_agent: str,
) -> Customer:
    """Create the login, the customer account and the consent record, all or nothing.

    Runs in the open access context; from the moment the login exists it is the actor (the
    customer acting on their own data, so no purpose). The history rows give the context's
    reason, or ``signup``.
    """
    ctx = require_context()
    language = "en" if language.startswith("en") else "vi"
    user = User(email=normalize_email(email), language=language)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    ctx.actor = user  # the new customer is the actor of their own signup
    with context_changed(reason=ctx.reason or "signup"):
        user.save()
        customer = Customer(
            user=user,
            business_name=normalize_name(business_name),
            contact_person=normalize_name(contact_person),
            phone=phone,
        )
        customer.full_clean()
        customer.save()
    consent_record(
        customer=customer,
        policy_version=policy_version,
        language=language,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    access.access_record(subjects=[customer], action=access.Action.CREATE, fields=CONTACT_FIELDS)
    return customer


# No savepoint of its own: inside a request's (or the admin's) transaction an error rolls the
# whole request back anyway, and a savepoint costs two round trips on every save. A caller that
# catches its errors and goes on opens one around the call (``accounts.views.email_confirm``).
@transaction.atomic(savepoint=False)
def customer_update(
    *,
    customer: Customer,
    business_name: str | None = None,
    contact_person: str | None = None,
    phone: Any = None,
    email: str | None = None,
) -> list[str]:
    """Change a customer's account fields under the open access context.

    Saves only what changed (an unchanged account adds no history row and no write); logs a
    ``change`` access for the personal fields changed. Return the changed field names.
    Called inside a transaction and catching its errors to go on, wrap it in
    ``transaction.atomic()`` (a savepoint): an error here marks the enclosing transaction for
    rollback.
    """
    if business_name is not None:
        customer.business_name = normalize_name(business_name)
    if contact_person is not None:
        customer.contact_person = normalize_name(contact_person)
    if phone is not None:
        customer.phone = phone
    changed = customer.save_tracked()
    if email is not None:
        customer.user.email = normalize_email(email)
        if customer.user.save_tracked():
            changed.append("email")
    personal = [name for name in changed if name in CONTACT_FIELDS]
    if changed:
        access.access_record(
            subjects=[customer], action=access.Action.CHANGE, fields=personal or changed
        )
    return changed


@transaction.atomic
def customers_bulk_update(*, customers: Sequence[Customer], fields: Sequence[str]) -> int:
    """Save ``fields`` of many customers at once, with one history row and access row each.

    Customers whose ``fields`` are unchanged are skipped: no write, no history row, no access
    row. Return the number of customers changed.
    """
    for customer in customers:
        for name in fields:
            if name in ("business_name", "contact_person"):
                setattr(customer, name, normalize_name(getattr(customer, name)))
    changed = [customer for customer in customers if customer.has_changes(fields)]
    for customer in changed:
        customer.full_clean()
    count = bulk_update_tracked(changed, fields)
    personal = [name for name in fields if name in CONTACT_FIELDS] or list(fields)
    if changed:
        access.access_record(subjects=changed, action=access.Action.CHANGE, fields=personal)
    return count


@transaction.atomic
def user_update(*, user: User) -> list[str]:
    """Save a login's changed fields under the open access context (no-op if nothing changed).

    A change to a customer's login email is logged as a ``change`` access of that customer.
    Return the changed field names.
    """
    changed = user.save_tracked()
    if "email" in changed:
        customer = Customer.objects.filter(user=user).first()
        if customer is not None:
            access.access_record(subjects=[customer], action=access.Action.CHANGE, fields=["email"])
    return changed
