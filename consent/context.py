"""The access context: who is acting on personal data, under which purpose, through which door.

One request-scoped value (a middleware sets it per request; commands and jobs open it with
``access_context``) read by both the data-access log and simple-history. A write of personal data
with no open context fails loudly (see ``consent.history``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User


class MissingAccessContext(RuntimeError):
    """Personal data was written or logged with no access context open."""


class Channel:
    ADMIN = "admin"
    AUDIT = "audit"
    API = "api"
    COMMAND = "command"
    PORTAL = "portal"

    choices = [
        ("admin", "admin"),
        ("audit", "audit"),
        ("api", "api"),
        ("command", "command"),
        ("portal", "portal"),
    ]


@dataclass
class AccessContext:
    """Who acts, why, and through which door; collects access-log rows until they are flushed."""

    actor: User | None
    channel: str
    purpose: str | None = None
    reference: str = ""
    reason: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ip: str | None = None
    pending: list[Any] = field(default_factory=list)

    def declare(self, purpose: str | None, reference: str = "") -> None:
        """Make ``purpose`` and ``reference`` those of the rest of the request (a staff member
        declared them, or ended a declaration with ``None``)."""
        self.purpose = purpose
        self.reference = reference

    @property
    def actor_id(self) -> int | None:
        actor = self.actor
        if actor is None or not getattr(actor, "is_authenticated", False):
            return None
        return actor.pk


_current: ContextVar[AccessContext | None] = ContextVar("excelcrm_access_context", default=None)


def current_context() -> AccessContext | None:
    """Return the open access context, or None outside one."""
    return _current.get()


def require_context() -> AccessContext:
    """Return the open access context, or raise MissingAccessContext."""
    ctx = _current.get()
    if ctx is None:
        raise MissingAccessContext(
            "Personal data touched with no access context: open one with "
            "consent.context.access_context(actor=..., purpose=..., channel=...)."
        )
    return ctx


@contextmanager
def bind_context(ctx: AccessContext) -> Iterator[AccessContext]:
    """Make ``ctx`` the current context for the duration of the block (no flushing)."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextmanager
def context_changed(**changes: Any) -> Iterator[AccessContext]:
    """Change fields of the open context (``reference``, ``reason``…) for the block only.

    For work inside a request that must be logged or recorded under its own reference or reason
    (a breach notification, an erasure) whatever the request declared; the request's values are
    back after the block, also when it raises.
    """
    ctx = require_context()
    unknown = set(changes) - {"purpose", "reference", "reason"}
    if unknown:
        raise TypeError(f"context_changed() cannot change {', '.join(sorted(unknown))}")
    previous = {name: getattr(ctx, name) for name in changes}
    for name, value in changes.items():
        setattr(ctx, name, value)
    try:
        yield ctx
    finally:
        for name, value in previous.items():
            setattr(ctx, name, value)


@contextmanager
def access_context(
    *,
    actor: User | None,
    channel: str,
    purpose: str | None = None,
    reference: str = "",
    reason: str = "",
    ip: str | None = None,
) -> Iterator[AccessContext]:
    """Open an access context outside a request and write its access-log rows when it closes.

    Rows recorded inside the block are written in one batch at the end of the block, inside the
    same transaction as the work when the block itself runs in ``transaction.atomic``.
    """
    from . import access

    ctx = AccessContext(
        actor=actor, channel=channel, purpose=purpose, reference=reference, reason=reason, ip=ip
    )
    with bind_context(ctx):
        try:
            yield ctx
        except BaseException:
            access.flush_denied(ctx)
            raise
        access.flush(ctx)
