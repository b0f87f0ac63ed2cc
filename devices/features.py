"""What each permission of clause 2 enables in the app (data, translatable).

A feature is on only while its permission is ``granted``; ``features_off`` says which are off on a
device and why (the permission's state, how and when the app observed it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import ObservationSource, PermissionName, PermissionState


@dataclass(frozen=True)
class Feature:
    code: str
    permission: str
    label: Promise


FEATURES: tuple[Feature, ...] = (
    Feature("barcode_scanning", PermissionName.CAMERA, _("Barcode and QR code scanning")),
    Feature("call_recording", PermissionName.CALLS, _("Recording when a call ends")),
    Feature("contact_import", PermissionName.CONTACTS, _("Importing contacts")),
    Feature(
        "phone_notifications",
        PermissionName.NOTIFICATIONS,
        _("Reminders and update notices on the phone"),
    ),
    Feature("synchronisation", PermissionName.INTERNET, _("Synchronisation")),
)


@dataclass(frozen=True)
class FeatureOff:
    feature: Feature
    permission: str
    state: str
    source: str | None
    observed_at: datetime | None

    @property
    def reason(self) -> str:
        """Say why the feature is off, e.g. "camera: revoked (changed in the phone's settings)"."""
        name = PermissionName(self.permission).label
        state = PermissionState(self.state).label
        if self.source:
            return _("%(permission)s: %(state)s (%(source)s)") % {
                "permission": name,
                "state": state,
                "source": ObservationSource(self.source).label,
            }
        return _("%(permission)s: %(state)s") % {"permission": name, "state": state}


def features_off(permissions: Iterable[Any] | Mapping[str, Any]) -> list[FeatureOff]:
    """Return the features off on a device, given its stored ``DevicePermission`` rows.

    A permission with no stored row has not been asked yet, so its features are off.
    """
    by_name = (
        dict(permissions) if isinstance(permissions, Mapping) else {p.name: p for p in permissions}
    )
    off = []
    for feature in FEATURES:
        perm = by_name.get(feature.permission)
        state = perm.state if perm else PermissionState.NOT_ASKED
        if state != PermissionState.GRANTED:
            off.append(
                FeatureOff(
                    feature=feature,
                    permission=feature.permission,
                    state=state,
                    source=perm.source if perm else None,
                    observed_at=perm.observed_at if perm else None,
                )
            )
    return off
