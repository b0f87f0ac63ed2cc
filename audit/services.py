"""Writes of the audit app: the reviewer-activity trail (seals and verifications: ``sealing``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from consent.context import current_context

from .models import ReviewerActivity


# No savepoint: inside a request it joins the request's transaction (one round trip, not three).
@transaction.atomic(savepoint=False)
def activity_record(
    *, actor: Any, action: str, detail: str = "", customer_id: int | None = None
) -> ReviewerActivity:
    """Record what a reviewer did (a search, export, dossier, reveal, report or check)."""
    ctx = current_context()
    return ReviewerActivity.objects.create(
        actor=actor,
        action=action,
        detail=detail[:4000],
        customer_id=customer_id,
        request_id=ctx.request_id if ctx else "",
    )
