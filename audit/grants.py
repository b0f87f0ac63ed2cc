"""Snapshots of the purposes each login is granted, so "granted at that time" can be answered.

Grants change through group membership (``User.groups``), a purpose's groups (``Purpose.groups``),
group deletion and the superuser/active flags. Each such change writes, for every login it affects,
a ``GrantSnapshot`` with the full set of purposes that login holds from then on (only when it
differs from the login's previous snapshot). The receivers below are the one hook point: the Django
admin changes groups directly, without a service to call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.utils import timezone

from consent.purposes import COMPLIANCE_REVIEWER

from .models import GrantSnapshot


def _encode(codes: Iterable[str]) -> str:
    return "," + ",".join(sorted(set(codes))) + "," if codes else ","


def current_grants(user_ids: Iterable[int]) -> dict[int, tuple[bool, bool, str]]:
    """Return {user id: (is_superuser, is_reviewer, encoded purposes)} as they stand now."""
    from consent.models import Purpose

    user_model = get_user_model()
    ids = list(user_ids)
    all_codes = list(Purpose.objects.values_list("code", flat=True))
    users = user_model.objects.filter(pk__in=ids).values_list("pk", "is_superuser", "is_active")
    codes: dict[int, set[str]] = {pk: set() for pk in ids}
    for user_id, code in Purpose.objects.filter(groups__user__in=ids).values_list(
        "groups__user", "code"
    ):
        codes[user_id].add(code)
    reviewers = set(
        user_model.objects.filter(pk__in=ids, groups__name=COMPLIANCE_REVIEWER).values_list(
            "pk", flat=True
        )
    )
    result = {}
    for pk, is_superuser, is_active in users:
        if not is_active:
            result[pk] = (False, False, _encode([]))
        elif is_superuser:
            result[pk] = (True, True, _encode(all_codes))
        else:
            result[pk] = (False, pk in reviewers, _encode(codes[pk]))
    return result


def grant_snapshot_refresh(*, user_ids: Iterable[int]) -> int:
    """Write a snapshot for each login whose grants differ from its last snapshot. Return count."""
    now = timezone.now()
    created = 0
    for user_id, (is_superuser, is_reviewer, purposes) in current_grants(user_ids).items():
        last = GrantSnapshot.objects.filter(user_id=user_id).order_by("-at", "-id").first()
        state = (is_superuser, is_reviewer, purposes)
        if last is not None and (last.is_superuser, last.is_reviewer, last.purposes) == state:
            continue
        GrantSnapshot.objects.create(
            user_id=user_id,
            at=now,
            is_superuser=is_superuser,
            is_reviewer=is_reviewer,
            purposes=purposes,
        )
        created += 1
    return created


def _user_groups_changed(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:  # user.groups.add(group)
        grant_snapshot_refresh(user_ids=[instance.pk])
    else:  # group.user_set.add(user)
        pk_set = kwargs.get("pk_set") or instance.user_set.values_list("pk", flat=True)
        grant_snapshot_refresh(user_ids=list(pk_set))


def _purpose_groups_changed(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    user_model = get_user_model()
    if not reverse:  # purpose.groups.add(group)
        groups = list(kwargs.get("pk_set") or instance.groups.values_list("pk", flat=True))
        if action == "post_clear":
            groups = list(Group.objects.values_list("pk", flat=True))
    else:  # group.purposes.add(purpose)
        groups = [instance.pk]
    users = user_model.objects.filter(groups__in=groups).values_list("pk", flat=True).distinct()
    grant_snapshot_refresh(user_ids=list(users))


def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"is_superuser", "is_active"} & set(update_fields):
        return
    if not (instance.is_superuser or instance.is_staff):
        # A customer's login holds no purposes; snapshot it only if it once held some.
        if not GrantSnapshot.objects.filter(user_id=instance.pk).exists():
            return
    grant_snapshot_refresh(user_ids=[instance.pk])


def _group_deleting(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance._audit_members = list(instance.user_set.values_list("pk", flat=True))


def _group_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    grant_snapshot_refresh(user_ids=getattr(instance, "_audit_members", []))


def connect_signals() -> None:
    from consent.models import Purpose

    user_model = get_user_model()
    m2m_changed.connect(_user_groups_changed, sender=user_model.groups.through)
    m2m_changed.connect(_purpose_groups_changed, sender=Purpose.groups.through)
    post_save.connect(_user_saved, sender=user_model)
    pre_delete.connect(_group_deleting, sender=Group)
    post_delete.connect(_group_deleted, sender=Group)
