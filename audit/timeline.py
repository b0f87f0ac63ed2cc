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
separate, logged action available for history changes). A source that shows a value the policy
counts as personal (device permission states) names that data in ``discloses``; the dossier's
access-log row lists it.

Apps with a history of a customer's records (simple-history) register a **history track**
instead; its changes join the "history" source, masked, and the reviewer can reveal one change's
values with a reason, as for the customer's account::

    register_history_track(
        "licence", label=_("licence"), fields=("plan", "seats", "expires_on", "status"),
        records=lambda customer: Licence.history.filter(customer_id=customer.pk),
    )
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

TimelineSource = Callable[..., Iterable["TimelineEvent"]]

_sources: dict[str, TimelineSource] = {}
_tracks: dict[str, HistoryTrack] = {}


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
    # Personal data shown in clear by this line (as named in access-log rows).
    discloses: tuple[str, ...] = ()
    # An access by the customer themself (no purpose, their own login).
    self_access: bool = False


@dataclass(frozen=True)
class HistoryTrack:
    """The simple-history records of one kind of a customer's records, for the dossier.

    ``records(customer)`` returns the historical rows (any order); ``fields`` are the tracked
    fields shown (choices by their label, foreign keys by their ``str``); ``personal`` those of
    them that are masked until a reviewer reveals the change. ``label`` names one record
    ("licence"); the line shows it with the record's id.
    """

    name: str
    label: Any
    records: Callable[[Any], Any]
    fields: tuple[str, ...]
    personal: frozenset[str] = frozenset()


def register_history_track(
    name: str,
    *,
    label: Any,
    records: Callable[[Any], Any],
    fields: Sequence[str],
    personal: Sequence[str] = (),
) -> HistoryTrack:
    """Register a history track called ``name`` (registering again replaces it); return it."""
    track = HistoryTrack(
        name=name, label=label, records=records, fields=tuple(fields), personal=frozenset(personal)
    )
    _tracks[name] = track
    return track


def history_tracks() -> dict[str, HistoryTrack]:
    """Return the registered history tracks, by name, in registration order."""
    return dict(_tracks)


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
