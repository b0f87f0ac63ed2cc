"""The email message notices are sent as: Django's ``EmailMessage``, built more cheaply.

A run sends thousands of messages that share a handful of subjects (one per plan, expiry date and
language, or one per announcement and language). Encoding a Vietnamese subject as RFC 2047 words
cost a fifth of a run's CPU, paid again for every message; here it is paid once per subject. The
header is exactly the one Django writes (``forbid_multi_line_headers``, which also refuses a
subject with a newline).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import forbid_multi_line_headers


@functools.lru_cache(maxsize=1024)
def subject_header(subject: str, encoding: str) -> str:
    """Return the ``Subject`` header value Django writes for ``subject`` in ``encoding``."""
    return forbid_multi_line_headers("Subject", subject, encoding)[1]


class NoticeMessage(EmailMessage):
    """An ``EmailMessage`` whose Subject header is encoded once per distinct subject."""

    def message(self):  # noqa: ANN201  (Django's signature)
        subject = self.subject
        header = subject_header(str(subject), self.encoding or settings.DEFAULT_CHARSET)
        self.subject = ""
        try:
            msg = super().message()
        finally:
            self.subject = subject
        msg.replace_header("Subject", header)
        return msg
