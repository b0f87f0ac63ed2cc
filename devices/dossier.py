"""The devices' lines in a customer's dossier (``audit.timeline``): each permission change.

From the permission history (simple-history): which device, which permission, the state before
and after, how the app observed it and when. Nothing else about the device or the phone is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import F, Q, Window
from django.db.models.functions import Lag
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

    # Each history row with the state before it (same device and permission); a row that kept
    # the state (an update of the time or source alone) is no change. Done in the database,
    # newest first and bounded: an active customer's devices have tens of thousands of rows.
    previous = Window(
        Lag("state"),
        partition_by=[F("device_id"), F("name")],
        order_by=[F("history_date").asc(), F("history_id").asc()],
    )
    records = (
        DevicePermission.history.filter(device__customer_id=customer.pk)
        .annotate(old_state=previous)
        .filter(Q(old_state__isnull=True) | ~Q(old_state=F("state")) | ~Q(history_type="~"))
        .select_related("device")
        .order_by("-history_date", "-history_id")[:limit]
    )
    changes = [(record, record.old_state) for record in records]
    labels = actor_labels(record.history_user_id for record, _old in changes)
    for record, old in changes:
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
