"""Normalisation of the personal values customers type in."""

from __future__ import annotations

import unicodedata

from django.contrib.auth.base_user import BaseUserManager


def normalize_name(value: str) -> str:
    """Return ``value`` NFC-normalised, trimmed, with runs of whitespace collapsed to one space.

    NFC makes ``Nguyễn`` typed with combining marks equal to the precomposed form.
    """
    return " ".join(unicodedata.normalize("NFC", value).split())


def has_control_characters(value: str) -> bool:
    """Return True if ``value`` holds a control, format or unassigned/surrogate character."""
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in value)


def normalize_email(value: str) -> str:
    """Return the email trimmed and NFC-normalised, with its domain lowercased."""
    return BaseUserManager.normalize_email(unicodedata.normalize("NFC", value.strip()))
