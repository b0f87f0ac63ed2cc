"""Send a signed-in customer to the new policy version before any other account page; refuse
the app's API calls of a customer who must accept it first."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Count, Q, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.models import ConsentRecord, PolicyVersion
from consent.selectors import policy_current

API_PREFIX = "/api/v1/"
# The API calls a customer with a pending policy may still make: the API's description, and
# revoking the token in use (signing the app out). Getting a token needs no bearer token and is
# not refused either: the app needs one to learn that the policy must be accepted.
API_EXEMPT = (("openapi.json", None), ("auth/token/", "DELETE"))
POLICY_ACCEPTANCE_REQUIRED = "tag:excelcrm.example,2026:problems/policy-acceptance-required"


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


def token_needs_policy_acceptance(raw: str) -> bool:
    """Return True if the valid app token ``raw`` belongs to a customer who has not accepted the
    current policy version (one query; an unknown token is the API's own 401)."""
    from devices.services import token_hash

    current = PolicyVersion.objects.order_by("-effective_date", "-published_at").values("pk")[:1]
    counts = ConsentRecord.objects.filter(
        customer__user__api_tokens__key_hash=token_hash(raw),
        customer__user__api_tokens__revoked_at__isnull=True,
        customer__user__api_tokens__expires_at__gt=timezone.now(),
        customer__user__is_active=True,
        purpose__isnull=True,
        kind=ConsentRecord.Kind.ACCEPTED,
    ).aggregate(
        accepted=Count("pk"),
        current=Count("pk", filter=Q(policy_version=Subquery(current))),
    )
    return counts["accepted"] > 0 and counts["current"] == 0


def _bearer(request: HttpRequest) -> str:
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" else ""


def policy_acceptance_problem(request: HttpRequest) -> HttpResponse:
    """Return the API's 403 problem+json telling the app to send the customer to the policy."""
    from devices.problems import Problem

    accept_url = request.build_absolute_uri(reverse("accounts:policy_accept"))
    response = Problem(
        status=403,
        title=_("Accept the new privacy policy first."),
        detail=_(
            "A new version of the privacy policy was published. Sign in at %(url)s, read it "
            "and accept it; the app works again once it is accepted."
        )
        % {"url": accept_url},
        type=POLICY_ACCEPTANCE_REQUIRED,
    ).response(request)
    body = json.loads(response.content)
    body.update(code="policy_acceptance_required", accept_url=accept_url)
    response.content = json.dumps(body)
    return response


class PolicyAcceptanceMiddleware:
    """Redirect customers with a pending policy version from /account/ pages to the accept page;
    answer their app's /api/v1/ calls with a 403 problem (code ``policy_acceptance_required``).

    Sign-in, sign-out, password reset and the accept page itself stay reachable, and so do the
    API's description and token revocation.
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
        elif path.startswith(API_PREFIX) and not self._api_exempt(request):
            raw = _bearer(request)
            if raw and apps.is_installed("devices") and token_needs_policy_acceptance(raw):
                return policy_acceptance_problem(request)
        return self.get_response(request)

    def _exempt(self, path: str) -> bool:
        prefixes = [reverse(name) for name in self.EXEMPT_NAMES]
        prefixes.append("/account/reset/")
        return any(path.startswith(prefix) for prefix in prefixes)

    def _api_exempt(self, request: HttpRequest) -> bool:
        rest = request.path_info[len(API_PREFIX) :]
        return any(rest == path and method in (None, request.method) for path, method in API_EXEMPT)
