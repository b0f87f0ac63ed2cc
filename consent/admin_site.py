"""The portal's admin site: declaring a purpose, and autocomplete that masks and logs.

``django.contrib.admin`` is installed as ``consent.apps.PortalAdminConfig``, so ``admin.site`` is a
``PortalAdminSite`` and every ``@admin.register`` lands here.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import access
from .declaration import SESSION_KEY, declaration_end, declaration_set


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def purpose_denied_response(
    request: HttpRequest, *, reason: str, purpose: str, site: admin.AdminSite | None = None
) -> TemplateResponse:
    """Return the 403 page that explains why ``purpose`` may not be used here."""
    from .models import Purpose

    purpose_obj = Purpose.objects.filter(code=purpose).first()
    context = {
        **(site or admin.site).each_context(request),
        "title": _("Access refused"),
        "reason": reason,
        "purpose": purpose_obj,
        "purpose_code": purpose,
    }
    return TemplateResponse(request, "consent/admin/purpose_denied.html", context, status=403)


class PersonalAutocompleteJsonView(AutocompleteJsonView):
    """Admin autocomplete that asks the target model admin to mask, log or refuse each result."""

    def has_perm(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_perm(request, obj):
            return False
        check = getattr(self.model_admin, "autocomplete_check", None)
        if check is not None:
            check(request)  # raises PermissionDenied (after logging) for a refused purpose
        return True

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, str]:
        result = super().serialize_result(obj, to_field_name)
        text = getattr(self.model_admin, "autocomplete_text", None)
        if text is not None:
            result["text"] = text(self.request, obj)
        return result


class PortalAdminSite(admin.AdminSite):
    """Admin site with the purpose declaration pages and the declaration in every page's header."""

    site_header = gettext_lazy("ExcelCRM staff admin")
    site_title = gettext_lazy("ExcelCRM staff admin")
    index_title = gettext_lazy("Administration")

    def get_urls(self) -> list[Any]:
        return [
            path("purpose/", self.admin_view(self.purpose_declare_view), name="purpose_declare"),
            path("purpose/end/", self.admin_view(self.purpose_end_view), name="purpose_end"),
            *super().get_urls(),
        ]

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        context["access_declaration"] = self.declaration_summary(request)
        return context

    def declaration_summary(self, request: HttpRequest) -> dict[str, Any] | None:
        """Return the active declaration for the header (purpose, reference, idle expiry)."""
        from .models import Purpose

        ctx = getattr(request, "access_context", None)
        if ctx is None or not ctx.purpose:
            return None
        data = request.session.get(SESSION_KEY) or {}
        idle = settings.ACCESS_PURPOSE_IDLE_SECONDS
        return {
            "code": ctx.purpose,
            "purpose": Purpose.objects.filter(code=ctx.purpose).first(),
            "reference": ctx.reference,
            "idle_minutes": idle // 60,
            "expires_in": max(0, int(data.get("last_seen", time.time()) + idle - time.time())),
        }

    def purpose_declare_view(self, request: HttpRequest) -> HttpResponse:
        """Let staff declare (or change) the purpose they work under; refuse ungranted ones."""
        from .forms import PurposeDeclarationForm
        from .selectors import purposes_for_user, user_may_declare

        granted = list(purposes_for_user(request.user))
        data = request.POST if request.method == "POST" else None
        form = PurposeDeclarationForm(data, granted=granted)
        if request.method == "POST" and form.is_valid():
            code = form.cleaned_data["purpose"]
            if not user_may_declare(request.user, code):
                access.access_denied(subjects=[None], action=access.Action.VIEW, purpose=code)
                return purpose_denied_response(
                    request,
                    purpose=code,
                    site=self,
                    reason=_(
                        "None of your roles grants this purpose, so you may not use customers' "
                        "personal data for it. Ask an administrator if your work needs it."
                    ),
                )
            declaration_set(request, purpose=code, reference=form.cleaned_data["reference"])
            messages.success(request, _("Purpose declared. Personal data is now visible."))
            return HttpResponseRedirect(
                _safe_next(request, reverse("admin:index", current_app=self.name))
            )
        context = {
            **self.each_context(request),
            "title": _("Declare your purpose"),
            "form": form,
            "granted": granted,
            "next": request.GET.get("next") or request.POST.get("next") or "",
            "idle_minutes": settings.ACCESS_PURPOSE_IDLE_SECONDS // 60,
        }
        status = 400 if request.method == "POST" else 200
        return TemplateResponse(
            request, "consent/admin/purpose_declare.html", context, status=status
        )

    def purpose_end_view(self, request: HttpRequest) -> HttpResponse:
        """End the session's declaration (POST only); personal data is masked again."""
        if request.method != "POST":
            raise PermissionDenied
        declaration_end(request)
        messages.info(request, _("Purpose ended. Personal data is masked again."))
        return HttpResponseRedirect(
            _safe_next(request, reverse("admin:index", current_app=self.name))
        )

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        return PersonalAutocompleteJsonView.as_view(admin_site=self)(request)


__all__ = ["PortalAdminSite", "PersonalAutocompleteJsonView", "purpose_denied_response"]
