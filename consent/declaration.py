"""A staff member's declared purpose, kept in their session.

The declaration lasts until it is ended, changed, or ``ACCESS_PURPOSE_IDLE_SECONDS`` pass without
activity. ``AccessContextMiddleware`` reads it into the access context on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

SESSION_KEY = "excelcrm_access_purpose"


@dataclass(frozen=True)
class Declaration:
    purpose: str
    reference: str
    declared_at: float


def declaration_get(request: Any, *, touch: bool = True) -> Declaration | None:
    """Return the request's active declaration, ending it if it has idled out."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    data = session.get(SESSION_KEY)
    if not data:
        return None
    now = time.time()
    if now - data.get("last_seen", 0) > settings.ACCESS_PURPOSE_IDLE_SECONDS:
        del session[SESSION_KEY]
        return None
    if touch:
        data["last_seen"] = now
        session[SESSION_KEY] = data
    return Declaration(data["purpose"], data.get("reference", ""), data.get("declared_at", now))


def _apply(request: Any, purpose: str | None, reference: str) -> None:
    # The rest of this request runs under the new declaration too, not only the next ones.
    ctx = getattr(request, "access_context", None)
    if ctx is not None:
        ctx.declare(purpose, reference)


def declaration_set(request: Any, *, purpose: str, reference: str = "") -> Declaration:
    """Declare ``purpose`` (already checked against the user's groups) for this session and for
    the rest of this request."""
    now = time.time()
    request.session[SESSION_KEY] = {
        "purpose": purpose,
        "reference": reference[:200],
        "declared_at": now,
        "last_seen": now,
    }
    _apply(request, purpose, reference[:200])
    return Declaration(purpose, reference[:200], now)


def declaration_end(request: Any) -> None:
    """End the session's declaration, if any, and this request's."""
    request.session.pop(SESSION_KEY, None)
    _apply(request, None, "")
