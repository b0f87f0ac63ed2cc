"""System checks of the settings the rights clocks depend on."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone


@checks.register(checks.Tags.compatibility)
def check_public_holidays(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when ``PUBLIC_HOLIDAYS`` lists no day of this year; remind when next year is missing.

    Working-day clocks (acknowledging a data-subject request within 2 working days) skip the
    listed holidays; lunar-calendar holidays (Tết, Hùng Kings) move every year, so a year with
    no entries silently counts them as working days. An entry that is no ISO date is an error:
    every clock would fail on it.
    """
    years: set[int] = set()
    for day in settings.PUBLIC_HOLIDAYS:
        try:
            years.add(datetime.date.fromisoformat(str(day)).year)
        except ValueError:
            return [
                checks.Error(
                    f"PUBLIC_HOLIDAYS holds {day!r}, which is not an ISO date (YYYY-MM-DD).",
                    hint="Correct the PUBLIC_HOLIDAYS setting or environment variable.",
                    id="rights.E001",
                )
            ]
    this_year = timezone.localdate().year
    found: list[checks.CheckMessage] = []
    if this_year not in years:
        found.append(
            checks.Warning(
                f"PUBLIC_HOLIDAYS lists no public holiday in {this_year}: working-day clocks "
                "count this year's holidays as working days.",
                hint=(
                    "Add this year's Vietnamese public holidays (ISO dates) to PUBLIC_HOLIDAYS "
                    "in excelcrm/settings.py or the environment."
                ),
                id="rights.W001",
            )
        )
    if this_year + 1 not in years:
        # A reminder, not a warning: next year's lunar dates are often published late, and a
        # deploy check at --fail-level WARNING must not fail on the first day of December.
        found.append(
            checks.Info(
                f"PUBLIC_HOLIDAYS lists no public holiday in {this_year + 1} yet: add them before "
                "the year starts.",
                id="rights.I001",
            )
        )
    return found
