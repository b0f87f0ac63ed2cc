"""The mobile app's JSON API under ``/api/v1/``: plain Django views over the devices services.

Each view is wrapped by ``endpoint``: CSRF-exempt (bearer tokens, no cookies), method check, bearer
authentication (which makes the token's user the actor of the access context), the policy
re-acceptance gate, and the mapping of every ``Problem`` to an RFC 9457 response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from consent import access
from rights.selectors import customer_needs_policy_acceptance

from . import selectors, services, validation
from .features import features_off
from .models import PERMISSION_NAMES, Device
from .openapi import openapi_document
from .problems import Problem, not_found, policy_acceptance_required, unauthorized

MAX_ID = 2**63 - 1


def iso(value: datetime | None) -> str | None:
    """Return a UTC timestamp as ISO 8601 with a ``Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _bearer(request: HttpRequest) -> str:
    # META, not request.headers: the app's hot path need not build the whole header mapping.
    scheme, _sep, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise unauthorized(_("Send the header Authorization: Bearer <token>."))
    return raw.strip()


def _authenticate(request: HttpRequest, *, gate: bool) -> Any:
    token = selectors.api_token_get_valid(raw=_bearer(request))
    customer = getattr(token.user, "customer", None) if token else None
    if token is None or customer is None:
        raise unauthorized(_("The token is unknown, expired or revoked: request a new one."))
    if gate and customer_needs_policy_acceptance(customer_id=customer.pk):
        raise policy_acceptance_required(request)
    # Token calls carry no session: the token's user is the actor (self-access, no purpose).
    request.access_context.actor = token.user
    request.api_token = token
    request.customer = customer
    return token


def _reports_checked(request: HttpRequest) -> dict[str, services.PermissionReport] | None:
    """The permission report of a PUT body if it is valid, apart from the device's registration
    time (checked by the statement that stores it); None if not (the view's full check, after
    authentication and the device lookup, says why)."""
    try:
        return validation.permissions_request(validation.read_json(request), registered_at=None)
    except Problem:
        return None


def _authenticate_with_device(request: HttpRequest, device_id: int) -> None:
    """Authenticate, load the URL's device with its permissions, log the call and store the
    reported permissions, in one statement when it can.

    The app's hot path (a device that has reported before, with a valid token and a valid
    report): one statement, the policy gate, on PostgreSQL the call's self-access row and the
    report's changes included (``device.report_changed``). Any other case falls back to the
    token lookup (401), the policy gate (403) and the device lookup (404), and the view checks
    and stores the report. Either way the call is logged from here on (written, or queued in
    the access context).
    """
    raw = _bearer(request)
    device = None
    if device_id <= MAX_ID:
        reports = _reports_checked(request)
        device = selectors.device_find_by_token(
            raw=raw,
            device_id=device_id,
            log_fields=services.PERMISSION_FIELDS,
            reports=reports,
        )
    if device is None:
        _authenticate(request, gate=True)
        device = _own_device(request, device_id, log=False)
    else:
        if device.customer.policy_pending:
            raise policy_acceptance_required(request)
        request.access_context.actor = device.customer.user
        request.customer = device.customer
    if not getattr(device, "call_logged", False):
        services.log_device_call(device, fields=services.PERMISSION_FIELDS)
    request.device = device


def endpoint(
    methods: dict[str, bool | str],
    *,
    async_commit: tuple[str, ...] = (),
    ungated: tuple[str, ...] = (),
    own_transactions: tuple[str, ...] = (),
) -> Callable:
    """Wrap an API view; ``methods`` maps each allowed method to what it needs.

    False: nothing; True: a valid token; ``"device"``: a valid token and the customer's device
    named by the URL's ``device_id`` (set as ``request.device``), the call logged. A customer who
    must accept a newer policy version is refused (403, ``policy_acceptance_required``) except for
    the methods named in ``ungated``.

    Each call runs in the request's transaction (``access.logged_transaction``, opened here),
    except for the methods named in ``own_transactions``, whose view opens its own: the app's
    permission report, which on PostgreSQL writes its access row and its changes in the statement
    that reads the device. ``async_commit`` names the methods whose transaction may commit
    asynchronously.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise Problem(
                        status=405,
                        title=_("Method not allowed."),
                        detail=_("Use one of: %(methods)s.") % {"methods": ", ".join(methods)},
                        headers={"Allow": ", ".join(methods)},
                    )
                needs = methods[request.method]
                if needs == "device":
                    _authenticate_with_device(request, kwargs["device_id"])
                elif needs:
                    _authenticate(request, gate=request.method not in ungated)
                if request.method in async_commit:
                    services.commit_asynchronously()
                return view(request, *args, **kwargs)
            except Problem as problem:
                return problem.response(request)

        @csrf_exempt
        @never_cache
        @wraps(view)
        @transaction.non_atomic_requests
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in own_transactions:
                return answer(request, *args, **kwargs)
            with access.logged_transaction(request.access_context):
                return answer(request, *args, **kwargs)

        return wrapper

    return decorator


def _own_device(request: HttpRequest, device_id: int, *, log: bool) -> Device:
    if device_id > MAX_ID:
        raise not_found()
    get = selectors.device_get_own if log else selectors.device_find_own
    try:
        return get(customer=request.customer, device_id=device_id)
    except Device.DoesNotExist:
        raise not_found() from None


def device_json(device: Device) -> dict[str, Any]:
    return {
        "id": device.pk,
        "install_id": device.install_id,
        "platform": device.platform,
        "model": device.model,
        "os_version": device.os_version,
        "app_version": device.app_version,
        "registered_at": iso(device.registered_at),
        # When the app last called about it: registration, a change, or a call that wrote nothing
        # to the device (``Device.seen_at``; the pages show the same).
        "last_seen": iso(device.seen_at),
    }


def permissions_json(device: Device) -> dict[str, Any]:
    stored = {p.name: p for p in device.permissions.all()}
    permissions = {}
    for name in PERMISSION_NAMES:
        perm = stored.get(name)
        permissions[name] = {
            "state": perm.state if perm else "not_asked",
            "observed_at": iso(perm.observed_at) if perm else None,
            "source": perm.source if perm else None,
        }
    return {
        "device_id": device.pk,
        "permissions": permissions,
        "features_off": [
            {
                "feature": off.feature.code,
                "label": str(off.feature.label),
                "permission": off.permission,
                "state": off.state,
                "reason": str(off.reason),
            }
            for off in features_off(stored)
        ],
    }


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


# Signing the app out (revoking the token in use) stays possible with a policy pending.
@endpoint({"POST": False, "DELETE": True}, ungated=("DELETE",))
def token(request: HttpRequest) -> HttpResponse:
    """POST: exchange email and password for a bearer token. DELETE: revoke the token in use."""
    if request.method == "DELETE":
        services.api_token_revoke(token=request.api_token, actor=request.api_token.user)
        return HttpResponse(status=204)
    email, password, name = validation.token_request(validation.read_json(request))
    # authenticate() with the request, so that failed attempts count toward the same lockout as
    # web sign-ins (the authentication backends and user_login_failed see them alike).
    user = authenticate(request=request, username=email, password=password)
    if user is None or getattr(user, "customer", None) is None:
        if getattr(request, "axes_locked_out", False):
            return Problem(
                status=429,
                title=_("Too many failed sign-in attempts."),
                detail=_("Sign-in is locked for a while. Try again later."),
            ).response(request)
        raise unauthorized(_("The email or password is wrong."))
    request.access_context.actor = user
    raw, created = services.api_token_create(user=user, name=name)
    return _json(
        {"token": raw, "token_type": "Bearer", "expires_at": iso(created.expires_at)}, status=201
    )


@endpoint({"POST": True}, async_commit=("POST",))
def devices(request: HttpRequest) -> HttpResponse:
    """Register this installation of the app (idempotent on ``install_id``)."""
    values = validation.device_request(validation.read_json(request))
    device, created = services.device_register(customer=request.customer, **values)
    return _json(device_json(device), status=201 if created else 200)


@endpoint({"GET": True, "DELETE": True}, async_commit=("GET",))
def device_detail(request: HttpRequest, device_id: int) -> HttpResponse:
    """GET: the device as registered. DELETE: unregister it (its history stays)."""
    if request.method == "DELETE":
        device = _own_device(request, device_id, log=False)
        services.device_unregister(device=device)
        return HttpResponse(status=204)
    device = _own_device(request, device_id, log=True)
    return _json(device_json(selectors.device_with_last_call(device)))


@endpoint({"GET": True, "PUT": "device"}, async_commit=("GET",), own_transactions=("PUT",))
def device_permissions(request: HttpRequest, device_id: int) -> HttpResponse:
    """GET: the stored state of the five permissions. PUT: report all five."""
    if request.method == "GET":
        return _json(permissions_json(_own_device(request, device_id, log=True)))
    device = request.device
    changed = getattr(device, "report_changed", None)
    if changed is None:
        # Not stored by the hot path's statement (``_authenticate_with_device``). The call is
        # logged already: a row only queued is written with the changes, in their transaction.
        reports = validation.permissions_request(
            validation.read_json(request), registered_at=device.registered_at
        )
        ctx = request.access_context
        with access.logged_transaction(ctx) if ctx.pending else nullcontext():
            changed = services.device_permissions_report(
                device=device, reports=reports, log_call=False
            )
    return _json({**permissions_json(device), "changed": changed})


@endpoint({"GET": False})
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 description of this API."""
    return HttpResponse(
        json.dumps(openapi_document(), ensure_ascii=False, indent=1),
        content_type="application/json",
    )


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Answer any other path under /api/ with a problem+json 404."""
    return not_found().response(request)
