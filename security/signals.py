"""Session bookkeeping on login and logout, and ending sessions when privileges change.

A login already gets a new session key (Django cycles it). When a user's staff, superuser or
active flag, groups or permissions change, every session of that user ends, so new privileges
always come with a new sign-in (and a new session key), and removed ones take effect at once.
The same holds for every member of a group whose permissions or purposes change (a purpose's
groups, from either side), or that is deleted.
"""

from __future__ import annotations

import contextvars
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.dispatch import receiver

from consent.models import Purpose

from . import services
from .validators import is_staff_like, meets_staff_rules

PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "is_active")
# Users whose sessions ended during the current request (the middleware flushes its own session).
ended_user_ids: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "security_ended_user_ids", default=frozenset()
)


@receiver(user_logged_in)
def _on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from .middleware import PASSWORD_CHANGE_KEY, SESSION_ACTIVITY_KEY, SESSION_STARTED_KEY

    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[SESSION_STARTED_KEY] = now
    session[SESSION_ACTIVITY_KEY] = now
    # A login made staff after its password was set (or set under older rules) was never checked
    # against the staff rules: the sign-in form's password is the only plaintext there is. The
    # key holds the session's password hash, so any later password change lifts the requirement.
    password = request.POST.get("password") if request.method == "POST" else None
    if password and is_staff_like(user) and not meets_staff_rules(user, password):
        session[PASSWORD_CHANGE_KEY] = user.get_session_auth_hash()


@receiver(user_logged_out)
def _on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        services.session_forget(session_key=session.session_key)


def _end_sessions(user_id: int) -> None:
    services.sessions_end_for_user(user_id=user_id)
    ended_user_ids.set(ended_user_ids.get() | {user_id})


def _connect() -> None:
    user_model = get_user_model()

    @receiver(pre_save, sender=user_model, weak=False)
    def _remember_privileges(sender: Any, instance: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if instance.pk is None or (
            update_fields is not None and not set(update_fields) & set(PRIVILEGE_FIELDS)
        ):
            instance._security_old_privileges = None
            return
        old = sender._default_manager.filter(pk=instance.pk).values(*PRIVILEGE_FIELDS).first()
        instance._security_old_privileges = old

    @receiver(post_save, sender=user_model, weak=False)
    def _privileges_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        old = getattr(instance, "_security_old_privileges", None)
        if created or old is None:
            return
        if any(old[name] != getattr(instance, name) for name in PRIVILEGE_FIELDS):
            _end_sessions(instance.pk)

    def _m2m(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any,
             **kwargs: Any) -> None:
        if action == "pre_clear" and reverse:  # group.user_set.clear(): remember who
            lookup = "groups" if sender is user_model.groups.through else "user_permissions"
            instance._security_cleared_users = list(
                user_model._default_manager.filter(**{lookup: instance})
                .values_list("pk", flat=True)
            )
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if reverse:  # group.user_set.add(...): instance is the group
            user_ids = pk_set or []
            if action == "post_clear":
                user_ids = getattr(instance, "_security_cleared_users", [])
        else:
            if action != "post_clear" and not pk_set:
                return
            user_ids = [instance.pk]
        for user_id in user_ids:
            _end_sessions(user_id)

    m2m_changed.connect(_m2m, sender=user_model.groups.through, weak=False,
                        dispatch_uid="security_groups_changed")
    m2m_changed.connect(_m2m, sender=user_model.user_permissions.through, weak=False,
                        dispatch_uid="security_permissions_changed")

    def _end_group_members(group_ids: Any) -> None:
        members = user_model._default_manager.filter(groups__in=list(group_ids)).distinct()
        for user_id in members.values_list("pk", flat=True):
            _end_sessions(user_id)

    def _group_m2m(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any,
                   model: Any, group_side: bool, **kwargs: Any) -> None:
        """``group_side``: whether the m2m's forward side is the group (group.permissions)."""
        instance_is_group = group_side != reverse
        if action == "pre_clear" and not instance_is_group:
            # purpose.groups.clear(): the groups are unknown afterwards, so remember them now.
            lookup = "permissions" if group_side else "purposes"
            instance._security_cleared_groups = list(
                Group.objects.filter(**{lookup: instance}).values_list("pk", flat=True)
            )
            return
        if action not in ("post_add", "post_remove", "post_clear") or (
            action != "post_clear" and not pk_set
        ):
            return
        if instance_is_group:
            group_ids = [instance.pk]
        elif action == "post_clear":
            group_ids = getattr(instance, "_security_cleared_groups", [])
        else:
            group_ids = pk_set or []
        if group_ids:
            _end_group_members(group_ids)

    def _group_permissions(**kwargs: Any) -> None:
        _group_m2m(group_side=True, **kwargs)

    def _purpose_groups(**kwargs: Any) -> None:
        _group_m2m(group_side=False, **kwargs)

    def _group_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
        _end_group_members([instance.pk])

    m2m_changed.connect(_group_permissions, sender=Group.permissions.through, weak=False,
                        dispatch_uid="security_group_permissions_changed")
    m2m_changed.connect(_purpose_groups, sender=Purpose.groups.through, weak=False,
                        dispatch_uid="security_purpose_groups_changed")
    pre_delete.connect(_group_deleted, sender=Group, weak=False,
                       dispatch_uid="security_group_deleted")


_connect()
