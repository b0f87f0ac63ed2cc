"""The dossier's built-in timeline sources: consent records, history changes and accesses.

History changes come from every registered history track (the account and login here; licences,
care requests, data-subject requests from their apps). Lines by the customer themself are marked
as self-access.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from consent.models import AccessLog, ConsentRecord

from .selectors import actor_labels, customer_changes
from .timeline import TimelineEvent, register_timeline_source


def actor_label(labels: dict[int, str], actor_id: int | None, customer: Any) -> str:
    """Return how the dossier names an actor: the customer themself, a login, or no login."""
    if not actor_id:
        return _("no login")
    if actor_id == customer.user_id:
        return _("the customer")
    return labels.get(actor_id, "")


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
        kind = kinds.get(change.kind, change.kind)
        yield TimelineEvent(
            at=change.at,
            source="history",
            kind=f"{change.label}: {kind}" if change.label else kind,
            summary=change.reason,
            actor=actor_label(labels, change.actor_id, customer),
            purpose=change.purpose,
            reference=change.reference,
            channel=change.channel,
            fields=change.fields,
            values=change.masked(),
            change_key=change.key,
            self_access=change.actor_id == customer.user_id and not change.purpose,
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
            actor=actor_label(labels, row.actor_id, customer),
            purpose=row.purpose,
            reference=row.reference,
            channel=row.channel,
            fields=tuple(name for name in row.fields.split(",") if name),
            # The one definition (consent.models.AccessLogQuerySet.self_access) for one row.
            self_access=not row.purpose and row.actor_id == customer.user_id,
        )
