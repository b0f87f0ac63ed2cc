"""Small helpers that make test data through the portal's own services."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group

from accounts.models import Customer, User
from accounts.services import customer_register
from consent.context import Channel, access_context
from consent.selectors import policy_current

PASSWORD = "correct-horse-battery-9"  # noqa: S105
_counter = itertools.count(1)


def make_customer(
    *,
    email: str | None = None,
    business_name: str = "Công ty TNHH Hoa Sen",
    contact_person: str = "Nguyễn Văn An",
    phone: str = "+84912345678",
    language: str = "vi",
) -> Customer:
    """Register a customer the way signup does (self-access, channel portal)."""
    n = next(_counter)
    with access_context(actor=None, channel=Channel.PORTAL):
        return customer_register(
            business_name=business_name,
            contact_person=contact_person,
            phone=phone,
            email=email or f"customer{n}@example.com",
            password=PASSWORD,
            language=language,
            policy_version=policy_current(),
            ip_address="127.0.0.1",
            user_agent="pytest",
        )


def make_staff(*, email: str, role: str | None = None, superuser: bool = False) -> User:
    """Create a staff login as an operator would (``createsuperuser``: channel command)."""
    with access_context(actor=None, channel=Channel.COMMAND):
        if superuser:
            user = User.objects.create_superuser(email, PASSWORD)
        else:
            user = User.objects.create_user(email, PASSWORD, is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user
