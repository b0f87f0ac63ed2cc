"""RFC 9457 problem details for the app API (``application/problem+json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Problem types beyond the plain HTTP status ("about:blank"); documented in the OpenAPI document.
INVALID_REQUEST = "tag:excelcrm.example,2026:problems/invalid-request"
POLICY_ACCEPTANCE_REQUIRED = "tag:excelcrm.example,2026:problems/policy-acceptance-required"


@dataclass
class FieldError:
    """One error in the request body; ``pointer`` is a JSON Pointer (RFC 6901) into it."""

    pointer: str
    detail: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "detail": str(self.detail), "code": self.code}


@dataclass
class Problem(Exception):
    """An API error answered as a problem details document."""

    status: int
    title: str
    detail: str = ""
    type: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # Extension members (RFC 9457 section 3.2), added to the body as they are.
    extensions: dict[str, Any] = field(default_factory=dict)

    def response(self, request: HttpRequest) -> HttpResponse:
        body: dict[str, Any] = {
            "type": self.type,
            "title": str(self.title),
            "status": self.status,
            "instance": request.path,
        }
        if self.detail:
            body["detail"] = str(self.detail)
        if self.errors:
            body["errors"] = [error.as_dict() for error in self.errors]
        body.update(self.extensions)
        response = HttpResponse(
            json.dumps(body),  # ASCII escapes: any text can be echoed safely
            status=self.status,
            content_type=f"{PROBLEM_CONTENT_TYPE}; charset=utf-8",
        )
        for name, value in self.headers.items():
            response[name] = value
        return response


def invalid(errors: list[FieldError], detail: str = "") -> Problem:
    """Return the 400 problem for a request body with these field errors."""
    return Problem(
        status=400,
        title=_("The request is not valid."),
        detail=detail or _("Correct the fields listed in errors and send the request again."),
        type=INVALID_REQUEST,
        errors=errors,
    )


def unauthorized(detail: str) -> Problem:
    return Problem(
        status=401,
        title=_("Authentication required."),
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="excelcrm"'},
    )


def not_found() -> Problem:
    return Problem(
        status=404,
        title=_("Not found."),
        detail=_("There is no such resource for this account."),
    )


def policy_acceptance_required(request: HttpRequest) -> Problem:
    """Return the 403 problem telling the app to send the customer to the new policy."""
    accept_url = request.build_absolute_uri(reverse("accounts:policy_accept"))
    return Problem(
        status=403,
        title=_("Accept the new privacy policy first."),
        detail=_(
            "A new version of the privacy policy was published. Sign in at %(url)s, read it "
            "and accept it; the app works again once it is accepted."
        )
        % {"url": accept_url},
        type=POLICY_ACCEPTANCE_REQUIRED,
        extensions={"code": "policy_acceptance_required", "accept_url": accept_url},
    )
