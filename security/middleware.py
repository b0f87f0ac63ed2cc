"""Request-level defences: rate limits, session timeouts and two factors for staff pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from consent.middleware import client_ip

from . import ratelimit, services
from .selectors import has_confirmed_device
from .signals import ended_user_ids

SESSION_STARTED_KEY = "_security_started_at"
SESSION_ACTIVITY_KEY = "_security_last_activity"
SESSION_REGISTERED_KEY = "_security_registered_key"
# Set at a staff sign-in whose password fails the staff rules (security/signals.py).
PASSWORD_CHANGE_KEY = "_security_password_change_required"
# Write the activity stamp at most this often, so that not every request saves the session.
ACTIVITY_RESOLUTION_SECONDS = 60


class RateLimitMiddleware:
    """Answer 429 (a friendly page) when one IP address POSTs too often to a limited path.

    The rules are the setting ``RATE_LIMITS``: ``(name, path regex, requests, seconds)``; the
    address is ``consent.middleware.client_ip`` (behind a trusted proxy, the forwarded one).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    @cached_property
    def rules(self) -> list[tuple[str, re.Pattern[str], int, int]]:
        return [(name, re.compile(pattern), limit, period)
                for name, pattern, limit, period in settings.RATE_LIMITS]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            for name, pattern, limit, period in self.rules:
                if pattern.search(request.path_info) and not ratelimit.hit(
                    name=name, ip=client_ip(request) or "", limit=limit, period=period
                ):
                    from .views import rate_limited

                    return rate_limited(request)
        return self.get_response(request)


class ApiServerErrorMiddleware:
    """Answer a server error under ``/api/`` as problem+json (RFC 9457), not the HTML 500 page.

    The error has already been logged and emailed (scrubbed) by Django when the response reaches
    this middleware; only its body and content type change (the same response object, so Django
    does not log it a second time). With ``DEBUG`` on, the technical page stays.
    """

    prefix = "/api/"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code >= 500 and request.path_info.startswith(self.prefix)
                and not settings.DEBUG and not response.streaming
                and not response.get("Content-Type", "").startswith("application/problem+json")):
            from devices.problems import Problem

            problem = Problem(
                status=response.status_code,
                title=_("Something went wrong"),
                detail=_("The request could not be handled because of an error on our side. "
                         "Try again in a few minutes."),
            ).response(request)
            response.content = problem.content
            response["Content-Type"] = problem["Content-Type"]
        return response


def session_limits(user) -> tuple[int, int | None]:
    """Return (idle seconds, absolute seconds or None) for this user's sessions."""
    if user.is_staff or user.is_superuser:
        return settings.SESSION_IDLE_SECONDS_STAFF, settings.SESSION_ABSOLUTE_SECONDS_STAFF
    return settings.SESSION_IDLE_SECONDS_CUSTOMER, None


class SessionTimeoutMiddleware:
    """End a signed-in session after its idle time, and a staff session after its lifetime."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get(SESSION_STARTED_KEY, now)
            last = session.get(SESSION_ACTIVITY_KEY, now)
            idle, absolute = session_limits(user)
            if now - last > idle or (absolute is not None and now - started > absolute):
                logout(request)
                messages.info(request, _("Your session ended. Please sign in again."))
            else:
                if SESSION_STARTED_KEY not in session:
                    session[SESSION_STARTED_KEY] = started
                if now - session.get(SESSION_ACTIVITY_KEY, 0) >= ACTIVITY_RESOLUTION_SECONDS:
                    session[SESSION_ACTIVITY_KEY] = now
        token = ended_user_ids.set(frozenset())
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                if user.pk in ended_user_ids.get():
                    # This request changed its own user's privileges: its session ended with
                    # the others; flush it here so that the response does not save it again.
                    request.session.flush()
                else:
                    register_session(request)
        finally:
            ended_user_ids.reset(token)
        return response


def register_session(request: HttpRequest) -> None:
    """Record the session key of a signed-in user (again after a key change) for revocation."""
    session = request.session
    if session.session_key is None:
        session.save()
    if session.get(SESSION_REGISTERED_KEY) != session.session_key:
        services.session_register(user=request.user, session_key=session.session_key)
        session[SESSION_REGISTERED_KEY] = session.session_key


class StaffTwoFactorMiddleware:
    """Let only staff verified by a second factor into /admin/ and /audit/.

    Anyone not signed in as staff is sent to the admin sign-in (which asks for the one-time code);
    staff signed in with a password alone are sent to verify a code, or to enrol a device first.
    The admin sign-in and sign-out pages themselves stay reachable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if any(path.startswith(prefix) for prefix in settings.OTP_REQUIRED_PATH_PREFIXES):
            if path not in (reverse("admin:login"), reverse("admin:logout")):
                response = self.check(request)
                if response is not None:
                    return response
        return self.get_response(request)

    def check(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        next_query = urlencode({"next": request.get_full_path()})
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect(f"{reverse('admin:login')}?{next_query}")
        if user.is_verified():
            return self.password_change_required(request)
        if has_confirmed_device(user=user):
            return redirect(f"{reverse('security:verify')}?{next_query}")
        return redirect(f"{reverse('security:enrol')}?{next_query}")

    def password_change_required(self, request: HttpRequest) -> HttpResponse | None:
        """Send staff whose password fails the staff rules to change it before anything else."""
        required = request.session.get(PASSWORD_CHANGE_KEY)
        if required is None:
            return None
        if required != request.user.get_session_auth_hash():  # changed since: done
            del request.session[PASSWORD_CHANGE_KEY]
            return None
        if request.path_info in (reverse("admin:password_change"),
                                 reverse("admin:password_change_done")):
            return None
        messages.warning(request, _(
            "Your password does not meet the rules for staff passwords. Choose a new one before "
            "you continue."))
        return redirect(reverse("admin:password_change"))
