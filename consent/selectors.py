"""Reads of purposes, policy versions and consent records."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import ConsentRecord, PolicyVersion, Purpose


def policy_current() -> PolicyVersion:
    """Return the newest published policy version."""
    return PolicyVersion.objects.latest()


def policy_get(*, label: str) -> PolicyVersion:
    """Return the policy version with this label (raises DoesNotExist)."""
    return PolicyVersion.objects.get(label=label)


def policy_list() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.all()


def purpose_list() -> QuerySet[Purpose]:
    return Purpose.objects.all()


def purposes_for_user(user: Any) -> QuerySet[Purpose]:
    """Return the purposes ``user`` may declare: the union over their groups (superusers: all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Purpose.objects.none()
    if user.is_superuser:
        return Purpose.objects.all()
    return Purpose.objects.filter(groups__user=user).distinct()


def user_may_declare(user: Any, code: str) -> bool:
    return purposes_for_user(user).filter(code=code).exists()


def consent_list_for_customer(*, customer: Any) -> QuerySet[ConsentRecord]:
    return ConsentRecord.objects.filter(customer=customer).select_related(
        "policy_version", "purpose"
    )


def consent_allows(*, customer: Any, purpose_code: str) -> bool:
    """Return True if the customer's consent currently covers ``purpose_code``.

    The customer must have accepted the policy, and their latest choice for that purpose (if
    any) must not be a withdrawal.
    """
    records = ConsentRecord.objects.filter(customer=customer)
    if not records.filter(purpose__isnull=True, kind=ConsentRecord.Kind.ACCEPTED).exists():
        return False
    latest = records.filter(purpose__code=purpose_code).order_by("-recorded_at", "-id").first()
    return latest is None or latest.kind != ConsentRecord.Kind.WITHDRAWN
