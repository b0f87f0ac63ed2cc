"""Open the access context for each request and run the view in one transaction."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from . import access
from .context import AccessContext, Channel, bind_context
from .declaration import declaration_get

_CHANNEL_PREFIXES = (
    ("/admin/", Channel.ADMIN),
    ("/audit/", Channel.AUDIT),
    ("/api/", Channel.API),
)


def channel_for_path(path: str) -> str:
    for prefix, channel in _CHANNEL_PREFIXES:
        if path.startswith(prefix):
            return channel
    return Channel.PORTAL


def _valid_ip(value: str) -> str | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return None if getattr(address, "scope_id", None) else str(address)


def client_ip(request: HttpRequest) -> str | None:
    """Return the client's address: the one place that decides it (rate limits, lockout, logs).

    With ``TRUSTED_PROXY_COUNT`` = N > 0 (the portal runs behind N reverse proxies, each appending
    the address it received the request from to ``X-Forwarded-For``), the client is the N-th entry
    from the right; entries further left were written by the client and are never trusted. With
    no trusted proxy (the default) the header is ignored: anyone could send it. A missing, short
    or malformed header falls back to ``REMOTE_ADDR``.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR") or "")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
        if len(entries) >= proxies:
            return _valid_ip(entries[-proxies]) or remote
    return remote


class AccessContextMiddleware:
    """Bind an ``AccessContext`` to the request and wrap the view in one transaction.

    The access-log rows the view queues are written in one batch at the end of that transaction,
    so a rolled-back request leaves no rows for changes that did not happen; denied attempts are
    written even then. Template responses are rendered inside the transaction so that accesses
    made while rendering are logged too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Always ours: a client-chosen id could forge or merge rows of the access log.
        request_id = uuid.uuid4().hex
        declaration = declaration_get(request)
        ctx = AccessContext(
            actor=getattr(request, "user", None),
            channel=channel_for_path(request.path_info),
            purpose=declaration.purpose if declaration else None,
            reference=declaration.reference if declaration else "",
            request_id=request_id,
            ip=client_ip(request),
        )
        request.access_context = ctx
        with bind_context(ctx):
            response = self.get_response(request)
            if ctx.pending:  # rows from a view that manages its own transactions
                with transaction.atomic():
                    access.flush(ctx)
        response.headers["X-Request-ID"] = request_id
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        ctx: AccessContext = request.access_context
        if "default" in getattr(view_func, "_non_atomic_requests", set()):
            # Views marked transaction.non_atomic_requests (the health check) manage their own.
            return None
        with access.logged_transaction(ctx):
            response = view_func(request, *args, **kwargs)
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                response = render()
        return response
