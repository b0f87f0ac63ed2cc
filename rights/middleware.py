"""Send a signed-in customer to the new policy version before any other account page.

The app's API applies the same rule when it authenticates a token (``devices.api``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .selectors import needs_policy_acceptance


class PolicyAcceptanceMiddleware:
    """Redirect customers with a pending policy version from /account/ pages to the accept page.

    Sign-in, sign-out, password reset and the accept page itself stay reachable.
    """

    EXEMPT_NAMES = (
        "accounts:login",
        "accounts:logout",
        "accounts:policy_accept",
        "accounts:password_reset",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/account/") and not self._exempt(path):
            if needs_policy_acceptance(request.user):
                target = reverse("accounts:policy_accept")
                return HttpResponseRedirect(f"{target}?{urlencode({'next': path})}")
        return self.get_response(request)

    def _exempt(self, path: str) -> bool:
        prefixes = [reverse(name) for name in self.EXEMPT_NAMES]
        prefixes.append("/account/reset/")
        return any(path.startswith(prefix) for prefix in prefixes)
