"""Second-factor enrolment and verification, and the lockout and rate-limit pages."""

from __future__ import annotations

import json
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from . import services
from .forms import EnrolForm, VerifyForm
from .selectors import has_confirmed_device, recovery_codes_left

RECOVERY_CODES_SESSION_KEY = "_security_new_recovery_codes"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return reverse("admin:index")


def _staff_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_staff:
        return HttpResponseForbidden()
    return None


@never_cache
@login_required(login_url="admin:login")
def enrol(request: HttpRequest) -> HttpResponse:
    """Show the QR code of a new authenticator and confirm it with its first code."""
    if (denied := _staff_only(request)) is not None:
        return denied
    if has_confirmed_device(user=request.user) and not request.user.is_verified():
        # A device exists: adding another needs that device first.
        return redirect(f"{reverse('security:verify')}?next={reverse('security:enrol')}")
    device = services.totp_enrolment_start(user=request.user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.totp_enrolment_confirm(
            user=request.user, device=device, token=form.cleaned_data["token"]
        )
        if codes is None:
            form.add_error("token", EnrolForm.wrong_code_message)
        else:
            request.session.cycle_key()  # a new session key for the newly verified session
            otp_login(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            return redirect(f"{reverse('security:recovery_codes')}?next={_next_url(request)}")
    return render(request, "security/enrol.html", {
        "form": form,
        "secret": device_secret_base32(device),
        "next": _next_url(request),
    })


def device_secret_base32(device: Any) -> str:
    """Return the device key in the base32 form authenticator apps accept for manual entry."""
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


@never_cache
@login_required(login_url="admin:login")
def enrol_qr(request: HttpRequest) -> HttpResponse:
    """Return the pending authenticator's otpauth:// address as an SVG QR code (drawn here)."""
    if (denied := _staff_only(request)) is not None:
        return denied
    if has_confirmed_device(user=request.user) and not request.user.is_verified():
        return HttpResponseForbidden()
    device = services.totp_enrolment_start(user=request.user)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return HttpResponse(image.to_string(), content_type="image/svg+xml")


@never_cache
@login_required(login_url="admin:login")
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Show new recovery codes once; a verified staff member may also issue a new set."""
    if not request.user.is_staff or not request.user.is_verified():
        return redirect("security:verify")
    if request.method == "POST":
        request.session[RECOVERY_CODES_SESSION_KEY] = services.recovery_codes_issue(
            user=request.user
        )
        return redirect("security:recovery_codes")
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    return render(request, "security/recovery_codes.html", {
        "codes": codes,
        "left": recovery_codes_left(user=request.user),
        "next": _next_url(request),
    })


@never_cache
@sensitive_post_parameters("otp_token")
@login_required(login_url="admin:login")
def verify(request: HttpRequest) -> HttpResponse:
    """Ask a staff member signed in with a password alone for a one-time code."""
    if (denied := _staff_only(request)) is not None:
        return denied
    if not has_confirmed_device(user=request.user):
        return redirect(f"{reverse('security:enrol')}?next={_next_url(request)}")
    form = VerifyForm(request.user, request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.session.cycle_key()
        otp_login(request, request.user.otp_device)
        return redirect(_next_url(request))
    return render(request, "security/verify.html", {"form": form, "next": _next_url(request)})


def lockout(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """The page shown while a username or address is locked out (the same for every account).

    The app API (paths under /api/) gets it as RFC 9457 problem details, as every API error;
    other clients asking for JSON get it as JSON.
    """
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    message = _("There were too many unsuccessful sign-in attempts. For your protection, "
                "signing in is paused for %(minutes)s minutes. Please try again later.")
    if request.path_info.startswith("/api/"):
        body = {"type": "about:blank", "title": str(_("Too many failed sign-in attempts.")),
                "status": 429, "detail": message % {"minutes": minutes},
                "instance": request.path, "code": "locked_out"}
        return HttpResponse(json.dumps(body, ensure_ascii=False), status=429,
                            content_type="application/problem+json; charset=utf-8")
    if "json" in request.headers.get("Accept", ""):
        return JsonResponse({"detail": message % {"minutes": minutes}, "code": "locked_out"},
                            status=429)
    return render(request, "security/locked_out.html", {"minutes": minutes}, status=429)


def rate_limited(request: HttpRequest) -> HttpResponse:
    """The page shown when one address sends too many signups or password resets."""
    return render(request, "security/rate_limited.html", status=429)
