"""A fixed-window request counter on the cache (Redis in production)."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(*, name: str, ip: str, limit: int, period: int) -> bool:
    """Count one request from ``ip`` under ``name``; return False once ``limit`` is exceeded."""
    window = int(time.time() // period)
    key = f"ratelimit:{name}:{ip}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        count = 1
    return count <= limit
