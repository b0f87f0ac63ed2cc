"""The customer dossier's timeline: events from pluggable sources, merged newest first.

Each source is a function ``source(customer, *, limit) -> Iterable[TimelineEvent]`` registered under
a name. Apps add theirs from their ``AppConfig.ready()``::

    from audit.timeline import TimelineEvent, register_timeline_source

    @register_timeline_source("devices")
    def device_events(customer, *, limit):
        for event in DevicePermissionEvent.objects.filter(customer=customer)[:limit]:
            yield TimelineEvent(at=event.at, source="devices", kind=_("device permission"),
                                summary=..., actor=..., purpose=...)

Sources must not disclose personal values: show masked values or field names only (a reveal is a
separate, logged action available for history changes).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TimelineSource = Callable[..., Iterable["TimelineEvent"]]

_sources: dict[str, TimelineSource] = {}


@dataclass(frozen=True)
class TimelineEvent:
    """One line of a customer's dossier."""

    at: datetime.datetime
    source: str  # the registered source name ("consent", "history", "access", ...)
    kind: str  # a short, translated label ("accepted", "change", "view")
    summary: str = ""  # translated one-line description (no personal values)
    actor: str = ""
    purpose: str = ""
    reference: str = ""
    channel: str = ""
    fields: tuple[str, ...] = ()
    # (field, old, new) with personal values masked.
    values: tuple[tuple[str, str, str], ...] = ()
    # For history changes: the key the reveal form posts ("customer:<history_id>").
    change_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def register_timeline_source(name: str) -> Callable[[TimelineSource], TimelineSource]:
    """Register ``source`` as a timeline source called ``name`` (registering again replaces it)."""

    def decorator(source: TimelineSource) -> TimelineSource:
        _sources[name] = source
        return source

    return decorator


def timeline_sources() -> dict[str, TimelineSource]:
    """Return the registered sources, by name."""
    return dict(_sources)


def timeline_build(customer: Any, *, limit: int = 500) -> list[TimelineEvent]:
    """Return the events of every source for ``customer``, newest first (``limit`` per source)."""
    events: list[TimelineEvent] = []
    for source in _sources.values():
        events.extend(source(customer, limit=limit))
    return sorted(events, key=lambda event: event.at, reverse=True)
