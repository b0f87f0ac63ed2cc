"""What other apps add to My data and the export, and the personal fields they declare.

Each block is skipped while its app is not installed (``rights.registry`` and
``rights.export.register_section`` check ``app_label``).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from .export import register_section
from .registry import register


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _labels(model_label: str, field: str) -> dict[str, Any]:
    return dict(apps.get_model(model_label)._meta.get_field(field).choices or [])


# --- devices (mobile app installations and their five permissions) -------------------------

register(
    "devices.Device",
    fields=("install_id", "model", "os_version"),
    subject=lambda customer: {"customer_id": customer.pk},
)
# The name the customer gave an app token ("Phone of Lan") is theirs.
register(
    "devices.ApiToken",
    fields=("name",),
    subject=lambda customer: {"user_id": customer.user_id},
)
# Permission states name no person; declared so that the registry covers every personal model.
register(
    "devices.DevicePermission",
    fields=(),
    subject=lambda customer: {"device__customer_id": customer.pk},
)


def devices_section(customer: Any) -> tuple[Any, list[str]]:
    from devices.selectors import with_last_call

    Device = apps.get_model("devices", "Device")
    # Last seen as the pages and the API show it: the app's calls that wrote nothing count too.
    devices = with_last_call(
        Device.objects.filter(customer=customer).prefetch_related("permissions")
    )
    return (
        [
            {
                "id": device.pk,
                "install_id": device.install_id,
                "platform": device.platform,
                "model": device.model,
                "os_version": device.os_version,
                "app_version": device.app_version,
                "registered_at": _iso(device.registered_at),
                "last_seen": _iso(device.seen_at),
                "unregistered_at": _iso(device.unregistered_at),
                "permissions": [
                    {
                        "name": p.name,
                        "state": p.state,
                        "observed_at": _iso(p.observed_at),
                        "source": p.source,
                    }
                    for p in device.permissions.all()
                ],
            }
            for device in devices
        ],
        ["install_id", "model", "os_version"],
    )


def devices_display(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    platforms = _labels("devices.Device", "platform")
    names = _labels("devices.DevicePermission", "name")
    states = _labels("devices.DevicePermission", "state")
    return [
        {
            **device,
            "platform": platforms.get(device["platform"], device["platform"]),
            "permissions": [
                {
                    **p,
                    "name": names.get(p["name"], p["name"]),
                    "state": states.get(p["state"], p["state"]),
                }
                for p in device["permissions"]
            ],
        }
        for device in value
    ]


register_section(
    "devices",
    devices_section,
    app_label="devices",
    title=_("Devices and their permissions"),
    template="rights/sections/devices.html",
    display=devices_display,
)


# --- licensing (the business keeps licence records: they hold no personal value) -----------

register("licensing.Licence", fields=(), subject=lambda customer: {"customer_id": customer.pk})


def licences_section(customer: Any) -> tuple[Any, list[str]]:
    Licence = apps.get_model("licensing", "Licence")
    return (
        [
            {
                "id": licence.pk,
                "plan": licence.plan.name,
                "seats": licence.seats,
                "starts_on": _iso(licence.starts_on),
                "expires_on": _iso(licence.expires_on),
                "status": licence.status,
                "granted_at": _iso(licence.created_at),
            }
            for licence in Licence.objects.filter(customer=customer).select_related("plan")
        ],
        [],
    )


def licences_display(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statuses = _labels("licensing.Licence", "status")
    return [{**row, "status": statuses.get(row["status"], row["status"])} for row in value]


register_section(
    "licences",
    licences_section,
    app_label="licensing",
    title=_("Licences"),
    template="rights/sections/licences.html",
    display=licences_display,
)


# --- care (support requests and their messages: the customer's words are personal data) ----

register(
    "care.CareRequest", fields=("subject",), subject=lambda customer: {"customer_id": customer.pk}
)
register(
    "care.CareMessage",
    fields=("body",),
    subject=lambda customer: {"request__customer_id": customer.pk},
)


def support_section(customer: Any) -> tuple[Any, list[str]]:
    CareRequest = apps.get_model("care", "CareRequest")
    requests = CareRequest.objects.filter(customer=customer).prefetch_related("messages")
    return (
        [
            {
                "id": request.pk,
                "kind": request.kind,
                "subject": request.subject,
                "status": request.status,
                "opened_at": _iso(request.created_at),
                "resolve_by": _iso(request.due_at),
                "resolved_at": _iso(request.resolved_at),
                "closed_at": _iso(request.closed_at),
                # Internal staff notes are not data about the customer shown to them.
                "messages": [
                    {
                        "from_staff": message.from_staff,
                        "body": message.body,
                        "written_at": _iso(message.created_at),
                    }
                    for message in sorted(request.messages.all(), key=lambda m: m.created_at)
                    if not message.internal
                ],
            }
            for request in requests
        ],
        ["subject", "body"],
    )


def support_display(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = _labels("care.CareRequest", "kind")
    statuses = _labels("care.CareRequest", "status")
    return [
        {
            **row,
            "kind": kinds.get(row["kind"], row["kind"]),
            "status": statuses.get(row["status"], row["status"]),
        }
        for row in value
    ]


register_section(
    "support_requests",
    support_section,
    app_label="care",
    title=_("Support requests"),
    template="rights/sections/support.html",
    display=support_display,
)


# --- notices (what we emailed you: template, purpose and time, never a copy of the body) ----


def notices_section(customer: Any) -> tuple[Any, list[str]]:
    Notice = apps.get_model("notices", "Notice")
    return (
        [
            {
                "purpose": notice.purpose,
                "template": notice.template,
                "language": notice.language,
                "status": notice.status,
                "licence_expires_on": _iso(notice.licence_expires_on),
                "sent_at": _iso(notice.sent_at),
            }
            for notice in Notice.objects.filter(customer=customer).order_by("-claimed_at", "-id")
        ],
        [],
    )


def notices_display(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from consent.models import Purpose

    purposes = {p.code: p.name for p in Purpose.objects.all()}
    statuses = _labels("notices.Notice", "status")
    return [
        {
            **row,
            # Password resets and email confirmations serve no policy purpose: the customer
            # asked for them.
            "purpose": purposes.get(row["purpose"], row["purpose"])
            if row["purpose"]
            else _("sent at your request"),
            "status": statuses.get(row["status"], row["status"]),
        }
        for row in value
    ]


register_section(
    "notices_sent",
    notices_section,
    app_label="notices",
    title=_("Notices we sent you"),
    template="rights/sections/notices.html",
    display=notices_display,
)
