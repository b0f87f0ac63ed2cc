"""The devices' lines in a customer's dossier (``audit.timeline``): each permission change.

From the permission history (simple-history): which device, which permission, the state before
and after, how the app observed it and when. Nothing else about the device or the phone is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DevicePermission, ObservationSource, PermissionName, PermissionState

# The access-log name of the data these lines show in clear.
DISCLOSES = ("device_permissions",)


def _label(choices: Any, value: str | None) -> str:
    if not value:
        return "∅"
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def device_permission_events(customer: Any, *, limit: int) -> Iterator[Any]:
    """Yield the newest ``limit`` permission changes on the customer's devices."""
    from audit.selectors import actor_labels
    from audit.sources import actor_label
    from audit.timeline import TimelineEvent

    records = (
        DevicePermission.history.filter(device__customer_id=customer.pk)
        .select_related("device")
        .order_by("history_date", "history_id")
    )
    changes = []
    previous: dict[tuple[int, str], str] = {}
    for record in records:
        key = (record.device_id, record.name)
        old = previous.get(key)
        previous[key] = record.state
        if old == record.state and record.history_type == "~":
            continue
        changes.append((record, old))
    changes = changes[-limit:]
    labels = actor_labels(record.history_user_id for record, _old in changes)
    for record, old in reversed(changes):
        permission = _label(PermissionName, record.name)
        yield TimelineEvent(
            at=record.history_date,
            source="devices",
            kind=_("%(permission)s: %(old)s → %(new)s")
            % {
                "permission": permission,
                "old": _label(PermissionState, old),
                "new": _label(PermissionState, record.state),
            },
            summary=_("device #%(device)s (%(platform)s), %(source)s, observed %(observed)s")
            % {
                "device": record.device_id,
                "platform": record.device.get_platform_display(),
                "source": _label(ObservationSource, record.source),
                "observed": timezone.localtime(record.observed_at).strftime("%Y-%m-%d %H:%M:%S"),
            },
            actor=actor_label(labels, record.history_user_id, customer),
            purpose=record.history_purpose,
            reference=record.history_reference,
            channel=record.history_channel,
            fields=("device_permissions",),
            discloses=DISCLOSES,
            self_access=(
                record.history_user_id == customer.user_id and not record.history_purpose
            ),
        )
