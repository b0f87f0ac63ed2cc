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


def _latest_purpose_choice(purpose_code: str, customer_ref: Any) -> Any:
    from django.db.models import Subquery

    return Subquery(
        ConsentRecord.objects.filter(customer=customer_ref, purpose__code=purpose_code)
        .order_by("-recorded_at", "-id")
        .values("kind")[:1]
    )


def consent_allows(*, customer: Any, purpose_code: str) -> bool:
    """Return whether the customer currently consents to the purpose.

    They do unless their newest record for that purpose is a withdrawal (a later acceptance of the
    same purpose switches it back on).
    """
    latest = (
        ConsentRecord.objects.filter(customer=customer, purpose__code=purpose_code)
        .order_by("-recorded_at", "-id")
        .values_list("kind", flat=True)
        .first()
    )
    return latest != ConsentRecord.Kind.WITHDRAWN


def consent_filter_allowed(
    queryset: QuerySet, *, purpose_code: str, customer_field: str = "pk"
) -> QuerySet:
    """Keep the rows whose customer currently consents to the purpose (see ``consent_allows``).

    ``customer_field`` names the customer on the queryset's model: ``"pk"`` for customers,
    ``"customer"`` for a model with a customer foreign key.
    """
    from django.db.models import OuterRef, Q

    annotated = queryset.annotate(
        _purpose_choice=_latest_purpose_choice(purpose_code, OuterRef(customer_field))
    )
    return annotated.filter(
        Q(_purpose_choice__isnull=True) | ~Q(_purpose_choice=ConsentRecord.Kind.WITHDRAWN)
    )
