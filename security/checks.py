"""Deploy checks (``manage.py check --deploy``) for the security app's own settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

# Backends whose counters live in one process (or nowhere): each gunicorn worker would keep its
# own rate-limit and lockout-cache counts, multiplying every limit by the number of workers.
PER_PROCESS_CACHES = frozenset({
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
})


@register(Tags.caches, Tags.security, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when production counts rate limits in a per-process cache."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if settings.DEBUG or backend not in PER_PROCESS_CACHES:
        return []
    name = backend.rsplit(".", 1)[-1]
    return [Warning(
        f"The default cache is per-process ({name}): rate limits are counted separately in each "
        "worker process and are lost on restart.",
        hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/1.",
        id="excelcrm.W001",
    )]
