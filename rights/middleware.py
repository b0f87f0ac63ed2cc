"""Send a signed-in customer to the new policy version before any other account page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from consent.models import ConsentRecord
from consent.selectors import policy_current


def needs_policy_acceptance(user) -> bool:
    """Return True if ``user`` is a customer who has not accepted the current policy version."""
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    current = policy_current()
    accepted = ConsentRecord.objects.filter(
        customer__user=user, purpose__isnull=True, kind=ConsentRecord.Kind.ACCEPTED
    )
    if not accepted.exists():
        # Not a customer (or a customer from before consent records): nothing to re-accept.
        return False
    return not accepted.filter(policy_version=current).exists()


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
