"""Notices are built as Django would build them, the subject header encoded once per subject."""

import pytest
from django.core.mail import BadHeaderError, EmailMessage

from notices.mail import NoticeMessage, subject_header


def headers_and_body(message):
    msg = message.message()
    return [(k, v) for k, v in msg.items() if k not in ("Date", "Message-ID")], msg.get_payload()


@pytest.mark.parametrize(
    "subject",
    ["[ExcelCRM] Giấy phép gói Pro sắp hết hạn vào 09/12/2026", "[ExcelCRM] Version 5.0", ""],
)
def test_the_message_is_the_one_django_builds(subject):
    args = (subject, "Kính gửi Nguyễn Văn An,\n\nNội dung.\n", None, ["an@example.com"])
    assert headers_and_body(NoticeMessage(*args)) == headers_and_body(EmailMessage(*args))
    assert NoticeMessage(*args).subject == subject


def test_the_subject_is_encoded_once_and_a_newline_is_still_refused():
    subject_header.cache_clear()
    for _ in range(3):
        NoticeMessage("Gia hạn giấy phép", "b", None, ["a@example.com"]).message()
    assert subject_header.cache_info().misses == 1 and subject_header.cache_info().hits == 2
    with pytest.raises(BadHeaderError):
        NoticeMessage("Gia hạn\nBcc: x@example.com", "b", None, ["a@example.com"]).message()
