"""Masks for personal values shown without an active purpose.

Masks keep just enough to recognise a record (``+84 9** *** 678``, ``n***@gmail.com``,
``Nguyễn V. A***``) and never enough to contact the person.
"""

from __future__ import annotations

from typing import Any

MASK = "***"


def mask_phone(value: Any) -> str:
    """Mask a phone number: country code, first digit and last three digits stay."""
    if not value:
        return ""
    text = str(value)
    digits = text[1:] if text.startswith("+") else text
    country = "84" if digits.startswith("84") else digits[:2]
    national = digits[len(country):]
    if len(national) < 5:
        return f"+{country} {MASK}"
    return f"+{country} {national[0]}** *** {national[-3:]}"


def mask_email(value: str) -> str:
    """Mask an email: first letter of the local part and the whole domain stay."""
    if not value:
        return ""
    local, _, domain = value.partition("@")
    return f"{local[:1]}{MASK}@{domain}" if domain else f"{local[:1]}{MASK}"


def mask_name(value: str) -> str:
    """Mask a person's name: family name, initials of middle names, first letter of the given."""
    parts = (value or "").split()
    if not parts:
        return ""
    if len(parts) == 1:
        return f"{parts[0][:1]}{MASK}"
    middle = [f"{p[:1]}." for p in parts[1:-1]]
    return " ".join([parts[0], *middle, f"{parts[-1][:1]}{MASK}"])


MASKERS = {
    "contact_person": mask_name,
    "phone": mask_phone,
    "email": mask_email,
}


def mask_value(field: str, value: Any) -> str:
    """Return ``value`` masked the way ``field`` is masked (``***`` for unknown fields)."""
    masker = MASKERS.get(field)
    return masker(value) if masker else MASK
