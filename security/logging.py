"""Keep personal data out of logs, error pages and error emails.

- ``ScrubbingFormatter`` replaces email addresses and phone numbers in every formatted log line
  (message and traceback alike).
- ``ScrubbingAdminEmailHandler`` does the same to the subject and body of error emails.
- ``PersonalDataReporterFilter`` hides every POST value, cookie and frame variable from error
  reports, so a customer's name typed into a form never reaches an email.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.log import AdminEmailHandler
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

REDACTED = "[redacted]"
EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# International (+84…) and Vietnamese national (0…) phone numbers, with optional separators.
PHONE_RE = re.compile(r"(?<![\w/])(?:\+\d{1,3}|0)(?:[ .-]?\d){8,12}(?!\d)")


# Values the current request posted (names typed into a form): scrubbed from anything logged
# while it runs, since a name cannot be recognised by its shape. Read from the request when the
# first line is logged (most requests log nothing, and then the body is never parsed here).
_request_values: contextvars.ContextVar[Callable[[], tuple[str, ...]]] = contextvars.ContextVar(
    "security_request_values", default=tuple
)
MIN_SCRUBBED_VALUE_LENGTH = 4
NOT_SCRUBBED_FIELDS = frozenset({"csrfmiddlewaretoken", "next", "language", "accept_policy",
                                 "policy_version", "_save", "_continue"})


def scrub(text: str) -> str:
    """Return ``text`` without email addresses, phone numbers and this request's posted values."""
    for value in _request_values.get()():
        text = text.replace(value, REDACTED)
    return PHONE_RE.sub(REDACTED, EMAIL_RE.sub(REDACTED, text))


JSON_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _is_json(request: Any) -> bool:
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _json_strings(request: Any) -> set[str]:
    """Return the string values (at any depth) of a JSON body within the API's size limit.

    Bodies without a length or over the limit are not read here: the API refuses them (413)
    without logging their content.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return set()
    limit = min(settings.DEVICES_API_MAX_BODY_BYTES,
                settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.DEVICES_API_MAX_BODY_BYTES)
    if not 0 < length <= limit:
        return set()
    try:
        document = json.loads(request.body)
    except ValueError:  # malformed (the view answers 400): its quoted parts may still be logged
        text = request.body.decode("utf-8", "replace")
        return {match.group(1).strip() for match in _QUOTED_RE.finditer(text)
                if not text[match.end():].lstrip().startswith(":")}  # values, not keys
    found: set[str] = set()
    stack = [document]
    while stack:  # values only: the keys are the API's field names
        item = stack.pop()
        if isinstance(item, str):
            found.add(item.strip())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class PostedValuesScrubMiddleware:
    """Remember the request's posted values so that logs written meanwhile leave them out.

    Form fields and, for JSON bodies (the app API), every string in the document.
    """

    def __init__(self, get_response: Callable[[Any], Any]):
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _request_values.set(functools.cache(lambda: posted_values(request)))
        try:
            return self.get_response(request)
        finally:
            _request_values.reset(token)


def posted_values(request: Any) -> tuple[str, ...]:
    """The request's posted values worth scrubbing, longest first (so that a value containing
    another is replaced whole)."""
    values: set[str] = set()
    try:
        if request.method == "POST":
            values = {value.strip() for key, items in request.POST.lists()
                      if key not in NOT_SCRUBBED_FIELDS for value in items}
        if request.method in JSON_METHODS and _is_json(request):
            values |= _json_strings(request)
    except Exception:  # noqa: BLE001 - an unreadable body is the view's problem
        values = set()
    return tuple(sorted(
        (value for value in values if len(value) >= MIN_SCRUBBED_VALUE_LENGTH),
        key=len, reverse=True,
    ))


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class ScrubbingAdminEmailHandler(AdminEmailHandler):
    def send_mail(self, subject: str, message: str, *args: Any, **kwargs: Any) -> None:
        html = kwargs.get("html_message")
        if html:
            kwargs["html_message"] = scrub(html)
        super().send_mail(scrub(subject), scrub(message), *args, **kwargs)


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Hide all request data and local variables: any of them may hold personal data."""

    def get_post_parameters(self, request: Any) -> dict[str, str]:
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> list[tuple[str, str]]:
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_request_meta(self, request: Any) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        return {key: (self.cleansed_substitute if key in ("HTTP_COOKIE", "QUERY_STRING")
                      else value) for key, value in meta.items()}

    def get_safe_cookies(self, request: Any) -> dict[str, str]:
        return {key: self.cleansed_substitute for key in getattr(request, "COOKIES", {})}


class PersonalDataExceptionReporter(ExceptionReporter):
    """An error report without query-string values (a search term may be a customer's name)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if data.get("request_GET_items") is not None:
            data["request_GET_items"] = [
                (key, REDACTED) for key, _value in data["request_GET_items"]
            ]
        if "request_FILES_items" in data:
            data["request_FILES_items"] = []
        return data
