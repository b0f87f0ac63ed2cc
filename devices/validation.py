"""The API's small validation layer: read a JSON body and check it field by field.

Every failure becomes a ``Problem`` (400 with field errors, or 413), never an exception that
reaches Django as a 500.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.normalize import has_control_characters, normalize_name

from .models import OBSERVATION_SOURCES, PERMISSION_NAMES, PERMISSION_STATES, PLATFORMS
from .problems import FieldError, Problem, invalid
from .services import PermissionReport

# Phones' clocks drift: an observation may be this far ahead of the server's clock, or this far
# before the registration the server recorded.
OBSERVED_AT_MAX_AHEAD = timedelta(minutes=5)
INSTALL_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
PERMISSION_NAME_SET = frozenset(PERMISSION_NAMES)
ENTRY_KEYS = frozenset({"state", "observed_at", "source"})


def too_large() -> Problem:
    limit = settings.DEVICES_API_MAX_BODY_BYTES
    return Problem(
        status=413,
        title=_("The request body is too large."),
        detail=_("Send at most %(limit)d bytes.") % {"limit": limit},
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def read_json(request: HttpRequest) -> dict[str, Any]:
    """Return the request's JSON object body, or raise the 400/413 problem that describes why not.

    The size limit is checked on the declared Content-Length before reading, and on the bytes
    actually read.
    """
    limit = settings.DEVICES_API_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large()
    if request.content_type != "application/json":
        raise Problem(
            status=400,
            title=_("The request is not valid."),
            detail=_("Send the body as JSON with the header Content-Type: application/json."),
            type="tag:excelcrm.example,2026:problems/invalid-request",
        )
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large() from None
    if len(body) > limit:
        raise too_large()
    try:
        text = body.decode("utf-8")
        data = json.loads(text, parse_constant=_reject_constant)
        if "\\ud" in text.lower():
            # JSON escapes can spell lone UTF-16 surrogates ("\ud800"), which no valid text holds
            # and which cannot be stored or echoed back: refuse them as malformed.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError) as error:
        raise invalid(
            [FieldError("", _("The body is not valid JSON."), "malformed_json")],
            detail=_("The body is not valid JSON: %(error)s") % {"error": str(error)[:200]},
        ) from None
    if not isinstance(data, dict):
        raise invalid([FieldError("", _("The body must be a JSON object."), "type")])
    return data


class Checker:
    """Collects field errors while reading values out of a JSON object."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def error(self, pointer: str, detail: str, code: str) -> None:
        self.errors.append(FieldError(pointer, detail, code))

    def raise_if_errors(self) -> None:
        if self.errors:
            raise invalid(self.errors)

    def unknown_keys(
        self, data: dict[str, Any], allowed: set[str] | frozenset[str], pointer: str = ""
    ) -> None:
        for key in sorted(set(data) - allowed):
            self.error(f"{pointer}/{_escape(key)}", _("This field is not known."), "unknown")

    def text(
        self,
        data: dict[str, Any],
        key: str,
        *,
        pointer: str = "",
        max_length: int,
        required: bool = True,
        secret: bool = False,
    ) -> str | None:
        where = f"{pointer}/{key}"
        if key not in data:
            if required:
                self.error(where, _("This field is required."), "required")
            return None
        value = data[key]
        if not isinstance(value, str):
            self.error(where, _("This field must be a string."), "type")
            return None
        if secret:
            return value
        if has_control_characters(value):
            self.error(where, _("This field contains characters that are not allowed."), "control")
            return None
        value = normalize_name(value)
        if required and not value:
            self.error(where, _("This field is required."), "required")
            return None
        if len(value) > max_length:
            self.error(
                where,
                _("Use at most %(max)d characters.") % {"max": max_length},
                "max_length",
            )
            return None
        return value

    def choice(
        self, data: dict[str, Any], key: str, choices: tuple[str, ...], *, pointer: str = ""
    ) -> str | None:
        where = f"{pointer}/{key}"
        if key not in data:
            self.error(where, _("This field is required."), "required")
            return None
        value = data[key]
        if not isinstance(value, str) or value not in choices:
            self.error(
                where,
                _("Use one of: %(choices)s.") % {"choices": ", ".join(choices)},
                "invalid_choice",
            )
            return None
        return value

    def timestamp(self, data: dict[str, Any], key: str, *, pointer: str = "") -> datetime | None:
        where = f"{pointer}/{key}"
        if key not in data:
            self.error(where, _("This field is required."), "required")
            return None
        value = data[key]
        parsed = None
        if isinstance(value, str) and len(value) <= 40:
            try:
                parsed = parse_datetime(value)
            except ValueError:
                parsed = None
        if parsed is None or timezone.is_naive(parsed):
            self.error(
                where,
                _("Use an ISO 8601 date and time with a time zone, e.g. 2026-11-26T08:30:00Z."),
                "invalid_datetime",
            )
            return None
        return parsed


def _escape(key: str) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def token_request(data: dict[str, Any]) -> tuple[str, str, str]:
    """Return (email, password, name) from a token request body."""
    check = Checker()
    check.unknown_keys(data, {"email", "password", "name"})
    email = check.text(data, "email", max_length=254)
    password = check.text(data, "password", max_length=4096, secret=True)
    if password is not None and not password:
        check.error("/password", _("This field is required."), "required")
    name = check.text(data, "name", max_length=100, required=False) or ""
    check.raise_if_errors()
    return email or "", password or "", name


def device_request(data: dict[str, Any]) -> dict[str, str]:
    """Return the registration fields of a device from a request body."""
    check = Checker()
    check.unknown_keys(data, {"install_id", "platform", "model", "os_version", "app_version"})
    install_id = data.get("install_id")
    if "install_id" not in data:
        check.error("/install_id", _("This field is required."), "required")
    elif not isinstance(install_id, str) or not INSTALL_ID_RE.match(install_id):
        check.error(
            "/install_id",
            _("Use 1 to 64 letters, digits, dots, colons, hyphens or underscores."),
            "invalid",
        )
    values = {
        "platform": check.choice(data, "platform", PLATFORMS),
        "model": check.text(data, "model", max_length=100),
        "os_version": check.text(data, "os_version", max_length=40),
        "app_version": check.text(data, "app_version", max_length=40),
    }
    check.raise_if_errors()
    return {"install_id": install_id, **values}


def permissions_request(
    data: dict[str, Any], *, registered_at: datetime | None
) -> dict[str, PermissionReport]:
    """Return the five permission reports of a PUT body, checked against the device.

    With ``registered_at`` None, the reports are checked in every way but against the device's
    registration (``registered_by`` gives the time the device must have been registered by).
    """
    check = Checker()
    check.unknown_keys(data, {"permissions"})
    permissions = data.get("permissions")
    if "permissions" not in data:
        check.error("/permissions", _("This field is required."), "required")
    elif not isinstance(permissions, dict):
        check.error("/permissions", _("This field must be an object."), "type")
    check.raise_if_errors()

    now = timezone.now()
    reports: dict[str, PermissionReport] = {}
    check.unknown_keys(permissions, PERMISSION_NAME_SET, "/permissions")
    for name in PERMISSION_NAMES:
        where = f"/permissions/{name}"
        if name not in permissions:
            check.error(where, _("Report the state of this permission."), "required")
            continue
        entry = permissions[name]
        if not isinstance(entry, dict):
            check.error(where, _("This field must be an object."), "type")
            continue
        check.unknown_keys(entry, ENTRY_KEYS, where)
        state = check.choice(entry, "state", PERMISSION_STATES, pointer=where)
        source = check.choice(entry, "source", OBSERVATION_SOURCES, pointer=where)
        observed_at = check.timestamp(entry, "observed_at", pointer=where)
        if observed_at is not None:
            if observed_at > now + OBSERVED_AT_MAX_AHEAD:
                check.error(
                    f"{where}/observed_at",
                    _("This time is more than 5 minutes in the future."),
                    "future",
                )
                observed_at = None
            elif registered_at is not None and observed_at < registered_at - OBSERVED_AT_MAX_AHEAD:
                check.error(
                    f"{where}/observed_at",
                    _("This time is before the device was registered."),
                    "before_registration",
                )
                observed_at = None
        if state and source and observed_at:
            reports[name] = PermissionReport(state=state, observed_at=observed_at, source=source)
    check.raise_if_errors()
    return reports


def registered_by(reports: dict[str, PermissionReport]) -> datetime:
    """The latest registration of a device for which ``reports`` pass ``permissions_request``."""
    return min(report.observed_at for report in reports.values()) + OBSERVED_AT_MAX_AHEAD
