"""System checks of the settings the rights clocks depend on."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_public_holidays(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An extra day off in ``PUBLIC_HOLIDAYS`` that is no ISO date is an error: every
    working-day clock (``consent.workdays``) would fail on it.

    Vietnam's own public holidays come from the ``holidays`` package, for every year: there is
    no yearly list to keep current, only the package (``requirements.txt``).
    """
    for day in settings.PUBLIC_HOLIDAYS:
        try:
            datetime.date.fromisoformat(str(day))
        except ValueError:
            return [
                checks.Error(
                    f"PUBLIC_HOLIDAYS holds {day!r}, which is not an ISO date (YYYY-MM-DD).",
                    hint="Correct the PUBLIC_HOLIDAYS setting or environment variable.",
                    id="rights.E001",
                )
            ]
    return []
