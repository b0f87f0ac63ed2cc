"""The customer's own devices page: what each device allows, what is off and why; app tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import selectors, services
from .features import FEATURES, features_off
from .models import PERMISSION_NAMES, ApiToken, PermissionName


@login_required(login_url="accounts:login")
@never_cache
def account_devices(request: HttpRequest) -> HttpResponse:
    """List the customer's devices with each permission's state and the features it turns off."""
    customer = getattr(request.user, "customer", None)
    if customer is None:
        return redirect("accounts:home")
    rows = []
    for device in selectors.device_list_own(customer=customer):
        stored = {p.name: p for p in device.permissions.all()}
        rows.append(
            {
                "device": device,
                "permissions": [(PermissionName(n), stored.get(n)) for n in PERMISSION_NAMES],
                "features_off": features_off(stored),
            }
        )
    return render(
        request,
        "devices/account_devices.html",
        {
            "rows": rows,
            "features": FEATURES,
            "tokens": selectors.api_token_list_own(user=request.user),
        },
    )


@login_required(login_url="accounts:login")
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the customer's own app tokens."""
    try:
        token = selectors.api_token_get_own(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    if services.api_token_revoke(token=token, actor=request.user):
        messages.success(request, _("The app token was revoked."))
    return redirect("devices:account")
