"""Helpers to read back access-log rows and declarations in tests."""

from __future__ import annotations

import time

from consent.declaration import SESSION_KEY
from consent.models import AccessLog


def rows(**filters):
    """Return the access-log rows (oldest first) as (actor, customer, purpose, reference, action,
    fields, channel, outcome) tuples."""
    return list(
        AccessLog.objects.filter(**filters)
        .order_by("id")
        .values_list(
            "actor_id",
            "customer_id",
            "purpose",
            "reference",
            "action",
            "fields",
            "channel",
            "outcome",
        )
    )


def force_declaration(client, purpose, reference=""):
    """Put a declaration straight into the client's session (as if granted earlier)."""
    session = client.session
    now = time.time()
    session[SESSION_KEY] = {
        "purpose": purpose,
        "reference": reference,
        "declared_at": now,
        "last_seen": now,
    }
    session.save()
