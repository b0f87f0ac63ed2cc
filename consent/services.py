"""Writes of policy versions and consent records."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from .models import ConsentRecord, PolicyVersion, Purpose, sha256_hex


@transaction.atomic
def policy_publish(
    *, label: str, effective_date: datetime.date, text_vi: str, text_en: str
) -> PolicyVersion:
    """Publish a new policy version. Published versions are never edited: publish a new one."""
    version = PolicyVersion(
        label=label,
        effective_date=effective_date,
        text_vi=text_vi,
        text_en=text_en,
        sha256_vi=sha256_hex(text_vi),
        sha256_en=sha256_hex(text_en),
    )
    version.full_clean()
    version.save()
    return version


@transaction.atomic
def consent_record(
    *,
    customer: Any,
    policy_version: PolicyVersion,
    language: str,
    ip_address: str | None,
    user_agent: str,
    kind: str = ConsentRecord.Kind.ACCEPTED,
    purpose: Purpose | None = None,
) -> ConsentRecord:
    """Append a consent record: the version and hash of the exact text shown, when, from where."""
    language = "en" if language.startswith("en") else "vi"
    record = ConsentRecord(
        customer=customer,
        policy_version=policy_version,
        purpose=purpose,
        kind=kind,
        text_sha256=policy_version.sha256_for(language),
        language=language,
        ip_address=ip_address,
        user_agent=user_agent[:1000],
    )
    record.full_clean()
    record.save()
    return record
