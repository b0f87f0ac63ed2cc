import datetime

from django.utils import timezone

from consent.workdays import add_working_days, is_working_day

HCM = datetime.timezone(datetime.timedelta(hours=7))


def test_two_working_days_from_friday_is_tuesday():
    friday = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=HCM)
    due = add_working_days(friday, 2)
    assert timezone.localtime(due).date() == datetime.date(2026, 11, 24)


def test_public_holidays_are_skipped(settings):
    settings.PUBLIC_HOLIDAYS = ["2026-09-02"]
    assert not is_working_day(datetime.date(2026, 9, 2))
    tuesday = datetime.datetime(2026, 9, 1, 9, 0, tzinfo=HCM)
    assert timezone.localtime(add_working_days(tuesday, 1)).date() == datetime.date(2026, 9, 3)
