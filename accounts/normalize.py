"""Normalisation of the personal values customers type in."""

from __future__ import annotations

import unicodedata

from django.contrib.auth.base_user import BaseUserManager
from django.db.models import Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact


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


def email_equals(path: str, email: str) -> Exact:
    """Return a filter matching the email at ``path`` to ``email`` as the database compares them.

    ``Lower()`` on both sides, in the database: what the ``accounts_user_email_ci_unique``
    constraint compares, so the lookup can use that constraint's index. ``iexact`` compares
    ``UPPER()`` on PostgreSQL, which uses no index and disagrees for a few letters (the Kelvin
    sign ``K``: its upper case is itself, its lower case is ``k``). Every lookup of a login by
    email goes through here: sign-in, password reset, staff and command lookups.
    """
    return Exact(Lower(path), Lower(Value(normalize_email(email))))
