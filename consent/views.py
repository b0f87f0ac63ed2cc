"""The privacy policy pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from .models import PolicyVersion
from .selectors import policy_current, policy_get, policy_list, purpose_list


def _render_policy(request: HttpRequest, version: PolicyVersion) -> HttpResponse:
    language = "en" if (get_language() or "vi").startswith("en") else "vi"
    current = policy_current()
    return render(
        request,
        "consent/policy.html",
        {
            "version": version,
            "is_current": version.pk == current.pk,
            "current": current,
            "text": version.text_for(language),
            "sha256": version.sha256_for(language),
            "versions": policy_list(),
            "purposes": purpose_list(),
        },
    )


def policy(request: HttpRequest) -> HttpResponse:
    return _render_policy(request, policy_current())


def policy_version(request: HttpRequest, label: str) -> HttpResponse:
    try:
        version = policy_get(label=label)
    except PolicyVersion.DoesNotExist as exc:
        raise Http404 from exc
    return _render_policy(request, version)
