"""Working-day arithmetic for legal clocks (complaints, data-subject requests).

Working days are Vietnam's, as the maintained ``holidays`` package knows them: Monday to Friday
except public holidays (Tết and Hùng Kings follow the lunar calendar; observed days off), and the
government's swaps (a weekday off in exchange for a Saturday worked: both sides). The extra ISO
dates of the setting ``PUBLIC_HOLIDAYS`` are days off too (a decree newer than the installed
package). Deadlines are computed in the display time zone and stored in UTC.
"""

from __future__ import annotations

import datetime
import functools

import holidays as holiday_calendars
from django.conf import settings
from django.utils import timezone

COUNTRY = "VN"


@functools.lru_cache(maxsize=64)
def _calendar(year: int) -> holiday_calendars.HolidayBase:
    return holiday_calendars.country_holidays(COUNTRY, years=year)


def extra_days_off() -> frozenset[datetime.date]:
    """The setting's days off (read each time: settings can change, tests override them)."""
    return frozenset(datetime.date.fromisoformat(str(day)) for day in settings.PUBLIC_HOLIDAYS)


def is_working_day(day: datetime.date) -> bool:
    """A weekday that is no public holiday, or a Saturday the government made a working day."""
    return _calendar(day.year).is_working_day(day) and day not in extra_days_off()


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """Return the moment ``days`` working days after ``start`` (same local time of day)."""
    local = timezone.localtime(start)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def add_calendar_days(start: datetime.datetime, days: int) -> datetime.datetime:
    return start + datetime.timedelta(days=days)
