"""Password rules that depend on who the password is for."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def is_staff_like(user: Any) -> bool:
    return bool(user is not None and (getattr(user, "is_staff", False)
                                      or getattr(user, "is_superuser", False)))


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

    def get_help_text(self) -> str:
        return _("Staff passwords must contain at least %(min_length)d characters.") % {
            "min_length": self.min_length
        }
