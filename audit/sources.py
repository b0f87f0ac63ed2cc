"""The dossier's built-in timeline sources: consent records, history changes and accesses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from consent.models import AccessLog, ConsentRecord

from .selectors import actor_labels, customer_changes
from .timeline import TimelineEvent, register_timeline_source


@register_timeline_source("consent")
def consent_events(customer: Any, *, limit: int) -> Iterator[TimelineEvent]:
    records = (
        ConsentRecord.objects.filter(customer=customer)
        .select_related("policy_version", "purpose")
        .order_by("-recorded_at")[:limit]
    )
    for record in records:
        scope = record.purpose.name if record.purpose else _("the whole policy")
        yield TimelineEvent(
            at=record.recorded_at,
            source="consent",
            kind=record.get_kind_display(),
            summary=_("%(kind)s %(scope)s, policy version %(version)s (text shown in %(lang)s)")
            % {
                "kind": record.get_kind_display(),
                "scope": scope,
                "version": record.policy_version.label,
                "lang": record.language,
            },
            extra={"sha256": record.text_sha256},
        )


@register_timeline_source("history")
def history_events(customer: Any, *, limit: int) -> Iterator[TimelineEvent]:
    changes = sorted(customer_changes(customer), key=lambda c: c.at, reverse=True)[:limit]
    labels = actor_labels(change.actor_id for change in changes)
    kinds = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
    for change in changes:
        yield TimelineEvent(
            at=change.at,
            source="history",
            kind=kinds.get(change.kind, change.kind),
            summary=change.reason,
            actor=labels.get(change.actor_id, "") if change.actor_id else _("no login"),
            purpose=change.purpose,
            reference=change.reference,
            channel=change.channel,
            fields=change.fields,
            values=change.masked(),
            change_key=change.key,
        )


@register_timeline_source("access")
def access_events(customer: Any, *, limit: int) -> Iterator[TimelineEvent]:
    rows = list(AccessLog.objects.filter(customer_id=customer.pk).order_by("-at", "-id")[:limit])
    labels = actor_labels(row.actor_id for row in rows)
    for row in rows:
        yield TimelineEvent(
            at=row.at,
            source="access",
            kind=row.get_action_display(),
            summary=row.get_outcome_display(),
            actor=labels.get(row.actor_id, "") if row.actor_id else _("no login"),
            purpose=row.purpose,
            reference=row.reference,
            channel=row.channel,
            fields=tuple(name for name in row.fields.split(",") if name),
        )
