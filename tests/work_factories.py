"""Helpers for licences, notices and care requests, made through the portal's own services."""

from __future__ import annotations

import datetime

from django.utils import timezone

from accounts.models import Customer, User
from consent.context import Channel, access_context
from licensing.models import Licence, Plan
from licensing.services import licence_grant


def make_plan(*, name: str = "Pro", duration_days: int = 365, seats: int = 5) -> Plan:
    return Plan.objects.create(name=name, duration_days=duration_days, seats=seats)


def grant(
    customer: Customer,
    plan: Plan,
    *,
    expires_in: int | None = None,
    actor: User | None = None,
) -> Licence:
    """Grant a licence under ``licensing``; ``expires_in``: days from today to its expiry."""
    today = timezone.localdate()
    starts_on = today
    if expires_in is not None:
        starts_on = today + datetime.timedelta(days=expires_in - plan.duration_days + 1)
    with access_context(actor=actor, channel=Channel.COMMAND, purpose="licensing"):
        return licence_grant(customer=customer, plan=plan, starts_on=starts_on)


def withdraw(customer: Customer, purpose_code: str, *, accept_again: bool = False) -> None:
    """Record a per-purpose withdrawal (and optionally a later acceptance) for ``customer``."""
    from consent.models import ConsentRecord, Purpose
    from consent.selectors import policy_current

    policy = policy_current()
    purpose = Purpose.objects.get(code=purpose_code)
    now = timezone.now()
    ConsentRecord.objects.create(
        customer=customer,
        policy_version=policy,
        purpose=purpose,
        kind="withdrawn",
        text_sha256=policy.sha256_vi,
        language="vi",
        recorded_at=now,
    )
    if accept_again:
        ConsentRecord.objects.create(
            customer=customer,
            policy_version=policy,
            purpose=purpose,
            kind="accepted",
            text_sha256=policy.sha256_vi,
            language="vi",
            recorded_at=now + datetime.timedelta(seconds=1),
        )


def restore_seed_data() -> None:
    """Put back what the data migrations made (purposes, roles, policy 1.0), idempotently.

    A transactional test (browser, concurrency) runs on a database that an earlier transactional
    test may have flushed; ``serialized_rollback`` clashes with the content types that the flush
    recreates, so these tests call this instead.
    """
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    importlib.import_module("consent.migrations.0002_purposes_roles_policy_v1").forwards(apps, None)
    for module in (
        "accounts.migrations.0002_role_permissions",
        "care.migrations.0002_role_permissions",
    ):
        for role, names in importlib.import_module(module).ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role)
            for name in names:
                app_label, codename = name.split(".")
                group.permissions.add(
                    Permission.objects.get(content_type__app_label=app_label, codename=codename)
                )
