"""Working-day arithmetic for legal clocks (complaints, data-subject requests).

Working days skip Saturdays, Sundays and the Vietnamese public holidays listed in the setting
``PUBLIC_HOLIDAYS`` (ISO dates). Deadlines are computed in the display time zone and stored in UTC.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone


def holidays() -> frozenset[datetime.date]:
    return frozenset(datetime.date.fromisoformat(day) for day in settings.PUBLIC_HOLIDAYS)


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in holidays()


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """Return the moment ``days`` working days after ``start`` (same local time of day)."""
    local = timezone.localtime(start)
    day = local.date()
    off = holidays()
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def add_calendar_days(start: datetime.datetime, days: int) -> datetime.datetime:
    return start + datetime.timedelta(days=days)
