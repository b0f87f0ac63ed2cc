"""Password rules that depend on who the password is for."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Set while a staff login is being created (createsuperuser): every password is a staff password.
_creating_staff: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "security_creating_staff", default=False
)


@contextmanager
def creating_staff() -> Iterator[None]:
    """Validate every password set meanwhile as a staff member's, and refuse to store one that
    fails (``createsuperuser``: its prompt checks a not-yet-staff user, ``--noinput`` checks
    nothing, and both let a weak password through otherwise)."""
    token = _creating_staff.set(True)
    try:
        yield
    finally:
        _creating_staff.reset(token)


def is_staff_like(user: Any) -> bool:
    return _creating_staff.get() or bool(user is not None and (
        getattr(user, "is_staff", False) or getattr(user, "is_superuser", False)))


class StaffMinimumLengthValidator:
    """Require at least ``min_length`` characters in a staff member's password."""

    def __init__(self, min_length: int = 10) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        if is_staff_like(user) and len(password) < self.min_length:
            raise ValidationError(
                ngettext(
                    "A staff password must contain at least %(min_length)d character.",
                    "A staff password must contain at least %(min_length)d characters.",
                    self.min_length,
                ),
                code="staff_password_too_short",
                params={"min_length": self.min_length},
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        """While a staff login is created, refuse (after the row is written, inside the
        command's transaction) a password that fails any validator, the prompt's bypass too."""
        if _creating_staff.get():
            from django.contrib.auth.password_validation import validate_password

            validate_password(password, user)

    def get_help_text(self) -> str:
        return _("Staff passwords must contain at least %(min_length)d characters.") % {
            "min_length": self.min_length
        }


def meets_staff_rules(user: Any, password: str) -> bool:
    """Return whether ``password`` passes every password validator for staff ``user``."""
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError:
        return False
    return True
