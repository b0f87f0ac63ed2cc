"""Sections of the personal-data export. Each app's data is one section (docs/DATA-EXPORT.md)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.utils import timezone

# A section returns (its JSON value, the names of the personal fields it discloses).
Section = Callable[[Any], tuple[Any, list[str]]]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _local_iso(value: str | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(datetime.datetime.fromisoformat(value)).isoformat()


def account_section(customer: Any) -> tuple[Any, list[str]]:
    user = customer.user
    return (
        {
            "customer_id": customer.pk,
            "business_name": customer.business_name,
            "contact_person": customer.contact_person,
            "phone": str(customer.phone) if customer.phone else "",
            "email": user.email,
            "language": user.language,
            "signed_up_at": _iso(customer.created_at),
            "last_login": _iso(user.last_login),
        },
        ["contact_person", "phone", "email"],
    )


def consents_section(customer: Any) -> tuple[Any, list[str]]:
    from consent.selectors import consent_list_for_customer

    return (
        [
            {
                "policy_version": record.policy_version.label,
                "kind": record.kind,
                "purpose": record.purpose.code if record.purpose else None,
                "recorded_at": _iso(record.recorded_at),
                "language": record.language,
                "text_sha256": record.text_sha256,
                "ip_address": record.ip_address,
                "user_agent": record.user_agent,
            }
            for record in consent_list_for_customer(customer=customer)
        ],
        [],
    )


def requests_section(customer: Any) -> tuple[Any, list[str]]:
    from .selectors import request_list_for_customer

    return (
        [
            {
                "id": request.pk,
                "kind": request.kind,
                "status": request.status,
                "reason": request.reason,
                "response": request.response,
                "filed_at": _iso(request.filed_at),
                "acknowledge_due": _iso(request.acknowledge_due),
                "acknowledged_at": _iso(request.acknowledged_at),
                "complete_due": _iso(request.complete_due),
                "extended_at": _iso(request.extended_at),
                "extension_reason": request.extension_reason,
                "closed_at": _iso(request.closed_at),
            }
            for request in request_list_for_customer(customer=customer)
        ],
        ["reason", "response"],
    )


def access_log_section(customer: Any) -> tuple[Any, list[str]]:
    from .selectors import access_log_for_customer, describe_access_rows

    result = {}
    for key, own in (("by_staff", False), ("by_you", True)):
        rows = describe_access_rows(access_log_for_customer(customer=customer, self_access=own))
        result[key] = [
            {
                # The page shows local time; the file keeps UTC like every other time in it.
                "at": _iso(row["at"].astimezone(datetime.UTC)),
                "purpose": row["purpose_code"],
                "action": row["action_code"],
                "fields": row["fields"],
                "channel": row["channel"],
                "outcome": row["outcome_code"],
                "role": str(row["role"]),
            }
            for row in rows
        ]
    return result, []


@dataclass(frozen=True)
class SectionSpec:
    name: str
    section: Section
    app_label: str | None = None
    title: Any = None
    template: str | None = None
    display: Callable[[Any], Any] | None = None


_SECTIONS: list[SectionSpec] = [
    SectionSpec("account", account_section),
    SectionSpec("consents", consents_section),
    SectionSpec("requests", requests_section),
    SectionSpec("access_log", access_log_section),
]


def register_section(
    name: str,
    section: Section,
    *,
    app_label: str | None = None,
    title: Any = None,
    template: str | None = None,
    display: Callable[[Any], Any] | None = None,
) -> None:
    """Add a section to the export (skipped while ``app_label`` is not installed).

    With a ``title`` and ``template`` the section is also shown on My data and the printable
    page: the template gets ``value`` (``display(value)`` if given, e.g. codes turned into words).
    """
    if any(spec.name == name for spec in _SECTIONS):
        return
    _SECTIONS.append(SectionSpec(name, section, app_label, title, template, display))


def _installed() -> list[SectionSpec]:
    return [s for s in _SECTIONS if s.app_label is None or apps.is_installed(s.app_label)]


def export_sections() -> list[tuple[str, Section]]:
    return [(spec.name, spec.section) for spec in _installed()]


def page_sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the sections shown as pages of their own: title, template and display value."""
    return [
        {
            "name": spec.name,
            "title": spec.title,
            "template": spec.template,
            "value": spec.display(data[spec.name])
            if spec.display and data[spec.name] is not None
            else data[spec.name],
        }
        for spec in _installed()
        if spec.template and spec.name in data
    ]


def with_labels(data: dict[str, Any]) -> dict[str, Any]:
    """Return the export with ``*_label`` keys in the active language (for the printable page)."""
    from consent.models import AccessLog, ConsentRecord, Purpose

    from .models import DataSubjectRequest

    purposes = {p.code: p.name for p in Purpose.objects.all()}
    kinds = dict(DataSubjectRequest.Kind.choices)
    statuses = dict(DataSubjectRequest.Status.choices)
    consent_kinds = dict(ConsentRecord.Kind.choices)
    actions = dict(AccessLog.Action.choices)
    labelled = dict(data)
    labelled["consents"] = [
        {
            **c,
            "kind_label": consent_kinds.get(c["kind"], c["kind"]),
            "purpose_label": purposes.get(c["purpose"], "") if c["purpose"] else "",
        }
        for c in data["consents"]
    ]
    labelled["requests"] = [
        {
            **r,
            "kind_label": kinds.get(r["kind"], r["kind"]),
            "status_label": statuses.get(r["status"], r["status"]),
        }
        for r in data["requests"]
    ]
    labelled["access_log"] = {
        key: [
            {
                **row,
                # The printable page shows the access log in local time, like its own page.
                "at": _local_iso(row["at"]),
                "purpose_label": purposes.get(row["purpose"], row["purpose"]),
                "action_label": actions.get(row["action"], row["action"]),
            }
            for row in rows
        ]
        for key, rows in data["access_log"].items()
    }
    return labelled
