"""Working days are Vietnam's: weekends and public holidays (lunar ones too) off, swaps included."""

import datetime

import pytest
from django.utils import timezone

from consent.workdays import add_working_days, is_working_day

HCM = datetime.timezone(datetime.timedelta(hours=7))


def local_date(moment):
    return timezone.localtime(moment).date()


@pytest.fixture(autouse=True)
def no_extra_days_off(settings):
    settings.PUBLIC_HOLIDAYS = []


def test_two_working_days_from_a_plain_friday_is_tuesday():
    friday = datetime.datetime(2026, 11, 13, 10, 0, tzinfo=HCM)
    assert local_date(add_working_days(friday, 2)) == datetime.date(2026, 11, 17)


def test_vietnam_cultural_day_is_a_day_off_from_2026():
    # Friday 20 Nov 2026: Monday 23 is a working day, Tuesday 24 Nov is Vietnam Cultural Day.
    friday = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=HCM)
    assert local_date(add_working_days(friday, 2)) == datetime.date(2026, 11, 25)
    assert not is_working_day(datetime.date(2026, 11, 24))
    assert is_working_day(datetime.date(2025, 11, 24))  # a Monday, before the resolution


@pytest.mark.parametrize(
    ("day", "why"),
    [
        (datetime.date(2026, 2, 17), "Tết 2026"),
        (datetime.date(2027, 2, 8), "Tết 2027"),
        (datetime.date(2028, 1, 26), "Tết 2028: no list to keep current"),
        (datetime.date(2028, 4, 4), "Hùng Kings 2028 (10th day of the 3rd lunar month)"),
        (datetime.date(2026, 4, 27), "Hùng Kings 2026 observed (26 Apr is a Sunday)"),
        (datetime.date(2026, 8, 31), "2026's substituted day off before National Day"),
        (datetime.date(2027, 9, 2), "National Day"),
    ],
)
def test_public_holidays_are_no_working_days(day, why):
    assert day.weekday() < 5, why
    assert not is_working_day(day), why


def test_a_swapped_saturday_is_a_working_day():
    # 2026: Monday 31 Aug off (a bridge to National Day), Saturday 22 Aug worked instead.
    assert is_working_day(datetime.date(2026, 8, 22))
    assert not is_working_day(datetime.date(2026, 8, 29))  # an ordinary Saturday
    friday = datetime.datetime(2026, 8, 21, 9, 0, tzinfo=HCM)
    assert local_date(add_working_days(friday, 1)) == datetime.date(2026, 8, 22)


def test_the_setting_adds_days_off(settings):
    wednesday = datetime.date(2027, 6, 2)
    assert is_working_day(wednesday)
    settings.PUBLIC_HOLIDAYS = ["2027-06-02"]
    assert not is_working_day(wednesday)
    tuesday = datetime.datetime(2027, 6, 1, 9, 0, tzinfo=HCM)
    assert local_date(add_working_days(tuesday, 1)) == datetime.date(2027, 6, 3)
