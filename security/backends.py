"""The lockout backend: first in AUTHENTICATION_BACKENDS, so it runs before any password hashing."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuse a locked-out username or IP address before the next backend hashes a password.

    Every login of the portal (admin, customer, API token) passes the request. A call without a
    request (the test client's ``login()``, a shell) has no IP address to count and is passed on.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None,
        password: str | None = None, **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """Return the sign-in name being tried, lower-cased, whichever key the caller used.

    Forms post ``username``; an API may authenticate with ``email=``. Lower-casing makes
    ``A@x.vn`` and ``a@x.vn`` count against the same account, as logins are case-insensitive.
    """
    for source in (credentials or {}, getattr(request, "POST", {}) or {}):
        for key in ("username", "email"):
            value = source.get(key)
            if value:
                return str(value).strip().lower()[:255]
    return None
