"""System checks of the settings the rights clocks depend on."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone


@checks.register(checks.Tags.compatibility)
def check_public_holidays(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn when ``PUBLIC_HOLIDAYS`` lists no day of this year or the next.

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
    missing = [year for year in (this_year, this_year + 1) if year not in years]
    if not missing:
        return []
    listed = ", ".join(str(year) for year in missing)
    return [
        checks.Warning(
            f"PUBLIC_HOLIDAYS lists no public holiday in {listed}: working-day clocks would "
            "count those holidays as working days.",
            hint=(
                "Add the Vietnamese public holidays of these years (ISO dates) to "
                "PUBLIC_HOLIDAYS in excelcrm/settings.py or the environment."
            ),
            id="rights.W001",
        )
    ]
